import type Database from 'better-sqlite3';

/** A publisher's part in a group commit (publisher.ts). */
export interface CommitMember {
  /** Writes what it holds (readings, deletes of acknowledged rows, its source mark); runs inside the group's transaction. */
  write(): void;
  /** After the transaction: committed (no error), or not committed (the error). Must not throw. */
  settle(err?: Error): void;
}

/**
 * One transaction per event-loop turn for every publisher that has readings in that turn.
 *
 * The agent's devices share one outbox file (outbox-file.ts). With the shared read tick
 * (src/transports/main-thread-read.ts) the lines of all ports that arrived within a tick are
 * decoded in the same turn; committing each device's readings on its own cost a SQLite commit
 * per reading, the largest item of the agent's CPU at 64 devices (docs/benchmarks.md "Edge
 * footprint" → "Fourth round"). Here the first member due in a turn queues one microtask, which
 * runs after every other member's readings of that turn are in, and commits them all together.
 *
 * A failed commit settles every member with the error and throws, as a single publisher's
 * failed commit always has: nothing of that turn was committed, so nothing is acknowledged.
 */
export function createCommitGroup(db: Database.Database) {
  let due = new Set<CommitMember>();
  const writeAll = db.transaction((members: Iterable<CommitMember>) => {
    for (const m of members) m.write();
  });
  function flush(): void {
    if (due.size === 0) return;
    const members = due;
    due = new Set();
    try {
      writeAll(members);
    } catch (err) {
      for (const m of members) m.settle(err as Error);
      throw err;
    }
    for (const m of members) m.settle();
  }
  return {
    /** `m` has something to commit: it is written with the others at the end of this turn. */
    schedule(m: CommitMember): void {
      if (due.size === 0) queueMicrotask(flush);
      due.add(m);
    },
    /** Commits what is due now (a publisher draining or closing cannot wait for the turn to end). */
    flush,
  };
}
export type CommitGroup = ReturnType<typeof createCommitGroup>;
