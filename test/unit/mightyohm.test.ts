import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeMightyOhmLine, WARMUP_LINES } from '../../devices/mightyohm-geiger/decode.ts';
import { mightyohmGeiger } from '../../devices/mightyohm-geiger/profile.ts';
import { firmwareCpm, mightyohmLine } from '../../simulators/mightyohm-geiger.ts';
import { feedInChunks, harness, settle } from '../support/session-harness.ts';

interface Fixtures {
  cases: { line: string; values: Record<string, number | string> }[];
  ignored: string[];
  rejected: { line: string; code: string }[];
}
const fixtures: Fixtures = JSON.parse(readFileSync(new URL('../../devices/mightyohm-geiger/fixtures/lines.json', import.meta.url), 'utf8'));

describe('MightyOhm decoder', () => {
  it.each(fixtures.cases)('decodes $line', ({ line, values }) => {
    const r = decodeMightyOhmLine(line, 1000, { lines: WARMUP_LINES }, undefined);
    expect(r).toEqual({ readings: [{ ts: 1000, ts_source: 'agent', values, quality: 'good' }] });
  });

  it.each(fixtures.ignored)('ignores banner %s', (line) => {
    expect(decodeMightyOhmLine(line, 0, { lines: 0 })).toEqual({ ignored: line });
  });

  it.each(fixtures.rejected)('rejects $line as $code', ({ line, code }) => {
    const r = decodeMightyOhmLine(line, 0, { lines: 0 });
    expect('reject' in r && r.reject.code).toBe(code);
  });

  it('marks the first minute of SLOW lines as warming up, then good', () => {
    const state = { lines: 0 };
    const qualities = Array.from({ length: WARMUP_LINES + 1 }, () => {
      const r = decodeMightyOhmLine('CPS, 0, CPM, 21, uSv/hr, 0.11, SLOW', 0, state);
      return 'readings' in r ? r.readings[0]?.quality : undefined;
    });
    expect(qualities.slice(0, WARMUP_LINES).every((q) => q === 'suspect')).toBe(true);
    expect(qualities[WARMUP_LINES]).toBe('good');
  });

  it('recomputes dose rate from CPM when a sensitivity is configured', () => {
    const r = decodeMightyOhmLine('CPS, 1, CPM, 153, uSv/hr, 0.87, SLOW', 0, { lines: 99 }, 153);
    expect('readings' in r && r.readings[0]?.values.dose_rate).toBe(1);
  });
});

describe('MightyOhm session framing', () => {
  const stream = Buffer.from(
    [
      'mightyohm.com Geiger Counter 1.00',
      'http://mightyohm.com/geiger',
      ...fixtures.cases.map((c: { line: string }) => c.line),
      'garbage \u00ff\u0000 line',
      'CPS, 2, CPM, 40, uSv/hr, 0.22, SLOW',
    ]
      .map((l) => `${l}\r\n`)
      .join(''),
    'latin1',
  );

  it.each([[[1]], [[3, 7, 2]], [[64]], [[stream.length]]])('gives the same readings whatever the chunking %j', async (sizes) => {
    const h = harness(mightyohmGeiger);
    feedInChunks(h.session, stream, sizes);
    await settle();
    expect(h.readings.map((r) => r.values.cpm)).toEqual([22, 21, 34, 1500, 18000, 40]);
    expect(h.rejects.map((r) => r.code)).toEqual(['RS_ERR_FRAME_UNKNOWN']);
  });

  it('rejects an overlong line without a terminator and recovers at the next line', async () => {
    const h = harness(mightyohmGeiger);
    h.session.push(Buffer.alloc(300, 0x41));
    h.session.push(Buffer.from('\r\nCPS, 1, CPM, 22, uSv/hr, 0.12, SLOW\r\n'));
    await settle();
    await settle();
    expect(h.rejects.map((r) => r.code)).toEqual(['RS_ERR_FRAME_OVERSIZE']);
    expect(h.readings.map((r) => r.values.cpm)).toEqual([22]);
  });
});

describe('MightyOhm simulator arithmetic (firmware rules, written from docs/protocols.md)', () => {
  it('truncates like the firmware: CPM 28 prints 0.15, not 0.16', () => {
    expect(mightyohmLine(1, 28, 'SLOW')).toBe('CPS, 1, CPM, 28, uSv/hr, 0.15, SLOW\r\n');
    expect(mightyohmLine(300, 18000, 'INST')).toBe('CPS, 300, CPM, 18000, uSv/hr, 102.60, INST\r\n');
  });

  it('switches to FAST when the last 5 s × 12 exceed 1000 and to INST above 255 counts', () => {
    expect(firmwareCpm([1, 1, 1], 1)).toEqual({ cpm: 3, mode: 'SLOW' });
    expect(firmwareCpm([20, 20, 20, 20, 20], 20)).toEqual({ cpm: 1200, mode: 'FAST' });
    expect(firmwareCpm([255], 300)).toEqual({ cpm: 18000, mode: 'INST' });
  });

  it('every simulated line decodes to the counts it was built from (parity)', () => {
    for (const [cps, cpm] of [
      [0, 0],
      [5, 123],
      [255, 9999],
      [300, 18000],
    ] as const) {
      const line = mightyohmLine(cps, cpm, cps > 255 ? 'INST' : 'SLOW').trimEnd();
      const r = decodeMightyOhmLine(line, 0, { lines: 100 });
      expect('readings' in r && r.readings[0]?.values).toMatchObject({ cps, cpm, dose_rate: Math.floor((cpm * 57) / 100) / 100 });
    }
  });
});
