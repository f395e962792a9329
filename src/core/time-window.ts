import { type Reject, reject } from './errors.ts';

/**
 * The plausibility window for reading timestamps (docs/data-integrity.md, "Time").
 *
 * Device time is data, not authority: a reading stamped further ahead of the receiving clock than
 * `futureMs`, or further behind it than `pastMs`, is rejected with a stable code and counted, and
 * never reaches storage or moves an alarm engine's clock. The past bound is wide on purpose: an
 * agent's outbox or a broker's persistent queue may deliver a long outage's backlog days late.
 */
export interface TimestampWindow {
  /** ms a timestamp may lie ahead of the receiving clock. Default 5 min (clock drift of a GMC/bGeigie). */
  futureMs: number;
  /** ms a timestamp may lie behind the receiving clock. Default 30 days (the `raw` retention). */
  pastMs: number;
}

export const DEFAULT_TIMESTAMP_WINDOW: TimestampWindow = { futureMs: 5 * 60_000, pastMs: 30 * 86_400_000 };

/** undefined when `ts` lies inside the window around `now`; else the reject to count. */
export function checkTimestamp(ts: number, now: number, window: TimestampWindow = DEFAULT_TIMESTAMP_WINDOW): Reject | undefined {
  if (ts > now + window.futureMs)
    return reject(
      'RS_ERR_TS_FUTURE',
      `timestamp ${new Date(ts).toISOString()} is ${Math.round((ts - now) / 1000)} s ahead of this clock (window ${window.futureMs / 1000} s)`,
    );
  if (ts < now - window.pastMs)
    return reject(
      'RS_ERR_TS_PAST',
      `timestamp ${new Date(ts).toISOString()} is ${Math.round((now - ts) / 1000)} s behind this clock (window ${window.pastMs / 1000} s)`,
    );
  return undefined;
}
