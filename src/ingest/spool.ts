import type { ErrorCode } from '../core/errors.ts';
import { createIdleWaiters } from '../core/idle-waiters.ts';
import { type DurableQueue, openDurableQueue, type QueueBatch } from '../queue/durable-queue.ts';
import { createPacedBacklog } from '../queue/rate-limiter.ts';
import { createLinePoster, type LinePosterOptions } from './influx-http.ts';
import { computeBackoffMs, type DropReason } from './write-errors.ts';

/**
 * The one write engine: line protocol in a queue (durable-queue.ts: a SQLite file, or `:memory:`),
 * drained to InfluxDB in batches. The ingest spool uses a file; influx-writer.ts (`import`, tools)
 * is this same engine over `:memory:` with backpressure, so the batch → post → classify → retry /
 * drop / fault state machine exists once.
 *
 * Zero-loss rule: `append()` commits before it returns, so the consumer acknowledges an MQTT
 * message only once its points are on disk. A row leaves the spool only when influxd answered
 * 2xx, or refused the data itself (then `onDrop` dead-letters it), or by a counted drop (full,
 * expired). 401/403 and a missing database keep the data and raise a service fault; 429, 5xx and
 * network errors back off with jitter and retry. A failure rewinds the spool, so everything
 * unwritten is replayed, and the re-sent points overwrite themselves (deterministic identity).
 *
 * Live first: after a restart or an outage, what was spooled is backlog, drained oldest first at
 * `backlogRatePerSec`, interleaved with the live stream; what arrived during the last retry's
 * backoff stays live, so fresh readings are not written behind the whole outage.
 */

export interface SpoolOptions extends Omit<LinePosterOptions, 'maxSockets'> {
  /** SQLite file, or `:memory:` (not durable). */
  path: string;
  /** Points per POST. */
  batchSize: number;
  /** A live point waits at most this long before a POST is started, ms. */
  flushIntervalMs: number;
  /** Bounds: rows (points) and age (ms). Beyond maxRows, `append()` refuses (counted `full`). */
  maxRows: number;
  maxAgeMs: number;
  /** Backlog drain rate, points/s. Default 50 000. */
  backlogRatePerSec?: number;
  /**
   * Most points in one backlog POST. Default: one spool row (≤ 1,000 points). Backlog is read
   * back from SQLite, so a POST of it costs a read, an encode and a socket write in one
   * event-loop turn; small slices keep that turn short while a drain runs beside live data
   * (bench:drain), at a drain rate still far above what an outage needs.
   */
  backlogSliceItems?: number;
  /** POSTs in flight at once. Default 2. */
  maxInflight?: number;
  /** First retry delay (default 200) and cap (default 10 000) for 429/5xx/network errors, ms. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Delay between retries while a service fault (401/403, database missing) lasts, ms. Default 10 000. */
  faultRetryMs?: number;
  /** Lines influxd refused as bad data, for dead-lettering (`droppedPoints`: influxd's count when it said). Must not throw. */
  onDrop?: (lines: readonly string[], info: { reason: DropReason; code: ErrorCode; message: string; droppedPoints?: number }) => void;
  /** A batch left the spool (written or dead-lettered): room was made. Must not throw. */
  onSettled?: () => void;
  /** A service fault started (set) or cleared (undefined). */
  onFault?: (fault: { code: ErrorCode; message: string } | undefined) => void;
  /** The spool crossed 80 % full (true) or fell back (false). */
  onHighWater?: (high: boolean, depth: number, maxRows: number) => void;
  /** Points the spool itself dropped: refused when full, or expired by age. */
  onSpoolDrop?: (reason: 'full' | 'expired', count: number) => void;
  /** The spool's timed WAL checkpoint failed (durable-queue.ts); for the log. Must not throw. */
  onCheckpointError?: (message: string) => void;
}

/** Counters since start; `buffered` is the spool depth (points not yet in InfluxDB). */
export interface SpoolStats {
  written: number;
  retries: number;
  /** Points dropped, by reason: influxd's refusals plus the spool's own `full` and `expired`. */
  dropped: Record<DropReason | 'full' | 'expired', number>;
  buffered: number;
  oldestAgeMs: number;
  highWater: boolean;
  highWaterEvents: number;
  fault?: { code: ErrorCode; message: string };
  lastError?: { code: ErrorCode; message: string; at: number };
}

export interface Spool {
  /** Commits lines (one point each); returns how many were kept. Throws after close(). */
  append(lines: readonly string[]): number;
  /** Sends what is spooled now; resolves true once the spool is empty, false on timeout (ms). */
  flush(timeoutMs?: number): Promise<boolean>;
  /** Stops, flushing up to timeoutMs (default 10 000); what is left stays on disk. Returns that count. */
  close(timeoutMs?: number): Promise<number>;
  stats(): SpoolStats;
}

