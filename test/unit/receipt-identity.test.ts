import { describe, expect, it } from 'vitest';
import type { OutboxMessage } from '../../src/agent/outbox-message.ts';
import { createReceiptTracker } from '../../src/agent/receipt-tracker.ts';
import type { Reading } from '../../src/core/reading.ts';
import { createDurableReceipts } from '../../src/core/receipts.ts';
import { confirmReadings } from '../../src/ingest/mqtt-session.ts';

/**
 * Station mode: a reading leaves the agent's outbox only on ingest's receipt. Two agent-stamped
 * readings of one device in the same millisecond differ only by `seq`; the receipt for one must
 * not settle the message that carries the other (it would leave the outbox before it is safe).
 */
const reading = (seq: number): Reading => ({
  station: 's1',
  device: 'd1',
  profile: 'mqtt-json',
  kind: 'dosimeter',
  ts: 1_796_000_000_000,
  seq,
  ts_source: 'agent',
  values: { counts: seq },
  quality: 'good',
  source: 'live',
});
const message = (r: Reading): OutboxMessage => ({ body: JSON.stringify(r), items: 1, rows: [] });

describe('station receipts name a reading by its point identity (ts and seq)', () => {
  it("settles only the message whose reading ingest committed, not its same-millisecond sibling's", () => {
    const hub = createDurableReceipts();
    const settled: string[] = [];
    const tracker = createReceiptTracker(
      { hub, station: 's1', device: 'd1' },
      (m) => settled.push(m.body),
      () => undefined,
    );
    const first = message(reading(0));
    const second = message(reading(1));
    tracker.track(second);
    tracker.track(first);
    tracker.pubacked(first);
    tracker.pubacked(second);
    confirmReadings(hub, [reading(0)], 1);
    expect(settled).toEqual([first.body]);
    confirmReadings(hub, [reading(1)], 1);
    expect(settled).toEqual([first.body, second.body]);
    tracker.close();
  });
});
