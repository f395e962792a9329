import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

/**
 * A durable FIFO of text rows in SQLite (WAL): the agent's outbox (one reading's JSON per row)
 * and, through ingest/spool.ts, the ingest spool (one line of line protocol per row).
 *
 * Zero-loss rule: a row leaves only through `ack()` (the next hop confirmed it) or a counted
 * drop (`expire()` by age, or refused by `append()` when full), never silently.
 *
 * Live first: rows appended since open (or since the last `rewind()`) are "live" and are taken
 * with `takeLive()`; older rows are "backlog", taken with `takeBacklog()` at whatever rate the
 * caller allows. A crash or an outage turns what is left into backlog, so fresh readings are
 * not stuck behind a long replay.
 *
 * Ids come from AUTOINCREMENT, so they are never reused: a batch is a contiguous id range
 * and its ack is one `DELETE … BETWEEN`. `sqlite_sequence` holds the total ever appended.
 */

/** A contiguous run of rows, oldest first. */
export interface QueueBatch {
  firstId: number;
  lastId: number;
  bodies: string[];
}

/** Why rows left without being delivered. */
export type QueueDropReason = 'full' | 'expired';

export interface QueueOptions {
  /** SQLite file; `:memory:` for a queue that dies with the process (tests, no data_dir). */
  path: string;
  /** Most rows kept; `append()` refuses beyond it (counted as `full`). */
  maxRows: number;
  /** Rows older than this (ms since append) are dropped by `expire()` (counted as `expired`). */
  maxAgeMs: number;
  /** Fill ratio that raises the high-water alarm (default 0.8); it clears below ratio − 0.1. */
  highWater?: number;
  /** Called once when the fill crosses `highWater` (true) and when it falls back (false). Must not throw. */
  onHighWater?(high: boolean, depth: number, maxRows: number): void;
  /** Called for every counted drop. Must not throw. */
  onDrop?(reason: QueueDropReason, count: number): void;
  now?: () => number;
}

export interface QueueStats {
  depth: number;
  maxRows: number;
  /** Age of the oldest row, ms; 0 when empty. */
  oldestAgeMs: number;
  appended: number;
  acked: number;
  dropped: Record<QueueDropReason, number>;
  highWater: boolean;
  /** Times the high-water alarm was raised since open. */
  highWaterEvents: number;
}

export interface DurableQueue {
  /** Commits `bodies` in one transaction; returns how many were kept (the rest counted `full`). */
  append(bodies: readonly string[]): number;
  /** Next live rows after the live cursor, at most `limit`; advances the cursor. */
  takeLive(limit: number): QueueBatch | undefined;
  /** Next backlog rows (appended before the live boundary), at most `limit`; advances that cursor. */
  takeBacklog(limit: number): QueueBatch | undefined;
  /** Deletes a delivered batch. Idempotent. */
  ack(batch: QueueBatch): void;
  /**
   * Forgets both cursors: every row still present becomes backlog and will be taken again.
   * Call only when no batch is in flight, after a failed delivery.
   */
  rewind(): void;
  /** Drops rows older than maxAgeMs; returns how many. */
  expire(): number;
  /** Rows held now. */
  depth(): number;
  /** The configured bound on rows. */
  readonly maxRows: number;
  /** Rows appended ever (survives restarts: it is SQLite's AUTOINCREMENT sequence). */
  totalAppended(): number;
  stats(): QueueStats;
  close(): void;
}