/**
 * Spools written before point identity moved to µs hold ms timestamps, and a ms stamp posted
 * with `precision=u` would land in 1970. A ms stamp has at most 14 digits until the year 5138, a
 * µs one at least 15 after 2001, so the last line of a row tells its format (one append wrote
 * the whole row). Only backlog can be old: rows appended since open are always µs.
 */
export function upgradeMsRow(body: string): string {
  const stamp = body.slice(body.lastIndexOf(' ') + 1);
  if (stamp.length > 14) return body;
  return body
    .split('\n')
    .map((line) => `${line}000`)
    .join('\n');
}

export function openSpool(opts: SpoolOptions): Spool {
  const poster = createLinePoster({ ...opts, maxSockets: opts.maxInflight ?? 2 });
  const dropped: SpoolStats['dropped'] = { bad_data: 0, retention: 0, type_conflict: 0, too_large: 0, rejected: 0, full: 0, expired: 0 };
  // Rows of up to rowItems lines: one insert and one delete per row, not per point.
  const rowItems = Math.max(1, Math.min(1000, Math.floor(opts.batchSize / 5)));
  const queue: DurableQueue = openDurableQueue({
    path: opts.path,
    separator: '\n',
    maxRows: opts.maxRows,
    maxAgeMs: opts.maxAgeMs,
    // Memory is bounded by design: the in-memory copy of unsent live rows holds at most four
    // POSTs' worth; when InfluxDB falls further behind, the rest is on disk only and read back.
    tailMaxItems: 4 * opts.batchSize,
    // One spool file takes every commit of the ingest: checkpoint it once a second, not per 1,000 pages.
    checkpointIntervalMs: 1000,
    ...(opts.onCheckpointError ? { onCheckpointError: opts.onCheckpointError } : {}),
    ...(opts.onHighWater ? { onHighWater: opts.onHighWater } : {}),
    onDrop: (reason, count) => {
      dropped[reason] += count;
      opts.onSpoolDrop?.(reason, count);
    },
  });
  const maxInflight = opts.maxInflight ?? 2;
  const backlogSlice = Math.max(1, Math.min(opts.batchSize, opts.backlogSliceItems ?? rowItems));
  let pumpSoon: NodeJS.Immediate | undefined;
  const backlog = createPacedBacklog({
    ratePerSec: opts.backlogRatePerSec ?? 50_000,
    takeBacklog: (n) => queue.takeBacklog(n),
    wake: () => pump(),
  });
  const st = { written: 0, retries: 0 } as Pick<SpoolStats, 'written' | 'retries' | 'fault' | 'lastError'>;
  let inflight = 0;
  let liveWaiting = 0;
  let backlogDue = queue.depth() > 0;
  let flushDue = false;
  let failed = false;
  let attempt = 0;
  let retryDelay = 0;
  let closed = false;
  let preferBacklog = false;
  let intervalTimer: NodeJS.Timeout | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  const idle = createIdleWaiters();
  let finalStats: SpoolStats | undefined;
  const expireTimer = setInterval(() => queue.expire(), 10_000);

  function setFault(fault: SpoolStats['fault']): void {
    if ((fault === undefined) === (st.fault === undefined)) return;
    st.fault = fault;
    opts.onFault?.(fault);
  }

  function takeLive(): QueueBatch | undefined {
    if (liveWaiting === 0 || (liveWaiting < opts.batchSize && !flushDue)) return undefined;
    const batch = queue.takeLive(opts.batchSize);
    liveWaiting = Math.max(0, liveWaiting - (batch?.items ?? liveWaiting));
    return batch;
  }

  function takeBacklog(): QueueBatch | undefined {
    if (!backlogDue) return undefined;
    const batch = backlog.take(backlogSlice);
    if (batch === 'empty') backlogDue = false;
    if (typeof batch === 'string') return undefined;
    // O(1) per row for µs rows (the last stamp is looked at); only pre-µs rows are rewritten.
    batch.bodies = batch.bodies.map(upgradeMsRow);
    return batch;
  }

  function pump(): void {
    if (pumpSoon) clearImmediate(pumpSoon);
    pumpSoon = undefined;
    if (failed) return;
    // At most one backlog read per event-loop turn: a second one waits for the next turn, so
    // live messages (and, in a station, the alarm engine) get the loop in between.
    let backlogTaken = false;
    const nextBacklog = () => {
      if (backlogTaken) return undefined;
      const b = takeBacklog();
      if (b) backlogTaken = true;
      return b;
    };
    while (inflight < maxInflight) {
      // Alternate when both have work, so neither a busy live stream nor a long backlog starves the other.
      const batch = preferBacklog ? (nextBacklog() ?? takeLive()) : (takeLive() ?? nextBacklog());
      if (!batch) break;
      preferBacklog = !preferBacklog;
      void send(batch);
    }
    if (backlogTaken && backlogDue && inflight < maxInflight && !closed) pumpSoon = setImmediate(pump);
    if (liveWaiting === 0) flushDue = false;
    else if (!intervalTimer && !flushDue)
      intervalTimer = setTimeout(() => {
        intervalTimer = undefined;
        flushDue = true;
        pump();
      }, opts.flushIntervalMs);
    notifyIdle();
  }

  /**
   * Posts rows (each one or more lines joined by `\n`), pre-built: one join, no per-point work.
   * Halves on 413 at row boundaries, then at line boundaries. True when every line is settled
   * (written or dead-lettered).
   */
  async function deliver(rows: readonly string[], points: number): Promise<boolean> {
    // The rows go out as they are (poster.post writes them one after another): no joined copy.
    const outcome = await poster.post(rows);
    switch (outcome.kind) {
      case 'ok':
        st.written += points;
        attempt = 0;
        setFault(undefined);
        return true;
      case 'drop': {
        const refused = Math.min(outcome.droppedPoints ?? points, points);
        dropped[outcome.reason] += refused;
        st.written += points - refused;
        st.lastError = { code: outcome.code, message: outcome.message, at: Date.now() };
        opts.onDrop?.(rows.join('\n').split('\n'), outcome);
        return true;
      }
      case 'split': {
        // A lone row is split into its lines (a string field with a raw newline would be cut, but
        // only a single >25 MB row could get here, and the halves then fail as bad data, counted).
        const parts = rows.length > 1 ? rows : (rows[0] ?? '').split('\n');
        if (parts.length === 1) {
          dropped.too_large++;
          opts.onDrop?.(parts, { reason: 'too_large', code: 'RS_ERR_INFLUX_BAD_DATA', message: outcome.message });
          return true;
        }
        const half = parts.length >> 1;
        const count = (xs: readonly string[]) => (rows.length > 1 ? xs.reduce((n, x) => n + x.split('\n').length, 0) : xs.length);
        const a = parts.slice(0, half);
        const b = parts.slice(half);
        return (await deliver(a, count(a))) && deliver(b, count(b));
      }
      default:
        st.retries++;
        st.lastError = { code: outcome.code, message: outcome.message, at: Date.now() };
        if (outcome.kind === 'fault') setFault({ code: outcome.code, message: outcome.message });
        retryDelay =
          outcome.kind === 'fault'
            ? (opts.faultRetryMs ?? 10_000)
            : (outcome.retryAfterMs ?? computeBackoffMs(attempt, opts.retryBaseMs ?? 200, opts.retryMaxMs ?? 10_000));
        attempt++;
        return false;
    }
  }

  async function send(batch: QueueBatch): Promise<void> {
    inflight++;
    const settled = await deliver(batch.bodies, batch.items);
    inflight--;
    // A POST that outlived close(): its rows stay on disk and go again at the next start.
    if (closed && failed) return;
    if (settled) {
      queue.ack(batch);
      opts.onSettled?.();
    } else failed = true;
    if (failed) {
      // Wait for the other batch in flight, then replay everything unwritten after the backoff.
      // What arrives during the backoff stays live: fresh readings go first, not behind the backlog.
      if (inflight === 0 && !retryTimer) {
        const liveSince = queue.nextId();
        retryTimer = setTimeout(() => {
          retryTimer = undefined;
          failed = false;
          liveWaiting = queue.rewind(liveSince);
          backlogDue = queue.depth() > liveWaiting;
          pump();
        }, retryDelay);
      }
      return;
    }
    pump();
  }

  function notifyIdle(): void {
    if (inflight === 0 && queue.depth() === 0) idle.notify();
  }

  function flush(timeoutMs = Number.POSITIVE_INFINITY): Promise<boolean> {
    if (queue.depth() === 0 && inflight === 0) return Promise.resolve(true);
    flushDue = true;
    pump();
    return idle.wait(timeoutMs);
  }

  if (backlogDue) setImmediate(pump);

  return {
    append(lines) {
      if (closed) throw new Error('spool is closed');
      if (lines.length === 0) return 0;
      const kept = queue.append(lines, rowItems);
      liveWaiting += kept;
      pump();
      return kept;
    },
    flush,
    async close(timeoutMs = 10_000) {
      if (closed) return queue.depth();
      closed = true;
      await flush(timeoutMs);
      for (const t of [intervalTimer, retryTimer, expireTimer]) clearTimeout(t);
      if (pumpSoon) clearImmediate(pumpSoon);
      backlog.stop();
      failed = true; // nothing new starts; a POST still in flight settles into a closed database
      poster.destroy();
      const left = queue.depth();
      finalStats = readStats();
      queue.close();
      return left;
    },
    stats: () => finalStats ?? readStats(),
  };

  function readStats(): SpoolStats {
    const q = queue.stats();
    return {
      ...st,
      dropped: { ...dropped },
      buffered: q.depth,
      oldestAgeMs: q.oldestAgeMs,
      highWater: q.highWater,
      highWaterEvents: q.highWaterEvents,
    };
  }
}
