import type { MqttClient } from 'mqtt';
import { createIdleWaiters } from '../core/idle-waiters.ts';
import type { Reading } from '../core/reading.ts';
import type { DurableQueue, QueueBatch } from '../queue/durable-queue.ts';
import { createPacedBacklog } from '../queue/rate-limiter.ts';
import { type CommitMember, createOutboxCommits, type OutboxCommits } from './commit-group.ts';
import { cutMessages, idRanges, type OutboxMessage } from './outbox-message.ts';
import { createSeqStamper } from './point-identity.ts';
import { createReceiptTracker, type ReceiptOptions } from './receipt-tracker.ts';
import { openSourceMarks, type SourceMark } from './source-mark.ts';

export interface PublisherOptions {
  client: MqttClient;
  topic: string;
  /** The device's durable outbox; the publisher owns its cursors but not its life (caller closes it). */
  outbox: DurableQueue;
  /**
   * Commits shared with the other devices of the outbox's file, one transaction per event-loop
   * turn (commit-group.ts, outbox-file.ts). Default: a group of this publisher alone.
   */
  commits?: OutboxCommits;
  /** Readings within this window after the last send wait and go out as one message (ms); one after a quieter spell goes at once. Default 50. */
  coalesceMs: number;
  /**
   * Most QoS 1 messages awaiting PUBACK. mqtt.js has a 16-bit message-id space and silently
   * never resolves callbacks past 65,535 in flight (docs/runtime-facts.md §5), so we never get near it.
   */
  maxInflight: number;
  /** Most readings in one message (default 1000; the contract allows 10 000). */
  maxPerMessage?: number;
  /** Backlog (rows left from before a restart or an outage) drained at most this fast, readings/s. Default 5000. */
  backlogRatePerSec?: number;
  /** Longest an acknowledged row waits for the next append to carry its delete (ms). Default 2000. */
  ackDeleteDelayMs?: number;
  /** Pause after a failed publish before the outbox is replayed (ms). Default 1000. */
  retryMs?: number;
  onPublishError(err: Error, count: number): void;
  /**
   * Station mode (embedded broker, queues in memory): keep each message's rows after the PUBACK
   * until ingest confirms the readings are durable; `station`/`device` name this publisher's readings.
   */
  receipts?: ReceiptOptions;
}

export interface PublisherStats {
  /** Readings in the outbox (committed, not yet acknowledged by the broker). */
  queued: number;
  inflight: number;
  published: number;
  messages: number;
  refused: number;
}

/**
 * Coalescing QoS 1 publisher backed by the SQLite outbox (src/queue/durable-queue.ts).
 *
 * A reading is committed to the outbox (one transaction per event-loop turn, shared by every device
 * of the outbox file that has readings in that turn, so a burst or a read tick costs one commit) and
 * only what is committed is published. A message's rows leave the outbox once acknowledged
 * (PUBACK): they are deleted in the transaction of the next append, or after `ackDeleteDelayMs`
 * when none comes, so a device reading once a second costs one commit per reading, not two
 * (docs/benchmarks.md "Edge footprint"). A crash in between re-sends those rows at the next start,
 * which is safe for the reason below. A
 * failed publish rewinds the outbox, so everything unacknowledged goes again: re-sends are safe
 * because a reading's InfluxDB identity is deterministic. Live readings go first; backlog from a
 * restart or an outage is interleaved at `backlogRatePerSec`.
 */
