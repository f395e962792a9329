import type { ErrorCode } from '../core/errors.ts';
import type { Reading } from '../core/reading.ts';
import { checkTimestamp, type TimestampWindow } from '../core/time-window.ts';
import type { DeviceRecord } from './engine-state.ts';

/**
 * Which readings the alarm engine evaluates (docs/alarm-engine.md, "Time"):
 *
 * 1. Plausibility: `ts` must lie inside the window around the engine's own clock
 *    (`checkTimestamp`); otherwise the reading is rejected with RS_ERR_TS_FUTURE / RS_ERR_TS_PAST
 *    and counted. A device clock that jumped years ahead therefore never enters the engine.
 * 2. Order, per device: a reading older than the device's *watermark* is late (a redelivered or
 *    reordered backlog) and skipped, as is one with the same ts as the last reading evaluated and
 *    a seq not above its seq (a redelivered reading of a same-millisecond burst).
 *    The watermark is the newest evaluated timestamp, but never later than the engine clock when
 *    it was evaluated: a reading stamped ahead inside the window is evaluated, yet it cannot make
 *    the engine ignore the device's next, correctly stamped readings.
 */
export type Admission = { ok: true } | { ok: false; code: ErrorCode | 'late'; reason: string };

/** The ordering mark a device's next reading is compared with, ms. */
export function watermarkOf(dev: Pick<DeviceRecord, 'last_ts' | 'last_at'>): number {
  return Math.min(dev.last_ts, dev.last_at);
}

/** Decides whether the engine evaluates `r` at engine time `now`; `prev` is the device as last seen. */
export function admitReading(r: Reading, now: number, prev: DeviceRecord | undefined, window: TimestampWindow): Admission {
  const bad = checkTimestamp(r.ts, now, window);
  if (bad) return { ok: false, code: bad.code, reason: bad.message };
  if (!prev) return { ok: true };
  if (r.ts < watermarkOf(prev)) return { ok: false, code: 'late', reason: 'older than the last reading evaluated for the device' };
  if (r.ts === prev.last_ts && (r.seq ?? 0) <= (prev.last_seq ?? 0))
    return { ok: false, code: 'late', reason: 'the reading evaluated last, or one before it in the same millisecond, delivered again' };
  return { ok: true };
}

/**
 * Whether restored device memory can be trusted at start: its newest reading time and engine time
 * must lie inside the window around the clock now. State written while a device clock was far
 * ahead (by a version without the window) is dropped and re-learnt rather than obeyed.
 */
export function plausibleMemory(dev: Pick<DeviceRecord, 'last_ts' | 'last_at'>, now: number, window: TimestampWindow): boolean {
  return checkTimestamp(dev.last_ts, now, window) === undefined && checkTimestamp(dev.last_at, now, window) === undefined;
}
