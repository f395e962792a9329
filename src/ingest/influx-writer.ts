import type { ErrorCode } from '../core/errors.ts';
import { createIdleWaiters } from '../core/idle-waiters.ts';
import { createLinePoster } from './influx-http.ts';
import { computeBackoffMs, type DropReason } from './write-errors.ts';

/**
 * Batching InfluxDB 1.x writer for pre-built line protocol (see line-protocol.ts).
 *
 * Posting goes through influx-http.ts (raw HTTP, why: see there).
 *
 * Zero-loss rule: a point accepted by `write()` leaves the buffer only when influxd answered
 * 2xx, or answered that the data itself is bad (then `onDrop` gets it for dead-lettering).
 * The buffer is in memory and bounded; `write()` waits for room (backpressure to MQTT).
 * The ingest itself uses the durable SQLite spool (spool.ts); this in-memory writer is for
 * callers that need no durability (tools, the benchmark's raw ceiling).
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

/** Counters since start. `buffered` includes the batch in flight. */
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

export function createInfluxWriter(opts: InfluxWriterOptions): InfluxWriter {
  const poster = createLinePoster({
    url: opts.url,
    database: opts.database,
    ...(opts.retentionPolicy !== undefined ? { retentionPolicy: opts.retentionPolicy } : {}),
    ...(opts.username !== undefined ? { username: opts.username } : {}),
    ...(opts.password !== undefined ? { password: opts.password } : {}),
    ...(opts.requestTimeoutMs !== undefined ? { requestTimeoutMs: opts.requestTimeoutMs } : {}),
  });
  const post = poster.post;
  const maxBuffered = opts.maxBufferedPoints ?? Math.max(100_000, 4 * opts.batchSize);
  const retryBase = opts.retryBaseMs ?? 200;
  const retryMax = opts.retryMaxMs ?? 10_000;
  const faultDelay = opts.faultRetryMs ?? 10_000;

  // Chunks of at most batchSize lines, oldest first: O(1) append and take, no big splices.
  const chunks: string[][] = [];
  let buffered = 0;
  let sending = false;
  let flushDue = false;
  let closed = false;
  let attempt = 0;
  let intervalTimer: NodeJS.Timeout | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  const spaceWaiters: Array<() => void> = [];
  const idle = createIdleWaiters();
  const st: InfluxWriterStats = {
    written: 0,
    retries: 0,
    dropped: { bad_data: 0, retention: 0, type_conflict: 0, too_large: 0, rejected: 0 },
    buffered: 0,
  };

  function notify(): void {
    while (spaceWaiters.length > 0 && buffered < maxBuffered) spaceWaiters.shift()?.();
    if (buffered === 0 && !sending) idle.notify();
  }

  function setFault(fault: InfluxWriterStats['fault']): void {
    if ((fault === undefined) === (st.fault === undefined)) return;
    st.fault = fault;
    opts.onFault?.(fault);
  }

  /** Starts a POST when a batch is full, the interval expired or a flush was asked for. */
  function pump(): void {
    if (sending || retryTimer) return;
    if (chunks.length === 1 && chunks[0]?.length === 0) chunks.pop();
    const head = chunks[0];
    if (!head) {
      flushDue = false;
      return;
    }
    if (head.length >= opts.batchSize || flushDue || chunks.length > 1) {
      void sendHead(head);
    } else if (!intervalTimer) {
      intervalTimer = setTimeout(() => {
        intervalTimer = undefined;
        flushDue = true;
        pump();
      }, opts.flushIntervalMs);
    }
  }

  async function sendHead(batch: string[]): Promise<void> {
    sending = true;
    // Seal the head chunk so write() starts a new one while this one is in flight.
    if (chunks.length === 1) chunks.push([]);
    const outcome = await post(batch.join('\n'));
    sending = false;
    const settle = () => {
      chunks.shift();
      buffered -= batch.length;
      attempt = 0;
    };
    switch (outcome.kind) {
      case 'ok':
        settle();
        st.written += batch.length;
        setFault(undefined);
        break;
      case 'drop':
        settle();
        {
          // A partial write stored all but `droppedPoints`; the caller still gets the whole
          // batch, since influxd does not say which lines it refused.
          const refused = Math.min(outcome.droppedPoints ?? batch.length, batch.length);
          st.dropped[outcome.reason] += refused;
          st.written += batch.length - refused;
        }
        st.lastError = { code: outcome.code, message: outcome.message, at: Date.now() };
        opts.onDrop?.(batch, outcome);
        break;
      case 'split':
        if (batch.length > 1) {
          chunks.splice(0, 1, batch.slice(0, batch.length >> 1), batch.slice(batch.length >> 1));
        } else {
          settle();
          st.dropped.too_large += 1;
          opts.onDrop?.(batch, { reason: 'too_large', code: 'RS_ERR_INFLUX_BAD_DATA', message: outcome.message });
        }
        break;
      case 'fault':
      case 'retry': {
        st.retries++;
        st.lastError = { code: outcome.code, message: outcome.message, at: Date.now() };
        if (outcome.kind === 'fault') setFault({ code: outcome.code, message: outcome.message });
        const delay = outcome.kind === 'fault' ? faultDelay : (outcome.retryAfterMs ?? computeBackoffMs(attempt, retryBase, retryMax));
        attempt++;
        retryTimer = setTimeout(() => {
          retryTimer = undefined;
          // The failed batch goes again at once, full or not.
          flushDue = true;
          pump();
        }, delay);
        break;
      }
    }
    // Drop the empty chunk sealed above when nothing arrived meanwhile.
    if (chunks.length === 1 && chunks[0]?.length === 0) chunks.pop();
    st.buffered = buffered;
    notify();
    pump();
  }

  function append(lines: readonly string[]): void {
    for (let i = 0; i < lines.length; ) {
      let tail = chunks[chunks.length - 1];
      if (!tail || tail.length >= opts.batchSize || (sending && chunks.length === 1)) {
        tail = [];
        chunks.push(tail);
      }
      const take = Math.min(opts.batchSize - tail.length, lines.length - i);
      for (let k = 0; k < take; k++) tail.push(lines[i + k] as string);
      i += take;
    }
    buffered += lines.length;
    st.buffered = buffered;
  }

  async function write(lines: readonly string[]): Promise<void> {
    if (closed) throw new Error('influx writer is closed');
    if (lines.length === 0) return;
    // An oversized single write is let in when the buffer is empty, so it cannot wait forever.
    while (buffered > 0 && buffered + lines.length > maxBuffered) {
      await new Promise<void>((r) => spaceWaiters.push(r));
      if (closed) throw new Error('influx writer is closed');
    }
    append(lines);
    pump();
  }

  function flush(timeoutMs = Number.POSITIVE_INFINITY): Promise<boolean> {
    if (buffered === 0 && !sending) return Promise.resolve(true);
    flushDue = true;
    // A flush asked for during a backoff retries now rather than after the delay.
    if (retryTimer && !st.fault) {
      clearTimeout(retryTimer);
      retryTimer = undefined;
    }
    pump();
    return idle.wait(timeoutMs);
  }

  async function close(timeoutMs = 10_000): Promise<number> {
    closed = true;
    for (const w of spaceWaiters.splice(0)) w();
    await flush(timeoutMs);
    clearTimeout(intervalTimer);
    clearTimeout(retryTimer);
    retryTimer = undefined;
    poster.destroy();
    return buffered;
  }

  return { write, flush, close, stats: () => ({ ...st, dropped: { ...st.dropped }, buffered }) };
}
