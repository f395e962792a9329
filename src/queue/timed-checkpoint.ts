import type Database from 'better-sqlite3';

/**
 * Timed WAL checkpoints for a durable queue (docs/data-integrity.md "Checkpoints").
 *
 * A checkpoint fsyncs the WAL and the database. SQLite's default runs one inside whichever commit
 * makes the WAL reach 1,000 pages: at 10,000 commits/s that is several fsyncs a second on the hot
 * path, and at a few commits/s the WAL goes unsynced for minutes. A timer bounds both: at most one
 * checkpoint per interval, and nothing older than an interval left unsynced (power loss). SQLite's
 * own checkpoint stays as a backstop at 20,000 pages (80 MB) should the timer be starved.
 */
export interface TimedCheckpoint {
  /** Say that a commit happened: the next tick checkpoints. */
  committed(): void;
  stop(): void;
}

export function startTimedCheckpoint(db: Database.Database, intervalMs: number): TimedCheckpoint {
  let dirty = false;
  db.pragma('wal_autocheckpoint = 20000');
  // After a checkpoint the WAL is reused from its start; this trims a file a burst made large.
  db.pragma(`journal_size_limit = ${64 * 2 ** 20}`);
  const timer = setInterval(() => {
    if (!dirty || !db.open) return;
    dirty = false;
    db.pragma('wal_checkpoint(PASSIVE)');
  }, intervalMs).unref();
  return {
    committed: () => {
      dirty = true;
    },
    stop: () => clearInterval(timer),
  };
}
