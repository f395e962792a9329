import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { profiles } from '../../devices/index.ts';
import { seededRandom } from '../../simulators/physics.ts';
import { ERROR_CODES, RadscreenError } from '../../src/core/errors.ts';
import { normaliseReading } from '../../src/core/normalise.ts';
import { type DeviceProfile, parseSessionOptions, type SessionContext } from '../../src/core/profile.ts';
import { parseN42Document } from '../../src/importers/n42.ts';

/**
 * Random and mutated input through every catalogued profile's session: nothing may throw, and
 * every frame must end as a reading, an ignored line (logged) or a counted reject with a known
 * code. Seeds are the profile's own fixtures, so a new family is fuzzed without edits here.
 * Sessions are not started: request/response families (gq-gmc, radpro) see the bytes as
 * unsolicited, which exercises their stray-byte path, not their reply decoders.
 */

const FRAMES_PER_PROFILE = 100_000;
/** Frames checked one by one (settle after each); the rest go in random chunks and are checked in total. */
const CHECKED_ONE_BY_ONE = 3_000;
const N42_MUTATIONS = 10_000;

/** Every line of every text fixture, every string in JSON fixtures, 32-byte slices of binaries. */
function seedsFor(profileId: string): Buffer[] {
  const dir = join('devices', profileId, 'fixtures');
  const seeds: Buffer[] = [];
  const strings = (v: unknown): void => {
    if (typeof v === 'string') seeds.push(Buffer.from(v, 'latin1'));
    else if (Array.isArray(v)) v.forEach(strings);
    else if (v && typeof v === 'object') Object.values(v).forEach(strings);
  };
  for (const name of readdirSync(dir)) {
    const bytes = readFileSync(join(dir, name));
    if (name.endsWith('.json')) strings(JSON.parse(bytes.toString('utf8')));
    else if (bytes.includes(0) || name.endsWith('.bin')) for (let i = 0; i < bytes.length; i += 32) seeds.push(bytes.subarray(i, i + 32));
    else for (const line of bytes.toString('latin1').split(/\r?\n/)) if (line.length > 0) seeds.push(Buffer.from(line, 'latin1'));
  }
  return seeds.length > 0 ? seeds : [Buffer.from('0')];
}

const DELIMITERS = ['\n', '\r', ',', '*', '$', '\0', ' ', '{', '}', '"', '>'].map((d) => Buffer.from(d, 'latin1'));

/** One frame: a seed, mutated or not, or pure noise. */
function makeFrame(rand: () => number, seeds: Buffer[]): Buffer {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)] as T;
  const noise = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256)));
  const seed = Buffer.from(pick(seeds));
  const at = () => Math.floor(rand() * (seed.length + 1));
  switch (Math.floor(rand() * 8)) {
    case 0:
      return seed;
    case 1: {
      for (let k = 1 + Math.floor(rand() * 3); k > 0 && seed.length > 0; k--) {
        const i = Math.floor(rand() * seed.length);
        seed[i] = (seed[i] as number) ^ (1 << Math.floor(rand() * 8));
      }
      return seed;
    }
    case 2:
      return seed.subarray(0, at());
    case 3:
      return Buffer.concat([seed, rand() < 0.5 ? seed : pick(seeds)]);
    case 4: {
      const i = at();
      return Buffer.concat([seed.subarray(0, i), noise(1 + Math.floor(rand() * 16)), seed.subarray(i)]);
    }
    case 5: {
      const i = at();
      return Buffer.concat([seed.subarray(0, i), pick(DELIMITERS), seed.subarray(i)]);
    }
    case 6:
      return noise(Math.floor(rand() * 300));
    default:
      return Buffer.concat([seed.subarray(0, at()), seed.subarray(at())]);
  }
}

/** A session on counters. `outcomes` is readings + ignored/flushed (debug-logged) + rejects. */
function instrument(profile: DeviceProfile) {
  const counts = { readings: 0, normalised: 0, ignored: 0, rejects: 0, unknownCodes: [] as string[] };
  const ctx: SessionContext = {
    now: () => 1_700_000_000_000,
    write: () => Promise.reject(new Error('offline')),
    emit(decoded) {
      counts.readings++;
      const out = normaliseReading(decoded, { station: 'fz', device: 'fz', source: 'replay', profile });
      if ('reading' in out) counts.normalised++;
      else if (!(out.reject.code in ERROR_CODES)) counts.unknownCodes.push(out.reject.code);
    },
    reject(r) {
      counts.rejects++;
      if (!(r.code in ERROR_CODES)) counts.unknownCodes.push(r.code);
    },
    options: parseSessionOptions(profile, {}),
    log: { debug: () => void counts.ignored++, info() {}, warn() {} },
  };
  const session = profile.createSession(ctx);
  const outcomes = () => counts.readings + counts.ignored + counts.rejects;
  return { session, counts, outcomes };
}

