import type { MqttClient } from 'mqtt';
import type { Reading } from '../core/reading.ts';
import type { DurableReceipts } from '../ingest/receipts.ts';
import { createRateLimiter, type DurableQueue, type QueueBatch, splitBatch } from './outbox.ts';

export interface PublisherOptions {
  client: MqttClient;
  topic: string;
  /** The device's durable outbox; the publisher owns its cursors but not its life (caller closes it). */
  outbox: DurableQueue;
  /** Readings ready within this window go out as one message (ms). Default 50. */
  coalesceMs: number;
  /**
   * Most QoS 1 messages awaiting PUBACK. mqtt.js has a 16-bit message-id space and silently
   * never resolves callbacks past 65,535 in flight (RUNTIME-NOTES §5), so we never get near it.
   */
  maxInflight: number;
  /** Most readings in one message (default 1000; the contract allows 10 000). */
  maxPerMessage?: number;
  /** Backlog (rows left from before a restart or an outage) drained at most this fast, readings/s. Default 5000. */
  backlogRatePerSec?: number;
  /** Pause after a failed publish before the outbox is replayed (ms). Default 1000. */
  retryMs?: number;
  onPublishError(err: Error, count: number): void;
  /**
   * Station mode (embedded broker, queues in memory): keep each message's rows after the PUBACK
   * until ingest confirms the readings are durable; `station`/`device` name this publisher's readings.
   */
  receipts?: { hub: DurableReceipts; station: string; device: string; timeoutMs?: number };
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
 * Coalescing QoS 1 publisher backed by the SQLite outbox (outbox.ts).
 *
 * A reading is committed to the outbox (one transaction per event-loop turn, so a burst costs one
 * commit) and only what is committed is published; a message's rows are deleted on PUBACK. A
 * failed publish rewinds the outbox, so everything unacknowledged goes again: re-sends are safe
 * because a reading's InfluxDB identity is deterministic. Live readings go first; backlog from a
 * restart or an outage is interleaved at `backlogRatePerSec`.
 */
export function createPublisher(opts: PublisherOptions) {
  const { outbox, client } = opts;
  if (outbox.separator !== ',') throw new Error("the publisher needs an outbox whose separator is ','");
  const maxPerMessage = opts.maxPerMessage ?? 1000;
  const limiter = createRateLimiter(opts.backlogRatePerSec ?? 5000);
  const pending: string[] = [];
  const acked: QueueBatch[] = [];
  let inflight = 0;
  let coalesceTimer: NodeJS.Timeout | undefined;
  let backlogTimer: NodeJS.Timeout | undefined;
  let ackTimer: NodeJS.Immediate | undefined;
  let closed = false;
  let failed = false;
  let blocked = false;
  let backlogDue = outbox.depth() > 0;
  const stats = { published: 0, messages: 0, refused: 0 };
  const idleWaiters: (() => void)[] = [];
  const confirm = opts.receipts ? createConfirmations(opts.receipts, settle, fail) : undefined;

  function commit(): void {
    if (pending.length === 0) return;
    // One row per message-to-be: one insert and one delete per message, not per reading.
    outbox.append(pending.splice(0), maxPerMessage);
    if (!coalesceTimer && !closed) coalesceTimer = setTimeout(flushLive, opts.coalesceMs);
  }

  function flushLive(): void {
    coalesceTimer = undefined;
    pump();
  }

  /** Deletes acknowledged rows in one transaction per event-loop turn, not one per PUBACK. */
  function flushAcks(): void {
    if (ackTimer) clearImmediate(ackTimer);
    ackTimer = undefined;
    if (acked.length > 0) outbox.ack(...acked.splice(0));
    // One pump per turn for all the PUBACKs of that turn: one SELECT for many messages.
    if (!failed && (blocked || backlogDue)) pump();
    notifyIdle();
  }

  /** The batch reached its next hop (PUBACK, and in station mode ingest's receipt). */
  function settle(batch: QueueBatch): void {
    inflight--;
    acked.push(batch);
    ackTimer ??= setImmediate(flushAcks);
    stats.published += batch.items;
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

  function send(batch: QueueBatch): void {
    inflight++;
    const body = `{"v":1,"readings":[${batch.bodies.join(',')}]}`;
    confirm?.track(batch);
    client.publish(opts.topic, body, { qos: 1 }, (err) => {
      if (err) {
        if (confirm) confirm.forget(batch);
        fail(err, batch.items, 1);
      } else if (confirm) confirm.pubacked(batch);
      else settle(batch);
    });
  }

  /** After a failure, once nothing is in flight: replay everything unacknowledged, oldest first. */
  function recover(): void {
    failed = false;
    flushAcks();
    outbox.rewind();
    backlogDue = outbox.depth() > 0;
    if (!closed) setTimeout(pump, opts.retryMs ?? 1000);
  }

  function pump(): void {
    blocked = false;
    if (closed || failed || !client.connected) return;
    while (inflight < opts.maxInflight) {
      // Several messages per SELECT (bounded, so a long backlog is not read into memory at once).
      const room = Math.min(opts.maxInflight - inflight, Math.max(1, Math.floor(50_000 / maxPerMessage)));
      const live = outbox.takeLive(room * maxPerMessage);
      if (live) for (const b of splitBatch(live, maxPerMessage)) send(b);
      if (inflight >= opts.maxInflight) break;
      const backlog = backlogDue ? takeBacklog() : undefined;
      if (backlog) for (const b of splitBatch(backlog, maxPerMessage)) send(b);
      if (!live && !backlog) return;
    }
    blocked = true;
  }

  function takeBacklog(): QueueBatch | undefined {
    const allowed = limiter.allowance(maxPerMessage);
    if (allowed === 0) {
      backlogTimer ??= setTimeout(() => {
        backlogTimer = undefined;
        pump();
      }, limiter.waitMs());
      return undefined;
    }
    const batch = outbox.takeBacklog(allowed);
    if (!batch) backlogDue = false;
    else limiter.spend(batch.items);
    return batch;
  }

  function notifyIdle(): void {
    if (pending.length === 0 && inflight === 0 && outbox.depth() === 0) for (const w of idleWaiters.splice(0)) w();
  }

  // A reconnect after a broker outage: mqtt.js re-sends what it had in flight; we go on from there.
  const onConnect = () => pump();
  client.on('connect', onConnect);
  if (backlogDue) setImmediate(pump);

  return {
    /**
     * Takes a reading for the outbox; it is committed at the end of this event-loop turn.
     * False when the outbox is full (the caller counts RS_ERR_QUEUE_FULL; the outbox counts `full`).
     */
    publish(reading: Reading): boolean {
      if (closed || outbox.depth() + pending.length >= outbox.maxRows) {
        stats.refused++;
        return false;
      }
      if (pending.length === 0) queueMicrotask(commit);
      pending.push(JSON.stringify(reading));
      return true;
    },
    /** Resolves once everything in the outbox has been acknowledged by the broker. */
    async drain(): Promise<void> {
      commit();
      if (coalesceTimer) {
        clearTimeout(coalesceTimer);
        flushLive();
      }
      if (pending.length === 0 && inflight === 0 && outbox.depth() === 0) return;
      await new Promise<void>((resolve) => idleWaiters.push(resolve));
    },
    /** Stops publishing; what is left stays in the outbox for the next start. */
    close(): void {
      commit();
      flushAcks();
      closed = true;
      clearTimeout(coalesceTimer);
      clearTimeout(backlogTimer);
      confirm?.close();
      client.off('connect', onConnect);
    },
    stats(): PublisherStats {
      return { ...stats, queued: outbox.depth() + pending.length, inflight };
    },
  };
}
export type Publisher = ReturnType<typeof createPublisher>;

/** One message awaiting its receipt: the identities (ts → copies) not yet confirmed. */
interface Awaiting {
  batch: QueueBatch;
  left: Map<number, number>;
  remaining: number;
  pubacked: boolean;
  sentAt: number;
}

/**
 * Station-mode bookkeeping: a message settles once it has both its PUBACK and ingest's receipt
 * for every reading in it. Receipts can come before the PUBACK (in-process, either order).
 * A message without its receipts after `timeoutMs` (ingest down or refusing) fails, so the
 * publisher replays the outbox: re-sends are harmless, the point identity is deterministic.
 */
function createConfirmations(
  r: NonNullable<PublisherOptions['receipts']>,
  settle: (b: QueueBatch) => void,
  fail: (err: Error, count: number, released: number) => void,
) {
  const timeoutMs = r.timeoutMs ?? 30_000;
  let awaiting: Awaiting[] = [];
  const done = (a: Awaiting) => a.pubacked && a.remaining === 0;
  function sweepDone(): void {
    const ready = awaiting.filter(done);
    if (ready.length === 0) return;
    awaiting = awaiting.filter((a) => !done(a));
    for (const a of ready) settle(a.batch);
  }
  const unlisten = r.hub.listen(r.station, r.device, (ts) => {
    for (const t of ts) {
      const a = awaiting.find((x) => (x.left.get(t) ?? 0) > 0);
      if (!a) continue;
      a.left.set(t, (a.left.get(t) ?? 1) - 1);
      a.remaining--;
    }
    sweepDone();
  });
  const timer = setInterval(
    () => {
      const now = Date.now();
      const late = awaiting.filter((a) => now - a.sentAt > timeoutMs);
      if (late.length === 0) return;
      awaiting = awaiting.filter((a) => now - a.sentAt <= timeoutMs);
      const count = late.reduce((n, a) => n + a.batch.items, 0);
      fail(new Error(`no receipt from ingest within ${timeoutMs} ms; the outbox will replay`), count, late.length);
    },
    Math.max(50, timeoutMs / 4),
  );
  timer.unref();
  return {
    track(batch: QueueBatch): void {
      const left = new Map<number, number>();
      for (const body of batch.bodies)
        for (const reading of JSON.parse(`[${body}]`) as Reading[]) left.set(reading.ts, (left.get(reading.ts) ?? 0) + 1);
      awaiting.push({ batch, left, remaining: batch.items, pubacked: false, sentAt: Date.now() });
    },
    pubacked(batch: QueueBatch): void {
      const a = awaiting.find((x) => x.batch === batch);
      if (a) a.pubacked = true;
      sweepDone();
    },
    forget(batch: QueueBatch): void {
      awaiting = awaiting.filter((x) => x.batch !== batch);
    },
    close(): void {
      clearInterval(timer);
      unlisten();
    },
  };
}
