/**
 * One transaction for what is held in one event-loop turn, shared by the ingest and the agent
 * (src/queue: both import it, never each other):
 * - the ingest's MQTT connections each hold one message at a time (src/ingest/connections.ts); the
 *   messages held in a turn are committed to the spool together, then each is acknowledged;
 * - the agent's devices share one outbox file (src/agent/outbox-file.ts); the readings of every
 *   device in a turn (one serial read tick) are committed together, then published.
 */

/** Something held for the group commit, and what to call once its commit succeeded or failed. */
interface Held<T> {
  /** Undefined: nothing to store (e.g. refused and dead-lettered), settled with the group. */
  item: T | undefined;
  done: (err?: Error) => void;
}

export interface GroupCommit<T> {
  /** Holds `item`; `done()` once it is committed, `done(err)` if the commit threw. */
  hold(item: T | undefined, done: (err?: Error) => void): void;
  /** Commits what is held now (a publisher draining or closing cannot wait for the turn to end). */
  flush(): void;
}

/**
 * Batches held items per event-loop turn (setImmediate runs after the poll and timer phases, so
 * every socket with data and every timer of this turn has handed over its items by then).
 * `immediate`: commit each item at once (one MQTT connection: waiting a turn would only add latency).
 * A failed commit settles every held item with the error first, then calls `onFailed`, which may
 * throw (the agent stops, as on any failed outbox commit) or count and go on (the ingest: the
 * broker redelivers what it did not acknowledge).
 */
export function createGroupCommit<T>(
  commit: (items: T[]) => void,
  onFailed: (err: Error, count: number) => void,
  immediate: boolean,
): GroupCommit<T> {
  let held: Held<T>[] = [];
  const run = (group: Held<T>[]) => {
    const items: T[] = [];
    for (const h of group) if (h.item !== undefined) items.push(h.item);
    try {
      if (items.length > 0) commit(items);
    } catch (err) {
      for (const h of group) h.done(err as Error);
      onFailed(err as Error, group.length);
      return;
    }
    for (const h of group) h.done();
  };
  const flush = () => {
    if (held.length === 0) return;
    const group = held;
    held = [];
    run(group);
  };
  return {
    hold(item, done) {
      if (immediate) return run([{ item, done }]);
      held.push({ item, done });
      if (held.length === 1) setImmediate(flush);
    },
    flush,
  };
}