const settle = () => new Promise<void>((r) => setImmediate(r));
const hasContent = (frame: Buffer) => frame.toString('latin1').replace(/[\r\n]/g, '').length > 0;

describe('fuzz: every catalogued decoder survives random and mutated frames', () => {
  for (const [index, profile] of profiles.entries()) {
    it(`${profile.id}: ${FRAMES_PER_PROFILE} frames, none throws, each ends as a reading, an ignored line or a counted reject`, async () => {
      const rand = seededRandom(0xc0ffee + index);
      const seeds = seedsFor(profile.id);
      const { session, counts, outcomes } = instrument(profile);
      const nl = Buffer.from('\n');

      // One by one: a frame with content must produce at least one outcome of its own.
      for (let n = 0; n < CHECKED_ONE_BY_ONE; n++) {
        const frame = makeFrame(rand, seeds);
        const before = outcomes();
        const cut = Math.floor(rand() * (frame.length + 1));
        session.push(frame.subarray(0, cut));
        session.push(Buffer.concat([frame.subarray(cut), nl]));
        await settle();
        if (hasContent(frame) && outcomes() === before)
          expect.fail(`no outcome for frame ${n}: ${JSON.stringify(frame.toString('latin1'))}`);
      }

      // In bulk, in random chunks. A line-framed session gives at least one outcome per frame with
      // content; a request/response session with no request outstanding flushes each chunk as one
      // stray-bytes outcome. Either way the total is at least the smaller of the two counts.
      let withContent = 0;
      let pushes = 0;
      const before = outcomes();
      const batch: Buffer[] = [];
      for (let n = CHECKED_ONE_BY_ONE; n < FRAMES_PER_PROFILE; n++) {
        const frame = makeFrame(rand, seeds);
        if (hasContent(frame)) withContent++;
        batch.push(frame, nl);
        if (batch.length >= 2_000 || n === FRAMES_PER_PROFILE - 1) {
          const bytes = Buffer.concat(batch.splice(0));
          for (let i = 0; i < bytes.length; ) {
            const size = 1 + Math.floor(rand() * 4096);
            session.push(bytes.subarray(i, i + size));
            pushes++;
            i += size;
          }
          await settle();
        }
      }
      session.stop();
      expect(counts.unknownCodes).toEqual([]);
      expect(outcomes() - before).toBeGreaterThanOrEqual(Math.min(withContent, pushes));
      // Emitted readings must mostly survive normalisation: a decoder whose output the normaliser
      // always refuses is broken, not robust.
      if (counts.readings > 0) expect(counts.normalised).toBeGreaterThan(0);
    });
  }
});

describe('fuzz: the N42 parser on mutated XML', () => {
  it(`${N42_MUTATIONS} mutations of data_am241.n42 each decode or fail with RS_ERR_FRAME_SYNTAX`, () => {
    const am241 = readFileSync('src/importers/fixtures/data_am241.n42');
    const lines = am241.toString('latin1').split('\n');
    const seeds = [am241, ...lines.map((l) => Buffer.from(l, 'latin1'))];
    const rand = seededRandom(42);
    const tally = { ok: 0, rejected: 0 };
    for (let n = 0; n < N42_MUTATIONS; n++) {
      let doc: Buffer;
      const choice = rand();
      if (choice < 0.5) {
        // Mutate one line of the real document, keep the rest.
        const i = Math.floor(rand() * lines.length);
        const mutated = makeFrame(rand, [Buffer.from(lines[i] ?? '', 'latin1')]).toString('latin1');
        doc = Buffer.from([...lines.slice(0, i), mutated, ...lines.slice(i + 1)].join('\n'), 'latin1');
      } else if (choice < 0.7) {
        // Duplicate or drop a line (an element repeated or missing).
        const i = Math.floor(rand() * lines.length);
        const copy = [...lines];
        if (rand() < 0.5) copy.splice(i, 1);
        else copy.splice(i, 0, lines[i] ?? '');
        doc = Buffer.from(copy.join('\n'), 'latin1');
      } else doc = makeFrame(rand, seeds);
      try {
        const d = parseN42Document(doc.toString('utf8'));
        for (const r of d.readings)
          for (const v of Object.values(r.values)) if (typeof v === 'number') expect(Number.isFinite(v)).toBe(true);
        tally.ok++;
      } catch (e) {
        if (!(e instanceof RadscreenError) || e.code !== 'RS_ERR_FRAME_SYNTAX') throw e;
        expect(e.message.length).toBeGreaterThan(30);
        tally.rejected++;
      }
    }
    // Both outcomes must occur, or the mutations are not reaching the parser.
    expect(tally.ok).toBeGreaterThan(100);
    expect(tally.rejected).toBeGreaterThan(100);
  });
});
