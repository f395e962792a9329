import type { ErrorCode } from '../core/errors.ts';

/**
 * Sorting InfluxDB 1.x write responses into drop / keep-and-retry (README.md "Nothing lost,
 * nothing duplicated"; shape after Telegraf's outputs/influxdb http.go). Pure, so every rule is
 * unit-tested.
 */

/** Why a batch was dropped; counted per reason in the writer's stats. */
export type DropReason = 'bad_data' | 'retention' | 'type_conflict' | 'too_large' | 'rejected';

/**
 * What the writer does with a batch after a response:
 * - `ok`: written.
 * - `drop`: influxd refused the data itself; resending cannot help. Points that parsed in a
 *   `partial write` were stored; the whole batch is reported so the caller can dead-letter it.
 * - `split`: the body was too large (413); send it in halves.
 * - `fault`: credentials refused, or the database is missing; keep the data, retry slowly,
 *   raise a service fault an operator must fix.
 * - `retry`: influxd busy or down (429, 5xx, network); keep the data, back off and retry.
 */
export type WriteOutcome =
  | { kind: 'ok' }
  | { kind: 'drop'; reason: DropReason; code: ErrorCode; message: string; droppedPoints?: number }
  | { kind: 'split'; message: string }
  | { kind: 'fault'; code: ErrorCode; message: string }
  | { kind: 'retry'; code: ErrorCode; message: string; retryAfterMs?: number };

/** influxd answers `{"error":"…"}`; fall back to the raw body, shortened. */
export function extractInfluxError(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: unknown };
    if (typeof parsed.error === 'string') return parsed.error;
  } catch {
    // not JSON: a proxy page or an empty body
  }
  return body.slice(0, 300);
}

/** Retry-After in seconds (the only form influxd and common proxies send) → ms. */
function parseRetryAfter(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const s = Number(header);
  return Number.isFinite(s) && s >= 0 ? s * 1000 : undefined;
}

/** Classifies one HTTP answer to POST /write. */
export function classifyWriteResponse(status: number, body: string, retryAfter?: string): WriteOutcome {
  if (status >= 200 && status < 300) return { kind: 'ok' };
  const error = extractInfluxError(body);
  const message = `HTTP ${status}: ${error}`;
  if (status === 401 || status === 403) return { kind: 'fault', code: 'RS_ERR_INFLUX_AUTH', message };
  // A missing database is a deployment fault, not bad data: the points are fine once it exists.
  if (status === 404 && /database not found/i.test(error)) return { kind: 'fault', code: 'RS_ERR_INFLUX_UNAVAILABLE', message };
  if (status === 413) return { kind: 'split', message };
  if (status === 429 || status >= 500) {
    const retryAfterMs = parseRetryAfter(retryAfter);
    return retryAfterMs === undefined
      ? { kind: 'retry', code: 'RS_ERR_INFLUX_UNAVAILABLE', message }
      : { kind: 'retry', code: 'RS_ERR_INFLUX_UNAVAILABLE', message, retryAfterMs };
  }
  if (status >= 400 && status < 500) {
    // `partial write: … dropped=N`: influxd stored the rest of the batch.
    const partial = /partial write.*dropped=(\d+)/i.exec(error);
    const drop = { kind: 'drop', reason: dropReason(error), code: 'RS_ERR_INFLUX_BAD_DATA', message } as const;
    return partial ? { ...drop, droppedPoints: Number(partial[1]) } : drop;
  }
  // 1xx/3xx: nothing we asked for; treat as transient.
  return { kind: 'retry', code: 'RS_ERR_INFLUX_UNAVAILABLE', message };
}

function dropReason(error: string): DropReason {
  if (/beyond retention policy/i.test(error)) return 'retention';
  if (/field type conflict/i.test(error)) return 'type_conflict';
  if (/unable to parse|invalid|bad timestamp|max-values-per-tag|max-series/i.test(error)) return 'bad_data';
  return 'rejected';
}

/** A network error (refused, reset, timeout) is always worth a retry. */
export function classifyNetworkError(err: Error): WriteOutcome {
  const code = (err as NodeJS.ErrnoException).code;
  return { kind: 'retry', code: 'RS_ERR_INFLUX_UNAVAILABLE', message: code ? `${code}: ${err.message}` : err.message };
}

/**
 * Exponential backoff with jitter: base·2^attempt capped at max, then a uniform draw from
 * [half, full] so many writers recovering together do not retry in lockstep.
 * `attempt` counts from 0; `random` is injectable for tests.
 */
export function computeBackoffMs(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const full = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(full / 2 + (random() * full) / 2);
}
