import type { ErrorCode } from '../core/errors.ts';
import { openSpool, type SpoolOptions, type SpoolStats } from './spool.ts';
import type { DropReason } from './write-errors.ts';

/**
 * Batching InfluxDB 1.x writer for pre-built line protocol (see line-protocol.ts), for callers
 * that need no durability (`radscreen import`, tools). It is the ingest's write engine
 * (spool.ts) over an in-memory queue, so batching, classification, retry with backoff,
 * dead-lettering and the fault state are the spool's, written once; this file adds only
 * backpressure.
 *
 * Zero-loss rule: a point accepted by `write()` leaves the buffer only when influxd answered
 * 2xx, or answered that the data itself is bad (then `onDrop` gets it for dead-lettering).
 * The buffer is in memory and bounded; `write()` waits for room (backpressure to the caller).
 */

/** Options; durations in ms. */
export interface InfluxWriterOptions {
  /** Base URL of influxd, e.g. http://127.0.0.1:8086. */
  url: string;
  database: string;
  /** Omit to write to the database's default retention policy. */
  retentionPolicy?: string;
  username?: string;
  password?: string;
  /** Points per POST; a full batch is sent at once. */
  batchSize: number;
  /** A point waits at most this long in the buffer before a POST is started. */
  flushIntervalMs: number;
  /** Upper bound of buffered points; `write()` waits beyond it. Default max(100 000, 4 × batchSize). */
  maxBufferedPoints?: number;
  /** First retry delay (default 200) and the cap (default 10 000) for 429/5xx/network errors. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Delay between retries while a service fault (401/403, database missing) lasts. Default 10 000. */
  faultRetryMs?: number;
  /** Per-request timeout. Default 30 000. A timed-out write is resent; identity makes that idempotent. */
  requestTimeoutMs?: number;
  /** Called with lines influxd refused as bad data, so the caller can dead-letter them. Must not throw. */
  onDrop?: (lines: readonly string[], info: { reason: DropReason; code: ErrorCode; message: string; droppedPoints?: number }) => void;
  /** Called when a service fault starts (code set) or clears (undefined). */
  onFault?: (fault: { code: ErrorCode; message: string } | undefined) => void;
}

/** Counters since start. `buffered` includes the batches in flight. */
export interface InfluxWriterStats {
  written: number;
  retries: number;
  dropped: Record<DropReason, number>;
  buffered: number;
  /** Set while 401/403 or a missing database keeps data from being written. */
  fault?: { code: ErrorCode; message: string };
  lastError?: { code: ErrorCode; message: string; at: number };
}

export interface InfluxWriter {
  /** Accepts lines (no newlines inside); resolves once they are in the buffer. Rejects after close(). */
  write(lines: readonly string[]): Promise<void>;
  /** Sends everything buffered now; resolves true when the buffer is empty, false on timeout. */
  flush(timeoutMs?: number): Promise<boolean>;
  /** Stops accepting, flushes (default up to 10 s), then frees sockets. Returns the points left unwritten. */
  close(timeoutMs?: number): Promise<number>;
  stats(): InfluxWriterStats;
}

/** An in-memory queue never refuses or expires on its own: `write()` bounds it instead. */
const UNBOUNDED = Number.MAX_SAFE_INTEGER;
const CENTURY_MS = 100 * 365 * 86_400_000;

export function createInfluxWriter(opts: InfluxWriterOptions): InfluxWriter {
  const maxBuffered = opts.maxBufferedPoints ?? Math.max(100_000, 4 * opts.batchSize);
  const spaceWaiters: (() => void)[] = [];
  const wake = () => {
    for (const w of spaceWaiters.splice(0)) w();
  };
  const { maxBufferedPoints: _bound, ...posting } = opts;
  const spoolOptions: SpoolOptions = {
    ...posting,
    path: ':memory:',
    maxRows: UNBOUNDED,
    maxAgeMs: CENTURY_MS,
    // One POST at a time: a tool's writer should not compete with the station's ingest for influxd.
    maxInflight: 1,
    onSettled: wake,
  };
  const spool = openSpool(spoolOptions);
  let closed = false;

  async function write(lines: readonly string[]): Promise<void> {
    if (closed) throw new Error('influx writer is closed');
    if (lines.length === 0) return;
    // An oversized single write is let in when the buffer is empty, so it cannot wait forever.
    for (let depth = spool.stats().buffered; depth > 0 && depth + lines.length > maxBuffered; depth = spool.stats().buffered) {
      await new Promise<void>((r) => spaceWaiters.push(r));
      if (closed) throw new Error('influx writer is closed');
    }
    spool.append(lines);
  }

  return {
    write,
    flush: (timeoutMs) => spool.flush(timeoutMs),
    async close(timeoutMs = 10_000) {
      closed = true;
      wake();
      return spool.close(timeoutMs);
    },
    stats(): InfluxWriterStats {
      const s: SpoolStats = spool.stats();
      const { full: _full, expired: _expired, ...dropped } = s.dropped;
      return {
        written: s.written,
        retries: s.retries,
        dropped,
        buffered: s.buffered,
        ...(s.fault ? { fault: s.fault } : {}),
        ...(s.lastError ? { lastError: s.lastError } : {}),
      };
    },
  };
}
