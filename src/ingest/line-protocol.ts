import { catalogue } from '../../devices/index.ts';
import type { Reading } from '../core/reading.ts';

/**
 * Reading → InfluxDB 1.x line protocol, millisecond precision. Pure: no clock, no I/O.
 *
 * Point identity is measurement + the four tags + `ts`, all taken from the reading, so the same
 * reading always yields the same line and a re-sent batch overwrites its points instead of
 * duplicating them (ARCHITECTURE.md "InfluxDB schema").
 */

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

/**
 * One line for one reading (no trailing newline). Tags are sorted by key, as influxd prefers;
 * channel values come in sorted key order too, so equal readings give byte-identical lines.
 */
export function toLineProtocol(reading: Reading): string {
  const tags = `device=${escapeKey(reading.device)},profile=${escapeKey(reading.profile)},source=${escapeKey(reading.source)},station=${escapeKey(reading.station)}`;
  const fields: string[] = [];
  const reserved = new Set<string>(META_FIELDS);
  for (const key of Object.keys(reading.values).sort()) {
    if (reserved.has(key)) continue;
    fields.push(`${escapeKey(key)}=${formatField(reading.values[key] as number | boolean | string)}`);
  }
  fields.push(`quality=${quoteString(reading.quality)}`, `ts_source=${quoteString(reading.ts_source)}`);
  if (reading.calibration_id !== undefined) fields.push(`calibration_id=${quoteString(reading.calibration_id)}`);
  return `${escapeMeasurement(measurementFor(reading))},${tags} ${fields.join(',')} ${Math.trunc(reading.ts)}`;
}

/** Lines for many readings, in order. */
export function toLines(readings: readonly Reading[]): string[] {
  return readings.map(toLineProtocol);
}
