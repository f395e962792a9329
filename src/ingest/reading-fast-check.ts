import { DeviceKindSchema, QualitySchema, type Reading, ReadingSchema, SourceSchema } from '../core/reading.ts';
import { MAX_VALUES_PER_READING } from '../core/reading-contract.ts';

/**
 * A cheaper check of the canonical reading schema for the ingest hot path (docs/benchmarks.md
 * "What the profiles showed"): zod's `ReadingSchema.safeParse` was ~40 % of admission's CPU per
 * reading and copies every reading and its values into new objects (garbage).
 *
 * Contract, the only thing this module promises: when `fastCheckReading(raw)` returns a reading,
 * `ReadingSchema.safeParse(raw)` succeeds with data deep-equal to it. It returns `undefined` for
 * anything it is not sure of (an unknown key that zod would strip, any out-of-range or odd value),
 * and the caller then runs zod, which accepts or refuses with its own message. So zod stays the
 * schema's definition and its only source of errors; this is a shortcut for the common valid case.
 * test/unit/reading-fast-check.test.ts checks the contract against zod on valid, mutated and
 * hostile readings.
 *
 * The returned object IS `raw` (no copy): the caller must own it (a JSON.parse result).
 */

/** The keys this check knows how to check. If ReadingSchema's keys differ, the fast path is off. */
const CHECKED_KEYS = [
  'station',
  'device',
  'profile',
  'kind',
  'ts',
  'ts_source',
  'seq',
  'values',
  'quality',
  'source',
  'calibration_id',
] as const;
const schemaKeys = Object.keys(ReadingSchema.shape);
/** A field added to ReadingSchema without a check here must not be waved through: zod only. */
export const FAST_CHECK_ENABLED = schemaKeys.length === CHECKED_KEYS.length && CHECKED_KEYS.every((k) => schemaKeys.includes(k));

const KNOWN = new Set<string>(CHECKED_KEYS);
const KINDS = new Set<string>(DeviceKindSchema.options);
const QUALITIES = new Set<string>(QualitySchema.options);
const SOURCES = new Set<string>(SourceSchema.options);
/** Same patterns as core/reading.ts (IdSchema, profile, value keys); the unit test pins them. */
const ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const PROFILE = /^[a-z0-9]+(-[a-z0-9]+)*$/;
const VALUE_KEY = /^[a-z][a-z0-9_]*$/;

/** Identical consecutive ids (readings of one message share them): test each regex once per run. */
let lastStation = '';
let lastDevice = '';
let lastProfile = '';

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;
}

function valuesOk(values: unknown): boolean {
  if (!isPlainObject(values)) return false;
  let n = 0;
  for (const key in values) {
    if (!Object.hasOwn(values, key) || !VALUE_KEY.test(key)) return false;
    const v = values[key];
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) return false;
    } else if (typeof v === 'string') {
      if (v.length > 32) return false;
    } else if (typeof v !== 'boolean') return false;
    n++;
  }
  return n > 0 && n <= MAX_VALUES_PER_READING;
}

/**
 * @returns `raw` typed as a Reading when it certainly passes ReadingSchema unchanged; otherwise
 * undefined (not necessarily invalid: run ReadingSchema to decide).
 */
export function fastCheckReading(raw: unknown): Reading | undefined {
  if (!FAST_CHECK_ENABLED || !isPlainObject(raw)) return undefined;
  for (const key in raw) if (!KNOWN.has(key) || !Object.hasOwn(raw, key)) return undefined;
  const r = raw as Record<string, unknown>;
  const { station, device, profile, ts, seq } = r;
  if (typeof station !== 'string' || (station !== lastStation && !ID.test(station))) return undefined;
  lastStation = station;
  if (typeof device !== 'string' || (device !== lastDevice && !ID.test(device))) return undefined;
  lastDevice = device;
  if (typeof profile !== 'string' || (profile !== lastProfile && !PROFILE.test(profile))) return undefined;
  lastProfile = profile;
  if (typeof r.kind !== 'string' || !KINDS.has(r.kind)) return undefined;
  if (typeof ts !== 'number' || !Number.isSafeInteger(ts) || ts < 0) return undefined;
  if (r.ts_source !== 'agent' && r.ts_source !== 'device') return undefined;
  if ('seq' in r && (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0 || seq > 999)) return undefined;
  if (!valuesOk(r.values)) return undefined;
  if (typeof r.quality !== 'string' || !QUALITIES.has(r.quality)) return undefined;
  if (typeof r.source !== 'string' || !SOURCES.has(r.source)) return undefined;
  if ('calibration_id' in r && (typeof r.calibration_id !== 'string' || r.calibration_id.length > 64)) return undefined;
  return raw as Reading;
}
