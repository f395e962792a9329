import { describe, expect, it } from 'vitest';

interface Refusal {
  status: number;
  body: { code?: string; message?: string } | null;
}
// The console's own module: plain browser ESM (no types, no DOM use at import time), so it is
// imported by a path TypeScript does not follow.
const consoleModule = '../../dashboards/console/form-dialog.js';
const { describeRefusal } = (await import(consoleModule)) as { describeRefusal: (r: Refusal) => string };

/** A refused submit is shown in the dialog in words, not as the server's field paths. */
describe('console refusal wording', () => {
  it('names the form field instead of body.<path>', () => {
    const r = {
      status: 400,
      body: { code: 'RS_ERR_HTTP_BODY', message: 'body.due: 2026-01-01 must be after the calibration date 2026-12-07' },
    };
    expect(describeRefusal(r)).toBe('Next calibration due: 2026-01-01 must be after the calibration date 2026-12-07.');
  });

  it("rewrites zod's wording, one sentence per problem", () => {
    const message =
      'body.reference.certificate: Too small: expected string to have >=1 characters; body.factor: Too small: expected number to be >0';
    expect(describeRefusal({ status: 400, body: { code: 'RS_ERR_HTTP_BODY', message } })).toBe(
      'Certificate: is required. Factor: must be more than 0.',
    );
  });

  it('says what to do on a lost session, a role refusal and an unreachable server', () => {
    expect(describeRefusal({ status: 401, body: null })).toMatch(/^You are not logged in .* your input is kept\.$/);
    expect(describeRefusal({ status: 403, body: { message: 'operator only' } })).toBe('Your role may not do this (operator only).');
    expect(describeRefusal({ status: 0, body: { message: 'server unreachable (Failed to fetch)' } })).toMatch(
      /cannot be reached, so nothing was saved/,
    );
  });
});
