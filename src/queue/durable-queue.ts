import type Database from 'better-sqlite3';
import { openPrivateDatabase } from '../core/private-database.ts';
import type { QueueBatch } from './queue-batch.ts';
import { startTimedCheckpoint } from './timed-checkpoint.ts';

export { type QueueBatch, splitBatch } from './queue-batch.ts';

/**
 * The shared durable queue (src/queue: agent and ingest import it, never each other). A durable
 * FIFO of text items in SQLite (WAL): the agent's outbox (readings' JSON) and, through
 * ingest/spool.ts, the ingest spool (lines of line protocol).
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
 * and its ack is one `DELETE … BETWEEN`. A row may hold several items (`append(items, rowItems)`),
 * joined by the queue's separator; bounds, depth and counters are in items, not rows.
 */

/** A row as appended: its id, item count and body. */
interface TailRow {
  id: number;
  n: number;
  body: string;
}

/** Why rows left without being delivered. */
export type QueueDropReason = 'full' | 'expired';

/** A queue in a database it shares with other queues (the agent's outbox file: a queue per device). */
export interface SharedQueueFile {
  /** Opened and closed by the caller (synchronous = NORMAL, as openDurableQueue sets). */
  db: Database.Database;
  /** Tells this queue's tables and counters apart from the others' in the file. */
  name: string;
}

export interface QueueOptions {
  /** SQLite file (`:memory:` for a queue that dies with the process: tests, no data_dir), or a shared one. */
  path: string | SharedQueueFile;
  /** Most items kept; `append()` refuses beyond it (counted as `full`). */
  maxRows: number;
  /** Items older than this (ms since append) are dropped by `expire()` (counted as `expired`). */
  maxAgeMs: number;
  /** Joins the items of one row (default `\n`, which JSON.stringify never emits, so a row of readings splits back safely). */
  separator?: string;
  /** Fill ratio that raises the high-water alarm (default 0.8); it clears below ratio − 0.1. */
  highWater?: number;
  /** Called once when the fill crosses `highWater` (true) and when it falls back (false). Must not throw. */
  onHighWater?(high: boolean, depth: number, maxRows: number): void;
  /** Called for every counted drop. Must not throw. */
  onDrop?(reason: QueueDropReason, count: number): void;
  /** Most items the in-memory live tail mirrors (default 500 000); past it, live rows are read back from SQLite. */
  tailMaxItems?: number;
  /**
   * A queue in a file of its own only (a shared file's owner decides its checkpoints).
   * Checkpoint the WAL on a timer, every this many ms when something was committed, instead of
   * SQLite's default of every 1,000 WAL pages (docs/data-integrity.md "Checkpoints"). Unset: the
   * default (the agent's shared outbox file: its checkpoint worker would cost ~13 MiB of RSS,
   * device-runner.ts).
   */
  checkpointIntervalMs?: number;
  /** A timed checkpoint failed (SQLite's own at 20,000 pages still bounds the WAL). Must not throw. */
  onCheckpointError?(message: string): void;
  now?: () => number;
}

export interface QueueStats {
  /** Items held (not rows). */
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
  /**
   * Commits `items` in one transaction, `rowItems` per row (joined by the separator): one row per
   * item costs a B-tree insert and, later, a delete per item, which dominated the hot path.
   * Returns how many items were kept (the rest counted `full`).
   */
  append(items: readonly string[], rowItems?: number): number;
  /** Next live rows after the live cursor, at most `limit` items (but always ≥ 1 row); advances the cursor. */
  takeLive(limit: number): QueueBatch | undefined;
  /** Next backlog rows (appended before the live boundary), at most `limit` items; advances that cursor. */
  takeBacklog(limit: number): QueueBatch | undefined;
  /** Deletes delivered batches (or id ranges of delivered rows), all in one transaction. Idempotent. */
  ack(...batches: Pick<QueueBatch, 'firstId' | 'lastId'>[]): void;
  /**
   * Forgets both cursors: every row still present will be taken again. Rows appended from id
   * `liveSince` on (see nextId) stay live, the rest become backlog; without it, all are backlog.
   * Call only when no batch is in flight, after a failed delivery. Returns the live items.
   */
  rewind(liveSince?: number): number;
  /** The id the next appended row will get: a mark for `rewind(liveSince)`. */
  nextId(): number;
  /** Drops items older than maxAgeMs; returns how many. */
  expire(): number;
  /** Items held now. */
  depth(): number;
  /** The configured bound on items. */
  readonly maxRows: number;
  readonly separator: string;
  /** The queue's name in a shared file (SharedQueueFile); undefined alone in its file. */
  readonly name: string | undefined;
  /** The SQLite handle: a record that must commit atomically with an append wraps both in `db.transaction` (source-mark.ts). */
  readonly db: Database.Database;
  /** Items appended ever (survives restarts: kept in the file). */
  totalAppended(): number;
  stats(): QueueStats;
  close(): void;
}

