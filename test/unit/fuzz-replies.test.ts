import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  decodeCalibration,
  decodeCpm,
  decodeCps,
  decodeDateTime,
  decodeHistory,
  decodeSerial,
  decodeVersion,
  decodeVoltage,
} from '../../devices/gq-gmc/decode.ts';
import { describeModel, SERIES } from '../../devices/gq-gmc/models.ts';
import { decodeRadproDatalog } from '../../devices/radpro/datalog.ts';
import { parseRadproReply } from '../../devices/radpro/decode.ts';
import { seededRandom } from '../../simulators/physics.ts';
import { ERROR_CODES } from '../../src/core/errors.ts';

/**
 * The request/response families decode replies only while a request is outstanding, so the
 * stream fuzz (fuzz-decoders.test.ts) cannot reach their reply decoders. Here each reply decoder
 * gets 10^5 random and mutated replies directly: every one must end as a value or a registered
 * reject, never a throw.
 */
const N = 100_000;
const random = seededRandom(2026);
const int = (n: number) => Math.floor(random() * n);

function randomBytes(max: number): Buffer {
  return Buffer.from(Array.from({ length: int(max + 1) }, () => int(256)));
}

function mutate(seed: Buffer): Buffer {
  const b = Buffer.from(seed);
  switch (int(4)) {
    case 0: // bit flip
      if (b.length) {
        const at = int(b.length);
        b[at] = (b[at] as number) ^ (1 << int(8));
      }
      return b;
    case 1: // truncation
      return b.subarray(0, int(b.length + 1));
    case 2: // duplication
      return Buffer.concat([b, b.subarray(int(b.length + 1))]);
    default: // random insertion
      return Buffer.concat([b.subarray(0, int(b.length + 1)), randomBytes(4), b.subarray(int(b.length + 1))]);
  }
}

const codes = new Set(Object.keys(ERROR_CODES));
const settled = (r: { ok: true } | { ok: false; reject: { code: string } }) => r.ok || codes.has(r.reject.code);

describe('reply decoders under random and mutated replies', () => {
  it(`GQ GMC: ${N} replies across every decoder and model never throw`, () => {
    const models = SERIES.map((s) => describeModel(s));
    const seeds = [
      Buffer.from([0x00, 0x1c]),
      Buffer.from([0x00, 0x00, 0x00, 0x1c]),
      Buffer.from('GMC-320Re 4.22'),
      Buffer.from([0x18, 0x0b, 0x1d, 0x0c, 0x22, 0x05, 0xaa]),
      Buffer.from([0x26]),
    ];
    let rejects = 0;
    for (let i = 0; i < N; i++) {
      const reply = i % 2 ? randomBytes(12) : mutate(seeds[int(seeds.length)] as Buffer);
      const model = models[int(models.length)] as (typeof models)[number];
      const results = [
        decodeCpm(reply, model),
        decodeCps(reply, model),
        decodeVoltage(reply, model),
        decodeSerial(reply),
        decodeDateTime(reply, 'Europe/Berlin'),
        decodeVersion(reply),
        decodeCalibration(reply, model),
      ];
      for (const r of results) {
        expect(settled(r)).toBe(true);
        if (!r.ok) rejects++;
      }
    }
    expect(rejects).toBeGreaterThan(N); // most random replies are refused, not silently read
  });

  it('GQ GMC history: mutated flight.bin dumps decode or reject, never throw', () => {
    const flight = readFileSync(new URL('../../devices/gq-gmc/fixtures/flight.bin', import.meta.url));
    for (let i = 0; i < 120; i++) {
      const r = decodeHistory(mutate(mutate(flight)), { timeZone: 'UTC' });
      for (const rej of r.rejects) expect(codes.has(rej.code)).toBe(true);
      for (const s of r.samples) expect(Number.isFinite(s.ts) && Number.isFinite(s.value)).toBe(true);
    }
  });

  it(`Rad Pro: ${N} reply lines and mutated datalogs never throw`, () => {
    const seeds = ['OK 18.25', 'OK 1690000000', 'ERROR', 'OK time,tubePulseCount;;1690000000,1542;1690000060,1618'];
    for (let i = 0; i < N; i++) {
      const line = (i % 2 ? randomBytes(20) : mutate(Buffer.from(seeds[int(seeds.length)] as string))).toString('latin1');
      const r = parseRadproReply(line);
      expect('ok' in r || codes.has(r.reject.code)).toBe(true);
      if (i % 10 === 0) {
        const log = decodeRadproDatalog(line, 108.345);
        for (const rej of log.rejects) expect(codes.has(rej.code)).toBe(true);
        for (const rd of log.readings)
          expect(Object.values(rd.values).every((v) => typeof v !== 'number' || Number.isFinite(v))).toBe(true);
      }
    }
  });
});
