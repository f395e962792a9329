import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeXrayLine, xrsChecksum } from '../../devices/xray-parcel-scanner/decode.ts';
import { decodeXrayJson } from '../../devices/xray-parcel-scanner/json.ts';
import { xrayParcelScanner } from '../../devices/xray-parcel-scanner/profile.ts';
import { feedInChunks, harness, settle } from '../support/session-harness.ts';

const dir = new URL('../../devices/xray-parcel-scanner/fixtures/', import.meta.url);
type Case = { note: string; line: string; values: Record<string, unknown> };
type Rejected = { note: string; line: string; code: string };
const lines = JSON.parse(readFileSync(new URL('lines.json', dir), 'utf8')) as {
  cases: Case[];
  ignored: string[];
  rejected: Rejected[];
  layout: { options: Record<string, unknown>; line: string; code: string };
};
const json = JSON.parse(readFileSync(new URL('json.json', dir), 'utf8')) as {
  cases: { note: string; payload: string; values: Record<string, unknown> }[];
  rejected: { note: string; payload: string; code: string }[];
};
const T = 1_700_000_000_000;

describe('XRS checksum', () => {
  it('is the XOR of the bytes between $ and *, as two uppercase hex digits', () => {
    expect(xrsChecksum('XRS,FOO,52,1,2,3')).toBe('04');
    expect(xrsChecksum('')).toBe('00');
    expect(xrsChecksum('XRS,EVT,44,door,140.0,0.0,0.70,0.00,0,CO,C,1,0,1,0.20,0,OK,0.080,interlock,123457')).toBe('0E');
  });
});

describe('decodeXrayLine against fixtures/lines.json', () => {
  it.each(lines.cases.map((c) => [c.note, c] as const))('%s', (_note, c) => {
    const r = decodeXrayLine(c.line, T);
    expect(r).toEqual({ readings: [{ ts: T, ts_source: 'agent', values: c.values, quality: 'good' }] });
  });

  it('ignores INF lines', () => {
    for (const l of lines.ignored) expect(decodeXrayLine(l, T)).toHaveProperty('ignored');
  });

  it.each(lines.rejected.map((c) => [c.note, c] as const))('rejects: %s', (_note, c) => {
    const r = decodeXrayLine(c.line, T);
    expect('reject' in r && r.reject.code).toBe(c.code);
  });

  it('accepts a lowercase checksum and a trailing CR', () => {
    const line = lines.cases[2]?.line as string;
    expect(decodeXrayLine(`${line.replace(/\*0E$/, '*0e')}\r`, T)).toHaveProperty('readings');
  });

  it('rejects door and panel counts other than the configured layout', () => {
    const r = decodeXrayLine(lines.layout.line, T, lines.layout.options as { doors: number; panels: number });
    expect('reject' in r && r.reject.code).toBe(lines.layout.code);
    expect(decodeXrayLine(lines.cases[0]?.line as string, T, { doors: 2, panels: 1 })).toHaveProperty('readings');
  });
});

describe('xray-parcel-scanner session: every fixture through awkward chunks', () => {
  const stream = Buffer.from(
    [...lines.cases.map((c) => c.line), ...lines.ignored, ...lines.rejected.map((c) => c.line)].map((l) => `${l}\r\n`).join(''),
    'latin1',
  );
  it.each([[[1]], [[2, 3]], [[7, 1, 13]], [[64]], [[stream.length]]])('chunk sizes %j', async (sizes) => {
    const h = harness(xrayParcelScanner, {}, () => T);
    feedInChunks(h.session, stream, sizes);
    await settle();
    h.session.stop();
    expect(h.readings.map((r) => r.values)).toEqual(lines.cases.map((c) => c.values));
    expect(h.rejects.map((r) => r.code)).toEqual(lines.rejected.map((c) => c.code));
  });

  it('applies the doors/panels options and validates them strictly', async () => {
    const h = harness(xrayParcelScanner, { doors: 2, panels: 1 }, () => T);
    h.session.push(Buffer.from(`${lines.layout.line}\r\n${lines.cases[0]?.line}\r\n`, 'latin1'));
    await settle();
    expect(h.rejects.map((r) => r.code)).toEqual(['RS_ERR_FRAME_RANGE']);
    expect(h.readings).toHaveLength(1);
    const schema = xrayParcelScanner.optionsSchema;
    expect(schema?.safeParse({ doors: 2, panels: 0 }).success).toBe(true);
    expect(schema?.safeParse({ doors: 0 }).success).toBe(false);
    expect(schema?.safeParse({ doors: 2, colour: 'red' }).success).toBe(false);
  });

  it('declares every channel the fixtures produce, and nothing undeclared', () => {
    const keys = new Set(xrayParcelScanner.channels.map((c) => c.key));
    for (const c of lines.cases) for (const k of Object.keys(c.values)) expect(keys.has(k), k).toBe(true);
  });
});

describe('decodeXrayJson against fixtures/json.json', () => {
  it.each(json.cases.map((c) => [c.note, c] as const))('%s', (_note, c) => {
    expect(decodeXrayJson(Buffer.from(c.payload), T)).toEqual({
      readings: [{ ts: T, ts_source: 'agent', values: c.values, quality: 'good' }],
    });
  });

  it.each(json.rejected.map((c) => [c.note, c] as const))('rejects: %s', (_note, c) => {
    const r = decodeXrayJson(Buffer.from(c.payload), T);
    expect('reject' in r && r.reject.code).toBe(c.code);
  });

  it('gives the same reading as the equivalent line', () => {
    const fromLine = decodeXrayLine(lines.cases[0]?.line as string, T);
    expect(decodeXrayJson(Buffer.from(json.cases[0]?.payload as string), T)).toEqual(fromLine);
  });

  it('applies the layout', () => {
    const r = decodeXrayJson(Buffer.from(json.cases[0]?.payload as string), T, { doors: 3 });
    expect('reject' in r && r.reject.code).toBe('RS_ERR_FRAME_RANGE');
  });
});
