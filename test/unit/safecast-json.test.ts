import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeSafecastJson, LND_7318_CPM_PER_USVH } from '../../devices/safecast-json/decode.ts';
import { safecastJson } from '../../devices/safecast-json/profile.ts';
import { harness } from '../support/session-harness.ts';

type Fixture = {
  received_at: number;
  cases: { note: string; options?: Record<string, unknown>; payload: string; reading: { values: Record<string, number> } }[];
  rejected: { note: string; payload: string; code: string }[];
};
const fx = JSON.parse(readFileSync(new URL('../../devices/safecast-json/fixtures/telemetry.json', import.meta.url), 'utf8')) as Fixture;
const optionsOf = (o: Record<string, unknown> = {}) => {
  const parsed = safecastJson.optionsSchema?.parse(o) as { sensitivity: number; dose_tube: 'lnd_7318u' };
  return { sensitivity: parsed.sensitivity, doseTube: parsed.dose_tube };
};

describe('safecast-json decoder against fixtures/telemetry.json', () => {
  it.each(fx.cases.map((c) => [c.note, c] as const))('%s', (_note, c) => {
    expect(decodeSafecastJson(Buffer.from(c.payload), fx.received_at, optionsOf(c.options))).toEqual({ readings: [c.reading] });
  });

  it.each(fx.rejected.map((c) => [c.note, c] as const))('rejects %s', (_note, c) => {
    const r = decodeSafecastJson(Buffer.from(c.payload), fx.received_at, optionsOf());
    expect(r).toHaveProperty('reject.code', c.code);
  });

  it('defaults to 334 CPM per µSv/h from the unshielded LND 7318', () => {
    expect(LND_7318_CPM_PER_USVH).toBe(334);
    const r = decodeSafecastJson(Buffer.from('{"lnd_7318u":40,"lnd_7318c":10000}'), 0, optionsOf());
    expect(r).toHaveProperty(['readings', 0, 'values', 'dose_rate'], 40 / 334);
  });
});

describe('safecast-json session', () => {
  it('takes each push as one message, so a payload may contain newlines, and goes on after a reject', () => {
    const h = harness(safecastJson);
    h.session.push(Buffer.from('{\n  "lnd_7318u": 334,\n  "when_captured": "2020-01-01T00:00:00Z"\n}'));
    h.session.push(Buffer.from('{"lnd_7318u": 33'));
    h.session.push(Buffer.from('{"lnd_7318u": 668}'));
    expect(h.readings.map((r) => r.values.dose_rate)).toEqual([1, 2]);
    expect(h.rejects.map((r) => r.code)).toEqual(['RS_ERR_PAYLOAD_JSON']);
  });

  it('rejects an unknown option and a non-positive sensitivity', () => {
    expect(safecastJson.optionsSchema?.safeParse({ sensitivity: 0 }).success).toBe(false);
    expect(safecastJson.optionsSchema?.safeParse({ tube: 'x' }).success).toBe(false);
  });
});
