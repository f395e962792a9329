import { describe, expect, it } from 'vitest';
import { ReadingSchema } from '../../src/core/reading.ts';
import { FAST_CHECK_ENABLED, fastCheckReading } from '../../src/ingest/reading-fast-check.ts';

/**
 * The ingest's cheap reading check (src/ingest/reading-fast-check.ts) may only ever say "valid"
 * when zod's ReadingSchema says valid with the same data: otherwise an invalid reading could be
 * stored. Checked here against zod itself on valid readings and thousands of mutations.
 */

const valid = () => ({
  station: 'st-1',
  device: 'gm.01_a',
  profile: 'mqtt-json',
  kind: 'dosimeter',
  ts: 1_764_000_000_000,
  seq: 3,
  ts_source: 'agent',
  values: { cpm: 42, dose_rate: 0.24, alarm: false, state: 'ok' },
  quality: 'good',
  source: 'live',
  calibration_id: 'cal-7',
});

/** Values that break one field or another, including what JSON cannot carry (other callers might). */
const HOSTILE: unknown[] = [
  undefined,
  null,
  '',
  ' ',
  'a/b',
  'a b',
  '+',
  '#',
  'x'.repeat(65),
  'x'.repeat(33),
  'UPPER',
  '-lead',
  'dosimeter2',
  'Good',
  -1,
  -0,
  0,
  1.5,
  999,
  1000,
  2 ** 53,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  true,
  [],
  [1],
  {},
  { cpm: 1 },
  { '': 1 },
  { Cpm: 1 },
  { __proto__: 1 },
  { cpm: Number.NaN },
  { cpm: 'x'.repeat(33) },
  { cpm: null },
  { cpm: [1] },
  { cpm: { a: 1 } },
  Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`c${i}`, i])),
  Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`c${i}`, i])),
];

function agree(raw: unknown): void {
  const fast = fastCheckReading(structuredClone(raw));
  const zod = ReadingSchema.safeParse(structuredClone(raw));
  if (fast !== undefined) {
    expect(zod.success, `fast check accepted what zod refuses: ${JSON.stringify(raw)}`).toBe(true);
    expect(fast).toEqual(zod.data);
  }
}

describe('fastCheckReading never accepts what ReadingSchema refuses, and yields the same data', () => {
  it('is on, and takes the common valid readings (else it would be no shortcut)', () => {
    expect(FAST_CHECK_ENABLED).toBe(true);
    const r = valid();
    expect(fastCheckReading(r)).toBe(r);
    const { seq: _s, calibration_id: _c, ...minimal } = valid();
    expect(fastCheckReading(minimal)).toEqual(minimal);
    expect(ReadingSchema.safeParse(minimal).success).toBe(true);
  });

  it('agrees with zod when any one field is replaced by a hostile value or removed', () => {
    let checked = 0;
    for (const key of Object.keys(valid())) {
      for (const bad of HOSTILE) {
        agree({ ...valid(), [key]: bad });
        checked++;
      }
      const { [key as keyof ReturnType<typeof valid>]: _gone, ...without } = valid();
      agree(without);
      // A missing required field is refused by both (the fast check declines, zod refuses).
      if (!['seq', 'calibration_id'].includes(key)) expect(fastCheckReading(without)).toBeUndefined();
    }
    expect(checked).toBeGreaterThan(300);
  });

  it('declines extra keys (zod strips them: the copy is zod’s to make) and non-plain objects', () => {
    expect(fastCheckReading({ ...valid(), extra: 1 })).toBeUndefined();
    expect(fastCheckReading(JSON.parse(`{"__proto__":{"x":1},${JSON.stringify(valid()).slice(1)}`))).toBeUndefined();
    expect(fastCheckReading(Object.assign(Object.create({ inherited: 1 }), valid()))).toBeUndefined();
    expect(fastCheckReading([valid()])).toBeUndefined();
    expect(fastCheckReading({ ...valid(), values: JSON.parse('{"__proto__":1}') })).toBeUndefined();
  });

  it('agrees with zod on random mutations of pairs of fields', () => {
    let seed = 12345;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const keys = Object.keys(valid());
    for (let i = 0; i < 3000; i++) {
      const r: Record<string, unknown> = valid();
      for (let k = 0; k < 2; k++) r[keys[rnd(keys.length)] as string] = HOSTILE[rnd(HOSTILE.length)];
      agree(r);
    }
  });

  it('does not cache a refusal as a pass: an invalid id after a valid one is still declined', () => {
    expect(fastCheckReading(valid())).toBeDefined();
    expect(fastCheckReading({ ...valid(), station: 'st 1' })).toBeUndefined();
    expect(fastCheckReading({ ...valid(), device: 'a/b' })).toBeUndefined();
    expect(fastCheckReading({ ...valid(), profile: 'Mqtt' })).toBeUndefined();
  });
});
