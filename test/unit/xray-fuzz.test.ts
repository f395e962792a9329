import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeXrayLine, xrsChecksum } from '../../devices/xray-parcel-scanner/decode.ts';
import { decodeXrayJson } from '../../devices/xray-parcel-scanner/json.ts';
import { xrayParcelScanner } from '../../devices/xray-parcel-scanner/profile.ts';
import { seededRandom } from '../../simulators/physics.ts';
import { ERROR_CODES } from '../../src/core/errors.ts';
import { normaliseReading } from '../../src/core/normalise.ts';
import type { DecodedReading } from '../../src/core/reading.ts';

/**
 * 10^5 random and mutated frames per decoder: none may throw, each gives exactly one of
 * readings / ignored / a reject with a registered code, and every reading it lets through
 * must pass the agent's canonical validation (declared channels, values in range).
 */
const N = 100_000;
const dir = new URL('../../devices/xray-parcel-scanner/fixtures/', import.meta.url);
const lineSeeds = (JSON.parse(readFileSync(new URL('lines.json', dir), 'utf8')) as { cases: { line: string }[] }).cases.map((c) => c.line);
const jsonSeeds = (JSON.parse(readFileSync(new URL('json.json', dir), 'utf8')) as { cases: { payload: string }[] }).cases.map((c) =>
  JSON.parse(c.payload),
);
const origin = { station: 's1', device: 'x1', source: 'simulated' as const, profile: xrayParcelScanner };
const codes = new Set(Object.keys(ERROR_CODES));
const ALPHABET = '$*,.-0123456789ABCDEFXRSTAVINOCcox_\r\n \x00\xff';

function pick<T>(random: () => number, xs: readonly T[]): T {
  return xs[Math.floor(random() * xs.length)] as T;
}

/** Byte-level damage, or field-level damage with the checksum fixed so the content parser is reached. */
function mutateLine(random: () => number, line: string): string {
  const r = random();
  if (r < 0.1) return Array.from({ length: Math.floor(random() * 120) }, () => pick(random, [...ALPHABET])).join('');
  let s = line;
  const edits = 1 + Math.floor(random() * 3);
  for (let k = 0; k < edits; k++) {
    const i = Math.floor(random() * (s.length + 1));
    const op = random();
    if (op < 0.3) s = s.slice(0, i) + pick(random, [...ALPHABET]) + s.slice(i + 1);
    else if (op < 0.5) s = s.slice(0, i) + s.slice(i + 1);
    else if (op < 0.65) s = s.slice(0, i) + pick(random, [...ALPHABET]) + s.slice(i);
    else if (op < 0.8) s = s.slice(0, i);
    else {
      const f = s.slice(1, s.lastIndexOf('*') === -1 ? undefined : s.lastIndexOf('*')).split(',');
      const j = Math.floor(random() * f.length);
      f[j] = pick(random, [
        '',
        '0',
        '1',
        '999999',
        '99999.9999',
        '-1',
        'OK',
        'FAULT',
        'CCCCCCCC',
        '-',
        'x',
        'door',
        'none',
        '1e3',
        f[j] ?? '',
      ]);
      s = `$${f.join(',')}*00`;
    }
  }
  // Most mutants get a valid checksum, or nearly all would stop at RS_ERR_FRAME_CHECKSUM.
  if (random() < 0.7 && s.startsWith('$') && s.includes('*')) {
    const body = s.slice(1, s.lastIndexOf('*'));
    s = `$${body}*${xrsChecksum(body)}`;
  }
  return s;
}

const WEIRD: unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1e308,
  0.5,
  300,
  70000,
  '',
  'ok',
  'closed',
  [],
  ['open'],
  {},
  'x'.repeat(40),
  Number.MAX_SAFE_INTEGER,
];

function mutateJson(random: () => number, seed: Record<string, unknown>): Buffer {
  const r = random();
  if (r < 0.1) return Buffer.from(Array.from({ length: Math.floor(random() * 60) }, () => Math.floor(random() * 256)));
  const o: Record<string, unknown> = structuredClone(seed);
  const keys = [...Object.keys(o), 'extra', 'type', 'event', 'doors', 'panels'];
  const edits = 1 + Math.floor(random() * 3);
  for (let k = 0; k < edits; k++) {
    const key = pick(random, keys);
    const op = random();
    if (op < 0.2) delete o[key];
    else if (op < 0.4 && typeof o[key] === 'number') o[key] = (o[key] as number) * (random() * 4 - 1);
    else if (op < 0.5) o[key] = Array.from({ length: Math.floor(random() * 7) }, () => pick(random, ['closed', 'open', 'disagree', 1]));
    else o[key] = pick(random, WEIRD);
  }
  const text = JSON.stringify(o);
  if (r < 0.25) {
    const i = Math.floor(random() * text.length);
    return Buffer.from(text.slice(0, i) + pick(random, ['', '}', '"', ',', '\\']) + text.slice(i + 1));
  }
  return Buffer.from(text);
}

function checkResult(
  result: { readings: DecodedReading[] } | { ignored: string } | { reject: { code: string } },
  tally: Record<string, number>,
) {
  // Plain checks, not expect(): 2 × 10^5 expect calls would dominate the run time.
  const kinds = ['readings', 'ignored', 'reject'].filter((k) => k in result);
  if (kinds.length !== 1) throw new Error(`result has ${kinds.join('+') || 'nothing'}`);
  if ('reject' in result) {
    if (!codes.has(result.reject.code)) throw new Error(`unregistered code ${result.reject.code}`);
    tally[result.reject.code] = (tally[result.reject.code] ?? 0) + 1;
  } else if ('readings' in result) {
    tally.readings = (tally.readings ?? 0) + 1;
    for (const reading of result.readings) {
      const n = normaliseReading(reading, origin);
      if ('reject' in n) throw new Error(`decoder let through an invalid reading: ${n.reject.message}`);
    }
  } else tally.ignored = (tally.ignored ?? 0) + 1;
}

describe('xray decoders survive 10^5 hostile frames each', () => {
  it('decodeXrayLine', () => {
    const random = seededRandom(20240601);
    const tally: Record<string, number> = {};
    for (let i = 0; i < N; i++) {
      const line = mutateLine(random, pick(random, lineSeeds));
      checkResult(decodeXrayLine(line, 1_700_000_000_000, random() < 0.3 ? { doors: 2, panels: 1 } : {}), tally);
    }
    // The mutants must reach every stage, or the fuzz proves little.
    for (const k of [
      'readings',
      'RS_ERR_FRAME_SYNTAX',
      'RS_ERR_FRAME_CHECKSUM',
      'RS_ERR_FRAME_TRUNCATED',
      'RS_ERR_FRAME_UNKNOWN',
      'RS_ERR_FRAME_RANGE',
    ])
      expect(tally[k] ?? 0, k).toBeGreaterThan(50);
  });

  it('decodeXrayJson', () => {
    const random = seededRandom(20240602);
    const tally: Record<string, number> = {};
    for (let i = 0; i < N; i++) {
      const payload = mutateJson(random, pick(random, jsonSeeds));
      checkResult(decodeXrayJson(payload, 1_700_000_000_000, random() < 0.3 ? { doors: 2 } : {}), tally);
    }
    for (const k of ['readings', 'RS_ERR_PAYLOAD_JSON', 'RS_ERR_PAYLOAD_INVALID', 'RS_ERR_FRAME_RANGE', 'RS_ERR_FRAME_UNKNOWN'])
      expect(tally[k] ?? 0, k).toBeGreaterThan(50);
  });
});
