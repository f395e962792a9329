import type { MqttClient } from 'mqtt';
import type { ReadingsMessage } from '../core/contract.ts';
import type { Reading } from '../core/reading.ts';

export interface PublisherOptions {
  client: MqttClient;
  topic: string;
  /** Readings ready within this window go out as one message (ms). */
  coalesceMs: number;
  /**
   * Most QoS 1 messages awaiting PUBACK. mqtt.js has a 16-bit message-id space and silently
   * never resolves callbacks past 65,535 in flight (RUNTIME-NOTES §5), so we never get near it.
   */
  maxInflight: number;
  /** Most readings held while waiting for a free slot; beyond it new readings are refused and counted. */
  maxQueued: number;
  onPublishError(err: Error, count: number): void;
}

export interface PublisherStats {
  queued: number;
  inflight: number;
  published: number;
  messages: number;
  refused: number;
}

/**
 * Coalescing QoS 1 publisher for one readings topic. In-memory for now: a reading is held
 * until the broker's PUBACK, and re-queued at the front when a publish fails, so a broker
 * outage delays readings instead of losing them. (The durable SQLite outbox replaces this
 * queue in the zero-loss ingestion work.)
 */
export function createPublisher(opts: PublisherOptions) {
  const queue: Reading[] = [];
  let inflight = 0;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const stats = { published: 0, messages: 0, refused: 0 };
  const idleWaiters: (() => void)[] = [];
  const maxPerMessage = 1000;

  function schedule(): void {
    if (timer || closed) return;
    timer = setTimeout(() => {
      timer = undefined;
      pump();
    }, opts.coalesceMs);
  }

  function pump(): void {
    while (queue.length > 0 && inflight < opts.maxInflight) {
      const batch = queue.splice(0, maxPerMessage);
      const message: ReadingsMessage = { v: 1, readings: batch };
      inflight += 1;
      opts.client.publish(opts.topic, JSON.stringify(message), { qos: 1 }, (err) => {
        inflight -= 1;
        if (err) {
          queue.unshift(...batch);
          opts.onPublishError(err, batch.length);
          if (!closed) setTimeout(pump, 1000);
        } else {
          stats.published += batch.length;
          stats.messages += 1;
          if (queue.length > 0) pump();
        }
        if (queue.length === 0 && inflight === 0) for (const w of idleWaiters.splice(0)) w();
      });
    }
  }

  return {
    /** Queues a reading; false when the queue is full (the caller counts RS_ERR_QUEUE_FULL). */
    publish(reading: Reading): boolean {
      if (queue.length >= opts.maxQueued) {
        stats.refused += 1;
        return false;
      }
      queue.push(reading);
      schedule();
      return true;
    },
    /** Resolves once everything queued has been acknowledged by the broker. */
    async drain(): Promise<void> {
      if (timer) {
        clearTimeout(timer);
        timer = undefined;
        pump();
      }
      if (queue.length === 0 && inflight === 0) return;
      await new Promise<void>((resolve) => idleWaiters.push(resolve));
    },
    close(): void {
      closed = true;
      if (timer) clearTimeout(timer);
    },
    stats(): PublisherStats {
      return { ...stats, queued: queue.length, inflight };
    },
  };
}
export type Publisher = ReturnType<typeof createPublisher>;