/** Opens (creating) the queue. Rows found in the file are backlog. @throws when SQLite cannot open the file. */
export function openDurableQueue(opts: QueueOptions): DurableQueue {
  const now = opts.now ?? Date.now;
  const separator = opts.separator ?? '\n';
  const shared = typeof opts.path === 'string' ? undefined : opts.path;
  const db = shared?.db ?? openPrivateDatabase(opts.path as string);
  // NORMAL with WAL: a commit is in the OS once the call returns, so it survives a crash or SIGKILL
  // of this process (the guarantee we need: the next hop is acked only after it). Only a power cut
  // or kernel panic can lose the last commits before a checkpoint; FULL would fsync every commit
  // and cost several times the throughput on the hot path.
  if (!shared) db.pragma('synchronous = NORMAL');
  const checkpoint =
    opts.checkpointIntervalMs !== undefined && typeof opts.path === 'string' && opts.path !== ':memory:'
      ? startTimedCheckpoint(db, opts.path, opts.checkpointIntervalMs, opts.onCheckpointError)
      : undefined;
  const { table, counterKey } = queueNames(shared?.name);
  const q = quoteIdentifier(table);
  db.exec(`CREATE TABLE IF NOT EXISTS ${q} (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, body TEXT NOT NULL)`);
  // Files from before rows held several items: each of their rows is one item.
  const cols = db.prepare(`PRAGMA table_info(${q})`).all() as { name: string }[];
  if (!cols.some((c) => c.name === 'n')) db.exec(`ALTER TABLE ${q} ADD COLUMN n INTEGER NOT NULL DEFAULT 1`);
  db.exec('CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL)');
  const sequence = db.prepare<[string], number>('SELECT seq FROM sqlite_sequence WHERE name = ?').pluck();
  const maxId = () => sequence.get(table) ?? 0;
  db.prepare<[string, number]>('INSERT OR IGNORE INTO meta (k, v) VALUES (?, ?)').run(counterKey, maxId());
  const insert = db.prepare<[number, number, string]>(`INSERT INTO ${q} (at, n, body) VALUES (?, ?, ?)`);
  const bumpAppendedBy = db.prepare<[number, string]>('UPDATE meta SET v = v + ? WHERE k = ?');
  const appended = db.prepare<[string], number>('SELECT v FROM meta WHERE k = ?').pluck();
  const selectRange = db.prepare<[number, number, number], { id: number; n: number; body: string }>(
    `SELECT id, n, body FROM ${q} WHERE id > ? AND id < ? ORDER BY id LIMIT ?`,
  );
  const deleteRange = db.prepare<[number, number], number>(`DELETE FROM ${q} WHERE id BETWEEN ? AND ? RETURNING n`).pluck();
  const deleteOld = db.prepare<[number], number>(`DELETE FROM ${q} WHERE at < ? RETURNING n`).pluck();
  const oldest = db.prepare<[], { at: number }>(`SELECT at FROM ${q} ORDER BY id LIMIT 1`);
  const countFrom = db.prepare<[number], number>(`SELECT COALESCE(SUM(n), 0) FROM ${q} WHERE id >= ?`).pluck();
  const sum = (ns: number[]) => ns.reduce((a, b) => a + b, 0);
  const insertAll = db.transaction((items: readonly string[], rowItems: number, at: number) => {
    const rows: TailRow[] = [];
    for (let i = 0; i < items.length; i += rowItems) {
      const n = Math.min(rowItems, items.length - i);
      const body = n === 1 ? (items[i] as string) : items.slice(i, i + n).join(separator);
      rows.push({ id: Number(insert.run(at, n, body).lastInsertRowid), n, body });
    }
    bumpAppendedBy.run(items.length, counterKey);
    return rows;
  });
  const deleteAll = db.transaction((batches: Pick<QueueBatch, 'firstId' | 'lastId'>[]) => {
    let removed = 0;
    for (const b of batches) removed += sum(deleteRange.all(b.firstId, b.lastId));
    return removed;
  });

  // Live tail: the rows appended and not yet taken, kept in memory so the live path does not read
  // back what it has just written. Valid only while it mirrors the whole untaken live region;
  // when it would grow past TAIL_MAX items (a long outage) it is dropped and SQL takes over
  // until the live region has been read up to its end.
  const TAIL_MAX = opts.tailMaxItems ?? 500_000;
  let tail: TailRow[] = [];
  let tailHead = 0;
  let tailItems = 0;
  let tailValid = true;
  const resetTail = (valid: boolean) => {
    tail = [];
    tailHead = 0;
    tailItems = 0;
    tailValid = valid;
  };

  let depth = db.prepare(`SELECT COALESCE(SUM(n), 0) FROM ${q}`).pluck().get() as number;
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
    // A row holds ≥ 1 item, so `limit` rows always cover `limit` items; iterate, since rows
    // may hold many items each and reading `limit` of them would be wasteful.
    const batch: QueueBatch = { firstId: 0, lastId: 0, bodies: [], counts: [], ids: [], items: 0 };
    for (const r of selectRange.iterate(after, before, Math.max(1, limit))) {
      if (batch.items > 0 && batch.items + r.n > limit) break;
      batch.bodies.push(r.body);
      batch.counts.push(r.n);
      batch.ids.push(r.id);
      batch.items += r.n;
    }
    if (batch.ids.length === 0) return undefined;
    batch.firstId = batch.ids[0] as number;
    batch.lastId = batch.ids[batch.ids.length - 1] as number;
    return batch;
  }

  function takeTail(limit: number): QueueBatch | undefined {
    const batch: QueueBatch = { firstId: 0, lastId: 0, bodies: [], counts: [], ids: [], items: 0 };
    while (tailHead < tail.length) {
      const r = tail[tailHead] as TailRow;
      if (batch.items > 0 && batch.items + r.n > limit) break;
      batch.bodies.push(r.body);
      batch.counts.push(r.n);
      batch.ids.push(r.id);
      batch.items += r.n;
      tailHead++;
    }
    tailItems -= batch.items;
    if (tailHead === tail.length) resetTail(true);
    else if (tailHead > 1024 && tailHead * 2 > tail.length) {
      tail = tail.slice(tailHead);
      tailHead = 0;
    }
    if (batch.ids.length === 0) return undefined;
    batch.firstId = batch.ids[0] as number;
    batch.lastId = batch.ids[batch.ids.length - 1] as number;
    return batch;
  }

  return {
    append(items, rowItems = 1) {
      const room = Math.max(0, opts.maxRows - depth);
      const kept = items.length <= room ? items : items.slice(0, room);
      if (kept.length > 0) {
        const rows = insertAll(kept, Math.max(1, rowItems), now());
        checkpoint?.committed();
        if (tailValid && tailItems + kept.length <= TAIL_MAX) {
          for (const r of rows) tail.push(r);
          tailItems += kept.length;
        } else if (tailValid) resetTail(false);
      }
      depth += kept.length;
      st.appended += kept.length;
      checkHighWater();
      drop('full', items.length - kept.length);
      return kept.length;
    },
    takeLive(limit) {
      const batch = tailValid ? takeTail(limit) : take(liveCursor, Number.MAX_SAFE_INTEGER, limit);
      if (batch) liveCursor = batch.lastId;
      // SQL has read the live region to its end: the (empty) tail mirrors it again.
      else if (!tailValid) resetTail(true);
      return batch;
    },
    takeBacklog(limit) {
      const batch = take(backlogCursor, liveFrom, limit);
      if (batch) backlogCursor = batch.lastId;
      return batch;
    },
    ack(...batches) {
      if (batches.length === 0) return;
      const removed = deleteAll(batches);
      checkpoint?.committed();
      depth -= removed;
      st.acked += removed;
      checkHighWater();
    },
    rewind(liveSince) {
      liveFrom = Math.min(liveSince ?? Number.POSITIVE_INFINITY, maxId() + 1);
      liveCursor = liveFrom - 1;
      backlogCursor = 0;
      // Nothing is taken while a delivery is failing, so the rows from liveFrom on are untaken: a
      // valid tail holds all of them (and maybe older untaken rows, which are backlog now).
      if (!tailValid) {
        resetTail(false);
        return countFrom.get(liveFrom) ?? 0;
      }
      const live = tail.slice(tailHead).filter((r) => r.id >= liveFrom);
      resetTail(true);
      for (const r of live) tail.push(r);
      tailItems = live.reduce((n, r) => n + r.n, 0);
      return tailItems;
    },
    nextId: () => maxId() + 1,
    expire() {
      const limit = now() - opts.maxAgeMs;
      // The oldest row is cheap to read; the full scan runs only when something is due.
      const o = oldest.get();
      if (!o || o.at >= limit) return 0;
      const removed = sum(deleteOld.all(limit));
      // Rows not yet taken may have expired too: let SQL resynchronise the live region.
      resetTail(false);
      depth -= removed;
      drop('expired', removed);
      checkHighWater();
      return removed;
    },
    depth: () => depth,
    maxRows: opts.maxRows,
    separator,
    name: shared?.name,
    db,
    totalAppended: () => appended.get(counterKey) ?? 0,
    stats() {
      const o = oldest.get();
      return { ...st, dropped: { ...st.dropped }, depth, maxRows: opts.maxRows, oldestAgeMs: o ? Math.max(0, now() - o.at) : 0 };
    },
    close() {
      checkpoint?.stop();
      if (!shared && db.open) db.close();
    },
  };
}

/**
 * The table and `meta` counter of a queue: `q` and `appended` alone in its file (every file
 * written before queues shared one), `q:<name>` and `appended:<name>` in a shared file.
 */
export function queueNames(name: string | undefined): { table: string; counterKey: string } {
  return name === undefined ? { table: 'q', counterKey: 'appended' } : { table: `q:${name}`, counterKey: `appended:${name}` };
}

/** An SQL identifier for any name (a device id in a table name), quoted the way SQLite documents. */
export const quoteIdentifier = (name: string): string => `"${name.replaceAll('"', '""')}"`;
