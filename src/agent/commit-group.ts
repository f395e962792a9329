import type Database from 'better-sqlite3';
import { createGroupCommit, type GroupCommit } from '../queue/group-commit.ts';

/** A publisher's part in its outbox file's commit (publisher.ts). */
export interface CommitMember {
  /** Writes what it holds (readings, deletes of acknowledged rows, its source mark); runs inside the shared transaction. */
  write(): void;
  /** After the transaction: committed (no error), or not committed (the error). Must not throw. */
  settle(err?: Error): void;
}

/** Commits of the publishers that share one outbox file. */
export type OutboxCommits = GroupCommit<CommitMember>;

/**
 * One transaction per event-loop turn for every publisher of an outbox file that has readings in
 * that turn (src/queue/group-commit.ts). The agent's devices share one file (outbox-file.ts); with
 * the shared read tick (src/transports/main-thread-read.ts) the lines of all ports that arrived
 * within a tick are decoded in the same turn, and committing each device's readings on its own cost
 * a SQLite commit per reading, the largest item of the agent's CPU at 64 devices
 * (docs/benchmarks.md "Edge footprint" → "Fourth round").
 *
 * A failed commit settles every member with the error (nothing of that turn was committed, so
 * nothing is acknowledged or published) and then throws, as a single publisher's failed commit
 * always has: the agent stops, and its service manager restarts it on the file as it was.
 */
export function createOutboxCommits(db: Database.Database): OutboxCommits {
  const writeAll = db.transaction((members: CommitMember[]) => {
    for (const m of members) m.write();
  });
  return createGroupCommit<CommitMember>(
    writeAll,
    (err) => {
      throw err;
    },
    false,
  );
}