/** Opens (creating) the queue. Rows found in the file are backlog. @throws when SQLite cannot open the file. */
export function openDurableQueue(opts: QueueOptions): DurableQueue {
  if (opts.path !== ':memory:') mkdirSync(dirname(opts.path), { recursive: true });
  const now = opts.now ?? Date.now;
  const db = new Database(opts.path);
  db.pragma('journal_mode = WAL');
  // NORMAL: a commit survives a process crash (SIGKILL); only a power cut can lose the last few.
  db.pragma('synchronous = NORMAL');
  db.exec('CREATE TABLE IF NOT EXISTS q (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, body TEXT NOT NULL)');
  const insert = db.prepare<[number, string]>('INSERT INTO q (at, body) VALUES (?, ?)');
  const selectRange = db.prepare<[number, number, number], { id: number; body: string }>(
    'SELECT id, body FROM q WHERE id > ? AND id < ? ORDER BY id LIMIT ?',
  );
  const deleteRange = db.prepare<[number, number]>('DELETE FROM q WHERE id BETWEEN ? AND ?');
  const deleteOld = db.prepare<[number]>('DELETE FROM q WHERE at < ?');
  const oldest = db.prepare<[], { at: number }>('SELECT at FROM q ORDER BY id LIMIT 1');
  const sequence = db.prepare<[string], number>('SELECT seq FROM sqlite_sequence WHERE name = ?').pluck();
  const maxId = () => sequence.get('q') ?? 0;
  const insertAll = db.transaction((bodies: readonly string[], at: number) => {
    for (const b of bodies) insert.run(at, b);
  });

  let depth = db.prepare('SELECT COUNT(*) FROM q').pluck().get() as number;
  // Rows with id < liveFrom are backlog; the cursors are the last id taken in each region.
  let liveFrom = maxId() + 1;
  let liveCursor = liveFrom - 1;
  let backlogCursor = 0;
  const highRatio = opts.highWater ?? 0.8;
  const st = { appended: 0, acked: 0, dropped: { full: 0, expired: 0 }, highWater: false, highWaterEvents: 0 };

  function checkHighWater(): void {
    const ratio = depth / opts.maxRows;
    if (!st.highWater && ratio >= highRatio) {
      st.highWater = true;
      st.highWaterEvents++;
      opts.onHighWater?.(true, depth, opts.maxRows);
    } else if (st.highWater && ratio < highRatio - 0.1) {
      st.highWater = false;
      opts.onHighWater?.(false, depth, opts.maxRows);
    }
  }

  function drop(reason: QueueDropReason, count: number): void {
    if (count <= 0) return;
    st.dropped[reason] += count;
    opts.onDrop?.(reason, count);
  }

  function take(after: number, before: number, limit: number): QueueBatch | undefined {
    const rows = selectRange.all(after, before, limit);
    const first = rows[0];
    const last = rows[rows.length - 1];
    if (!first || !last) return undefined;
    return { firstId: first.id, lastId: last.id, bodies: rows.map((r) => r.body) };
  }

  return {
    append(bodies) {
      const room = Math.max(0, opts.maxRows - depth);
      const kept = bodies.length <= room ? bodies : bodies.slice(0, room);
      if (kept.length > 0) insertAll(kept, now());
      depth += kept.length;
      st.appended += kept.length;
      checkHighWater();
      drop('full', bodies.length - kept.length);
      return kept.length;
    },
    takeLive(limit) {
      const batch = take(liveCursor, Number.MAX_SAFE_INTEGER, limit);
      if (batch) liveCursor = batch.lastId;
      return batch;
    },
    takeBacklog(limit) {
      const batch = take(backlogCursor, liveFrom, limit);
      if (batch) backlogCursor = batch.lastId;
      return batch;
    },
    ack(batch) {
      const removed = deleteRange.run(batch.firstId, batch.lastId).changes;
      depth -= removed;
      st.acked += removed;
      checkHighWater();
    },
    rewind() {
      liveFrom = maxId() + 1;
      liveCursor = liveFrom - 1;
      backlogCursor = 0;
    },
    expire() {
      const limit = now() - opts.maxAgeMs;
      // The oldest row is cheap to read; the full scan runs only when something is due.
      const o = oldest.get();
      if (!o || o.at >= limit) return 0;
      const removed = deleteOld.run(limit).changes;
      depth -= removed;
      drop('expired', removed);
      checkHighWater();
      return removed;
    },
    depth: () => depth,
    maxRows: opts.maxRows,
    totalAppended: maxId,
    stats() {
      const o = oldest.get();
      return { ...st, dropped: { ...st.dropped }, depth, maxRows: opts.maxRows, oldestAgeMs: o ? Math.max(0, now() - o.at) : 0 };
    },
    close() {
      if (db.open) db.close();
    },
  };
}

/**
 * Token bucket for draining backlog at a bounded rate (rows/s), so a long replay cannot
 * swamp the broker or InfluxDB while live data keeps its place.
 */
export function createRateLimiter(ratePerSec: number, now: () => number = Date.now) {
  const capacity = Math.max(1, ratePerSec);
  let tokens = capacity;
  let last = now();
  return {
    /** Rows that may go now (≥ 0, at most `want`); call `spend` with what was actually taken. */
    allowance(want: number): number {
      const t = now();
      tokens = Math.min(capacity, tokens + ((t - last) / 1000) * ratePerSec);
      last = t;
      return Math.max(0, Math.min(want, Math.floor(tokens)));
    },
    spend(n: number): void {
      tokens -= n;
    },
    /** ms until at least one row is allowed. */
    waitMs(): number {
      return tokens >= 1 ? 0 : Math.ceil(((1 - tokens) / ratePerSec) * 1000);
    },
  };
}