export function createPublisher(opts: PublisherOptions) {
  const { outbox, client } = opts;
  if (outbox.separator !== '\n') throw new Error('the publisher needs an outbox whose separator is a newline');
  const maxPerMessage = opts.maxPerMessage ?? 1000;
  // A row holds one turn's readings (≥ one message's worth): one insert and one delete per row.
  const rowItems = Math.max(maxPerMessage, 1000);
  const backlog = createPacedBacklog({
    ratePerSec: opts.backlogRatePerSec ?? 5000,
    takeBacklog: (n) => outbox.takeBacklog(n),
    wake: () => pump(),
  });
  const pending: string[] = [];
  // Callers waiting for the readings they handed over to be committed (the MQTT link's PUBACK).
  let commitWaiters: { resolve(): void; reject(err: Error): void }[] = [];
  // The broker message the pending readings came from, committed with them (source-mark.ts).
  const marks = openSourceMarks(outbox.db, outbox.name);
  let pendingMark: SourceMark | undefined;
  const commits = opts.commits ?? createOutboxCommits(outbox.db);
  // Rows every message of which was acknowledged, not yet deleted: the delete rides in the next
  // append's transaction, so a steady device costs one commit per reading instead of two, or
  // runs on its own after `ackDeleteDelayMs` when no reading follows (module comment).
  const ackedRows: number[] = [];
  let ackedItems = 0;
  let deleteTimer: NodeJS.Timeout | undefined;
  // Messages cut from rows already taken, not yet sent (bounded by one take).
  let queue: OutboxMessage[] = [];
  let queueHead = 0;
  let inflight = 0;
  let coalesceTimer: NodeJS.Timeout | undefined;
  let lastLiveFlushAt = Number.NEGATIVE_INFINITY;
  let ackTimer: NodeJS.Immediate | undefined;
  let closed = false;
  let failed = false;
  let blocked = false;
  let backlogDue = outbox.depth() > 0;
  const stats = { published: 0, messages: 0, refused: 0 };
  const identity = createSeqStamper();
  const idle = createIdleWaiters();
  const confirm = opts.receipts ? createReceiptTracker(opts.receipts, settle, fail) : undefined;

  // This publisher's part of its group's commit: the turn's readings, the deletes of acknowledged
  // rows riding along, and the source mark, all in the group's one transaction.
  const member: CommitMember = {
    write() {
      if (pending.length === 0) return;
      // Append first: a failing insert (disk full) throws before the ack has changed the outbox's
      // in-memory depth, so the rolled-back transaction leaves memory and file in step.
      outbox.append(pending.splice(0), rowItems);
      if (ackedRows.length > 0) {
        outbox.ack(...idRanges(ackedRows));
        forgetAcked();
      }
      if (pendingMark) marks.write(pendingMark);
      pendingMark = undefined;
      wrote = true;
    },
    settle(err) {
      const waiters = commitWaiters;
      commitWaiters = [];
      // Not committed: whoever waits must not acknowledge the source (the broker re-sends).
      if (err) for (const w of waiters) w.reject(err);
      else afterCommit(waiters);
    },
  };
  let wrote = false;

  function afterCommit(waiters: typeof commitWaiters): void {
    if (wrote && !coalesceTimer && !closed) {
      // Leading edge: a reading after a quiet spell goes out in this turn; only readings within
      // `coalesceMs` of the last send wait for the window. A 1 Hz instrument's reading thus costs
      // no timer wake-up and no window of latency, and a burst is still coalesced.
      const since = Date.now() - lastLiveFlushAt;
      if (since >= opts.coalesceMs) flushLive();
      else coalesceTimer = setTimeout(flushLive, opts.coalesceMs - since);
    }
    wrote = false;
    for (const w of waiters) w.resolve();
  }

  /** Commits now what this publisher (and any other of its group) holds. */
  const commit = () => commits.flush();

  function flushLive(): void {
    coalesceTimer = undefined;
    lastLiveFlushAt = Date.now();
    pump();
  }

  /** Once per event-loop turn with PUBACKs: arms the delete of acknowledged rows and resumes the pump. */
  function flushAcks(): void {
    if (ackTimer) clearImmediate(ackTimer);
    ackTimer = undefined;
    if (ackedRows.length > 0 && !deleteTimer && !closed) deleteTimer = setTimeout(deleteAcked, opts.ackDeleteDelayMs ?? 2000);
    // One pump per turn for all the PUBACKs of that turn.
    if (!failed && (blocked || backlogDue)) pump();
    notifyIdle();
  }

  /** Deletes the acknowledged rows now, in a transaction of their own. */
  function deleteAcked(): void {
    if (ackedRows.length > 0) outbox.ack(...idRanges(ackedRows));
    forgetAcked();
  }

  function forgetAcked(): void {
    ackedRows.length = 0;
    ackedItems = 0;
    if (deleteTimer) clearTimeout(deleteTimer);
    deleteTimer = undefined;
  }

  /** Readings committed and not yet acknowledged (acknowledged rows awaiting their delete are not). */
  const unacked = () => outbox.depth() - ackedItems + pending.length;

  /** The message reached its next hop (PUBACK, and in station mode ingest's receipt). */
  function settle(m: OutboxMessage): void {
    inflight--;
    for (const row of m.rows)
      if (--row.open === 0) {
        ackedRows.push(row.id);
        ackedItems += row.items;
      }
    ackTimer ??= setImmediate(flushAcks);
    stats.published += m.items;
    stats.messages++;
    // Live rows wait for their coalescing window; a blocked pump or backlog resumes in flushAcks.
    if (failed && inflight === 0) recover();
  }

  function fail(err: Error, count: number, released: number): void {
    inflight -= released;
    failed = true;
    opts.onPublishError(err, count);
    if (inflight === 0) recover();
  }

  function send(m: OutboxMessage): void {
    inflight++;
    confirm?.track(m);
    client.publish(opts.topic, `{"v":1,"readings":[${m.body}]}`, { qos: 1 }, (err) => {
      if (err) {
        confirm?.forget(m);
        fail(err, m.items, 1);
      } else if (confirm) confirm.pubacked(m);
      else settle(m);
    });
  }

  /** After a failure, once nothing is in flight: replay everything unacknowledged, oldest first. */
  function recover(): void {
    failed = false;
    queue = [];
    queueHead = 0;
    flushAcks();
    deleteAcked(); // before the rewind, or acknowledged rows would be sent again
    outbox.rewind();
    backlogDue = outbox.depth() > 0;
    if (!closed) setTimeout(pump, opts.retryMs ?? 1000);
  }

  /** Takes live rows, then backlog rows at the backlog rate, and cuts them into messages. */
  function refill(): boolean {
    queue = [];
    queueHead = 0;
    // Bounded, so a long backlog is not read into memory at once.
    const room = Math.min(opts.maxInflight - inflight, Math.max(1, Math.floor(50_000 / maxPerMessage)));
    const live = outbox.takeLive(room * maxPerMessage);
    const backlog = backlogDue ? takeBacklog() : undefined;
    for (const b of [live, backlog]) if (b) queue.push(...cutMessages(b, maxPerMessage));
    return queue.length > 0;
  }

  function pump(): void {
    blocked = false;
    if (closed || failed || !client.connected) return;
    while (inflight < opts.maxInflight) {
      if (queueHead >= queue.length && !refill()) return;
      send(queue[queueHead++] as OutboxMessage);
    }
    blocked = true;
  }

  function takeBacklog(): QueueBatch | undefined {
    const batch = backlog.take(rowItems);
    if (batch === 'empty') backlogDue = false;
    return typeof batch === 'string' ? undefined : batch;
  }

  function notifyIdle(): void {
    if (inflight === 0 && unacked() === 0) idle.notify();
  }

  // A reconnect after a broker outage: mqtt.js re-sends what it had in flight; we go on from there.
  const onConnect = () => pump();
  client.on('connect', onConnect);
  if (backlogDue) setImmediate(pump);

  return {
    /**
     * Takes a reading for the outbox; it is committed at the end of this event-loop turn.
     * An agent-stamped reading gets its `seq` here (point-identity.ts), kept in the row for re-sends.
     * False when the outbox is full (the caller counts RS_ERR_QUEUE_FULL; the outbox counts `full`).
     */
    publish(reading: Reading): boolean {
      if (closed || outbox.depth() + pending.length >= outbox.maxRows) {
        stats.refused++;
        return false;
      }
      if (pending.length === 0) commits.hold(member, member.settle);
      pending.push(JSON.stringify(identity.stamp(reading)));
      return true;
    },
    /**
     * Resolves once every reading handed to `publish()` so far is committed to the outbox (at
     * the end of this event-loop turn; at once when none is pending). Rejects when the commit
     * failed. The MQTT device link sends its PUBACK only after this (docs/agent.md). `mark`
     * names the broker message the readings came from; it is committed with them.
     */
    committed(mark?: SourceMark): Promise<void> {
      if (pending.length === 0) return Promise.resolve();
      if (mark) pendingMark = mark;
      return new Promise<void>((resolve, reject) => commitWaiters.push({ resolve, reject }));
    },
    /** True when a redelivered broker message is the one whose readings were committed last. */
    isLastCommitted: (mark: SourceMark) => marks.isLastCommitted(mark),
    /** Resolves once everything in the outbox has been acknowledged by the broker. */
    async drain(): Promise<void> {
      commit();
      if (coalesceTimer) {
        clearTimeout(coalesceTimer);
        flushLive();
      }
      if (inflight > 0 || unacked() > 0) await idle.wait();
      deleteAcked();
    },
    /** Stops publishing; what is left stays in the outbox for the next start. */
    close(): void {
      closed = true; // first: the commit below must not publish rows the outbox is about to close on
      commit();
      flushAcks();
      deleteAcked();
      clearTimeout(coalesceTimer);
      backlog.stop();
      confirm?.close();
      client.off('connect', onConnect);
    },
    stats(): PublisherStats {
      return { ...stats, queued: unacked(), inflight };
    },
  };
}
export type Publisher = ReturnType<typeof createPublisher>;
