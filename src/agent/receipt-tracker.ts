import { pointTimeUs, type Reading } from '../core/reading.ts';
import type { DurableReceipts } from '../queue/receipts.ts';
import type { OutboxMessage } from './outbox-message.ts';

/** Station mode: whose readings a publisher sends, and how long it waits for ingest's receipt. */
export interface ReceiptOptions {
  hub: DurableReceipts;
  station: string;
  device: string;
  /** A message without its receipts after this long fails and the outbox replays (ms, default 30 000). */
  timeoutMs?: number;
}

/** One message awaiting its receipt: the identities (point time µs → copies) not yet confirmed. */
interface Awaiting {
  message: OutboxMessage;
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
export function createReceiptTracker(
  r: ReceiptOptions,
  settle: (m: OutboxMessage) => void,
  fail: (err: Error, count: number, released: number) => void,
) {
  const timeoutMs = r.timeoutMs ?? 30_000;
  let awaiting: Awaiting[] = [];
  const done = (a: Awaiting) => a.pubacked && a.remaining === 0;
  function sweepDone(): void {
    const ready = awaiting.filter(done);
    if (ready.length === 0) return;
    awaiting = awaiting.filter((a) => !done(a));
    for (const a of ready) settle(a.message);
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
      const count = late.reduce((n, a) => n + a.message.items, 0);
      fail(new Error(`no receipt from ingest within ${timeoutMs} ms; the outbox will replay`), count, late.length);
    },
    Math.max(50, timeoutMs / 4),
  );
  timer.unref();
  return {
    track(message: OutboxMessage): void {
      const left = new Map<number, number>();
      for (const reading of JSON.parse(`[${message.body}]`) as Reading[]) {
        const id = pointTimeUs(reading);
        left.set(id, (left.get(id) ?? 0) + 1);
      }
      awaiting.push({ message, left, remaining: message.items, pubacked: false, sentAt: Date.now() });
    },
    pubacked(message: OutboxMessage): void {
      const a = awaiting.find((x) => x.message === message);
      if (a) a.pubacked = true;
      sweepDone();
    },
    forget(message: OutboxMessage): void {
      awaiting = awaiting.filter((x) => x.message !== message);
    },
    close(): void {
      clearInterval(timer);
      unlisten();
    },
  };
}
