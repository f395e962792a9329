import type { MqttClient } from 'mqtt';
import type { Reading } from '../core/reading.ts';
import { createRateLimiter, type DurableQueue, type QueueBatch } from './outbox.ts';

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
  const maxPerMessage = opts.maxPerMessage ?? 1000;
  const limiter = createRateLimiter(opts.backlogRatePerSec ?? 5000);
  const pending: string[] = [];
  let inflight = 0;
  let coalesceTimer: NodeJS.Timeout | undefined;
  let backlogTimer: NodeJS.Timeout | undefined;
  let closed = false;
  let failed = false;
  let blocked = false;
  let backlogDue = outbox.depth() > 0;
  const stats = { published: 0, messages: 0, refused: 0 };
  const idleWaiters: (() => void)[] = [];

  function commit(): void {
    if (pending.length === 0) return;
    outbox.append(pending.splice(0));
    if (!coalesceTimer && !closed) coalesceTimer = setTimeout(flushLive, opts.coalesceMs);
  }

  function flushLive(): void {
    coalesceTimer = undefined;
    pump();
  }

  function send(batch: QueueBatch): void {
    inflight++;
    const body = `{"v":1,"readings":[${batch.bodies.join(',')}]}`;
    client.publish(opts.topic, body, { qos: 1 }, (err) => {
      inflight--;
      if (err) {
        failed = true;
        opts.onPublishError(err, batch.bodies.length);
      } else {
        outbox.ack(batch);
        stats.published += batch.bodies.length;
        stats.messages++;
      }
      if (failed && inflight === 0) return recover();
      // Live rows wait for their coalescing window; only a blocked pump or backlog resumes here.
      if (blocked || backlogDue) pump();
      notifyIdle();
    });
  }

  /** After a failure, once nothing is in flight: replay everything unacknowledged, oldest first. */
  function recover(): void {
    failed = false;
    outbox.rewind();
    backlogDue = outbox.depth() > 0;
    if (!closed) setTimeout(pump, opts.retryMs ?? 1000);
  }

  function pump(): void {
    blocked = false;
    if (closed || failed || !client.connected) return;
    while (inflight < opts.maxInflight) {
      const live = outbox.takeLive(maxPerMessage);
      if (live) send(live);
      if (inflight >= opts.maxInflight) break;
      const backlog = backlogDue ? takeBacklog() : undefined;
      if (backlog) send(backlog);
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
    else limiter.spend(batch.bodies.length);
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
      closed = true;
      clearTimeout(coalesceTimer);
      clearTimeout(backlogTimer);
      client.off('connect', onConnect);
    },
    stats(): PublisherStats {
      return { ...stats, queued: outbox.depth() + pending.length, inflight };
    },
  };
}
export type Publisher = ReturnType<typeof createPublisher>;
