import { catalogue } from '../../devices/index.ts';
import { pointTimeUs, type Reading } from '../core/reading.ts';

export { pointTimeUs };

/**
 * Reading → InfluxDB 1.x line protocol, microsecond precision (`precision=u`). Pure: no clock, no I/O.
 *
 * Point identity is measurement + the four tags + `ts * 1000 + seq` µs, all taken from the
 * reading, so the same reading always yields the same line and a re-sent batch overwrites its
 * points instead of duplicating them, while two readings of one device stamped in the same
 * millisecond (seq 0 and 1) stay two points (docs/data-integrity.md "Point identity").
 */

/** The `precision` every writer of these lines must post with. */
export const LINE_PRECISION = 'u';

/** Field names the ingest adds beside the channel values; a channel with one of these names is shadowed. */
export const META_FIELDS = ['quality', 'ts_source', 'calibration_id'] as const;

/**
 * Measurement names escape comma and space; tag keys/values and field keys also `=`.
 * influxd 1.x unescapes nothing else, so a backslash is left as is (our ids cannot contain one).
 */
function escapeMeasurement(s: string): string {
  return s.replace(/[, ]/g, (c) => `\\${c}`);
}
function escapeKey(s: string): string {
  return s.replace(/[,= ]/g, (c) => `\\${c}`);
}
/** String field values are double-quoted with `"` and `\` escaped; a newline inside the quotes is kept (measured on influxd 1.6). */
function quoteString(s: string): string {
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/**
 * Numbers are written as floats (no `i` suffix) so a channel that is sometimes 3 and sometimes
 * 3.5 never causes a field type conflict. `String()` yields forms influxd parses (`1e-7`, `1e+21`).
 */
function formatField(value: number | boolean | string): string {
  if (typeof value === 'number') return Object.is(value, -0) ? '0' : String(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return quoteString(value);
}

/** The measurement a reading is stored in: the profile's own when catalogued, else by kind. */
export function measurementFor(reading: Pick<Reading, 'profile' | 'kind'>): string {
  return catalogue.get(reading.profile)?.measurement ?? (reading.kind === 'xray_scanner' ? 'xray' : 'radiation');
}

const RESERVED = new Set<string>(META_FIELDS);
/**
 * Hot path (every reading): the measurement + tag prefix and the escaped field keys repeat for
 * every reading of a device, so they are built once and cached (bounded: cleared when large).
 */
const prefixCache = new Map<string, string>();
const keyCache = new Map<string, string>();
const CACHE_MAX = 10_000;
const enumCache = new Map<string, string>();

/** quality and ts_source take a handful of values: quote each once. */
function quoteEnum(s: string): string {
  let q = enumCache.get(s);
  if (q === undefined) {
    if (enumCache.size >= CACHE_MAX) enumCache.clear();
    q = quoteString(s);
    enumCache.set(s, q);
  }
  return q;
}

let lastReading: Reading | undefined;
let lastPrefix = '';

function prefixFor(reading: Reading): string {
  // Readings of one message nearly always share all five: compare before building a key.
  const l = lastReading;
  if (
    l &&
    l.device === reading.device &&
    l.station === reading.station &&
    l.profile === reading.profile &&
    l.source === reading.source &&
    l.kind === reading.kind
  )
    return lastPrefix;
  const k = `${reading.profile}\u0000${reading.kind}\u0000${reading.device}\u0000${reading.source}\u0000${reading.station}`;
  let p = prefixCache.get(k);
  if (p === undefined) {
    if (prefixCache.size >= CACHE_MAX) prefixCache.clear();
    p = `${escapeMeasurement(measurementFor(reading))},device=${escapeKey(reading.device)},profile=${escapeKey(reading.profile)},source=${escapeKey(reading.source)},station=${escapeKey(reading.station)} `;
    prefixCache.set(k, p);
  }
  lastReading = reading;
  lastPrefix = p;
  return p;
}

function fieldKey(key: string): string {
  let e = keyCache.get(key);
  if (e === undefined) {
    if (keyCache.size >= CACHE_MAX) keyCache.clear();
    e = escapeKey(key);
    keyCache.set(key, e);
  }
  return e;
}

/**
 * One line for one reading (no trailing newline). Tags are sorted by key, as influxd prefers;
 * channel values come in sorted key order too, so equal readings give byte-identical lines.
 */
export function toLineProtocol(reading: Reading): string {
  let fields = '';
  for (const key of Object.keys(reading.values).sort()) {
    if (RESERVED.has(key)) continue;
    fields += `${fieldKey(key)}=${formatField(reading.values[key] as number | boolean | string)},`;
  }
  fields += `quality=${quoteEnum(reading.quality)},ts_source=${quoteEnum(reading.ts_source)}`;
  if (reading.calibration_id !== undefined) fields += `,calibration_id=${quoteString(reading.calibration_id)}`;
  return `${prefixFor(reading)}${fields} ${pointTimeUs(reading)}`;
}

/** Lines for many readings, in order. */
export function toLines(readings: readonly Reading[]): string[] {
  return readings.map(toLineProtocol);
}
