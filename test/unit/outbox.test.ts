import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createPublisher, type PublisherOptions } from '../../src/agent/publisher.ts';
import type { Reading } from '../../src/core/reading.ts';
import { type DurableQueue, openDurableQueue } from '../../src/queue/durable-queue.ts';
import { asClient, fakeClient } from '../support/fake-mqtt-client.ts';

const dir = mkdtempSync(join(tmpdir(), 'radscreen-outbox-'));
let seq = 0;
const file = () => join(dir, `q${seq++}.sqlite`);
const reading = (i: number): Reading => ({
  station: 's',
  device: 'd',
  profile: 'mightyohm-geiger',
  kind: 'dosimeter',
  ts: 1_700_000_000_000 + i,
  ts_source: 'agent',
  values: { cpm: i },
  quality: 'good',
  source: 'simulated',
});

/** A publisher on topic `t` with short windows; `opts` overrides. */
const publisherOn = (client: ReturnType<typeof fakeClient>, outbox: DurableQueue, opts: Partial<PublisherOptions> = {}) =>
  createPublisher({ client: asClient(client), topic: 't', outbox, coalesceMs: 5, maxInflight: 10, onPublishError() {}, ...opts });
const idsIn = (messages: string[]) =>
  messages.flatMap((m) => (JSON.parse(m) as { readings: Reading[] }).readings.map((r) => r.values.cpm as number));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('durable queue', () => {
  it('keeps rows across reopen as backlog, acks ranges, and counts total appended', () => {
    const path = file();
    const q = openDurableQueue({ path, maxRows: 100, maxAgeMs: 60_000 });
    q.append(['a', 'b', 'c']);
    const b = q.takeLive(2);
    expect(b?.bodies).toEqual(['a', 'b']);
    if (b) q.ack(b);
    q.close();
    const q2 = openDurableQueue({ path, maxRows: 100, maxAgeMs: 60_000 });
    expect(q2.depth()).toBe(1);
    expect(q2.takeLive(10)).toBeUndefined();
    q2.append(['d']);
    expect(q2.takeLive(10)?.bodies).toEqual(['d']);
    expect(q2.takeBacklog(10)?.bodies).toEqual(['c']);
    expect(q2.totalAppended()).toBe(4);
    q2.close();
  });

  it('refuses beyond maxRows, counts it, and raises the 80 % alarm once', () => {
    const events: Array<[boolean, number]> = [];
    const drops: Array<[string, number]> = [];
    const q = openDurableQueue({
      path: file(),
      maxRows: 10,
      maxAgeMs: 60_000,
      onHighWater: (high, depth) => events.push([high, depth]),
      onDrop: (reason, n) => drops.push([reason, n]),
    });
    expect(q.append(Array.from({ length: 7 }, String))).toBe(7);
    expect(events).toEqual([]);
    expect(q.append(['x', 'y', 'z', 'w', 'v'])).toBe(3);
    expect(events).toEqual([[true, 10]]);
    expect(drops).toEqual([['full', 2]]);
    expect(q.stats()).toMatchObject({ depth: 10, dropped: { full: 2, expired: 0 }, highWater: true, highWaterEvents: 1 });
    const all = q.takeLive(10);
    if (all) q.ack(all);
    expect(events).toEqual([
      [true, 10],
      [false, 0],
    ]);
  });

  it('expires rows by age and counts them', () => {
    let t = 1000;
    const q = openDurableQueue({ path: ':memory:', maxRows: 10, maxAgeMs: 500, now: () => t });
    q.append(['old']);
    t = 1400;
    q.append(['new']);
    t = 1600;
    expect(q.expire()).toBe(1);
    expect(q.stats().dropped.expired).toBe(1);
    expect(q.takeLive(10)?.bodies).toEqual(['new']);
  });

  it('rewind makes everything unacknowledged backlog again', () => {
    const q = openDurableQueue({ path: ':memory:', maxRows: 10, maxAgeMs: 60_000 });
    q.append(['a', 'b']);
    q.takeLive(10);
    q.rewind();
    q.append(['c']);
    expect(q.takeLive(10)?.bodies).toEqual(['c']);
    expect(q.takeBacklog(10)?.bodies).toEqual(['a', 'b']);
  });

  it('holds at most tailMaxItems unsent live items in memory; past that the live path reads SQLite', () => {
    // Rewriting the rows on disk shows where takeLive read them from: memory or the file.
    const liveBodies = (tailMaxItems?: number) => {
      const q = openDurableQueue({ path: ':memory:', maxRows: 100, maxAgeMs: 60_000, ...(tailMaxItems ? { tailMaxItems } : {}) });
      q.append(['a', 'b', 'c', 'd'], 2);
      q.append(['e', 'f', 'g', 'h'], 2);
      q.db.exec("UPDATE q SET body = 'disk:' || body");
      const bodies = q.takeLive(100)?.bodies;
      expect(q.takeLive(100)).toBeUndefined();
      q.close();
      return bodies;
    };
    expect(liveBodies()).toEqual(['a\nb', 'c\nd', 'e\nf', 'g\nh']);
    expect(liveBodies(6)).toEqual(['disk:a\nb', 'disk:c\nd', 'disk:e\nf', 'disk:g\nh']);
  });
});

describe('outbox publisher', () => {
  it('sends a burst committed in one turn at once, as one message, only after its commit', async () => {
    const client = fakeClient();
    const outbox = openDurableQueue({ path: file(), maxRows: 1000, maxAgeMs: 60_000 });
    const depthAtSend: number[] = [];
    const send = (client as unknown as { publish: (...a: unknown[]) => void }).publish;
    (client as unknown as { publish: unknown }).publish = (...args: unknown[]) => {
      depthAtSend.push(outbox.depth());
      send(...args);
    };
    const p = createPublisher({ client: asClient(client), topic: 't', outbox, coalesceMs: 200, maxInflight: 10, onPublishError() {} });
    for (let i = 0; i < 30; i++) p.publish(reading(i));
    await new Promise(setImmediate); // no coalescing window after a quiet spell
    expect(client.messages).toHaveLength(1);
    expect(depthAtSend).toEqual([30]); // committed before anything was published
    await p.drain();
    expect(idsIn(client.messages)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(outbox.depth()).toBe(0);
    expect(p.stats()).toMatchObject({ published: 30, messages: 1, queued: 0 });
  });

  it('holds readings that follow a send within the window and sends them as one message', async () => {
    const client = fakeClient();
    const outbox = openDurableQueue({ path: file(), maxRows: 1000, maxAgeMs: 60_000 });
    const p = createPublisher({ client: asClient(client), topic: 't', outbox, coalesceMs: 300, maxInflight: 10, onPublishError() {} });
    p.publish(reading(0));
    await new Promise(setImmediate);
    expect(client.messages).toHaveLength(1);
    for (let i = 1; i <= 10; i++) {
      p.publish(reading(i)); // one a turn, as a fast instrument's lines arrive
      await new Promise(setImmediate);
    }
    expect(client.messages).toHaveLength(1);
    expect(p.stats().queued).toBe(10); // waiting, but committed
    await p.drain();
    expect(client.messages).toHaveLength(2);
    expect(idsIn(client.messages.slice(1))).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
  });

  it('deletes acknowledged rows in the next append, or on their own when no reading follows', async () => {
    const client = fakeClient();
    const outbox = openDurableQueue({ path: file(), maxRows: 1000, maxAgeMs: 60_000 });
    const rowIds = () => (outbox.db.prepare('SELECT id FROM q ORDER BY id').pluck().all() as number[]).join(',');
    const p = publisherOn(client, outbox, { ackDeleteDelayMs: 150 });
    p.publish(reading(0));
    await sleep(30); // sent and acknowledged
    expect(p.stats()).toMatchObject({ published: 1, queued: 0 });
    expect(rowIds()).toBe('1'); // acknowledged, its delete waits for the next append
    p.publish(reading(1));
    await new Promise(setImmediate);
    expect(rowIds()).toBe('2'); // one transaction: row 1 deleted, row 2 appended
    await sleep(30);
    expect(rowIds()).toBe('2');
    await sleep(200); // no reading followed: deleted on its own
    expect(rowIds()).toBe('');
    expect(outbox.depth()).toBe(0);
    p.close();
  });

  it('replays what a failed publish left, and sends live readings before the backlog', async () => {
    const client = fakeClient();
    const outbox = openDurableQueue({ path: file(), maxRows: 1000, maxAgeMs: 60_000 });
    const errors: number[] = [];
    const p = createPublisher({
      client: asClient(client),
      topic: 't',
      outbox,
      coalesceMs: 5,
      maxInflight: 4,
      maxPerMessage: 10,
      retryMs: 30,
      onPublishError: (_e, n) => errors.push(n),
    });
    client.failing = true;
    for (let i = 0; i < 20; i++) p.publish(reading(i));
    await sleep(20);
    expect(errors.reduce((a, b) => a + b, 0)).toBe(20);
    client.failing = false;
    for (let i = 20; i < 25; i++) p.publish(reading(i));
    await p.drain();
    const ids = idsIn(client.messages);
    expect([...ids].sort((a, b) => a - b)).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(ids.slice(0, 5)).toEqual([20, 21, 22, 23, 24]);
    expect(outbox.depth()).toBe(0);
  });

  it('publishes rows left by an earlier process, oldest first, at the backlog rate', async () => {
    const path = file();
    const before = openDurableQueue({ path, maxRows: 1000, maxAgeMs: 60_000 });
    before.append(Array.from({ length: 300 }, (_, i) => JSON.stringify(reading(i))));
    before.close();
    const client = fakeClient();
    const outbox = openDurableQueue({ path, maxRows: 1000, maxAgeMs: 60_000 });
    const t0 = Date.now();
    const p = publisherOn(client, outbox, { maxPerMessage: 50, backlogRatePerSec: 200 });
    await p.drain();
    expect(idsIn(client.messages)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    // The bucket starts with one second's worth (200); the other 100 wait about half a second.
    const elapsed = Date.now() - t0;
    expect(elapsed).toBeGreaterThanOrEqual(400);
    expect(elapsed).toBeLessThan(3000);
    expect(outbox.depth()).toBe(0);
  });

  it('refuses readings when the outbox is full and counts them', () => {
    const client = fakeClient();
    client.connected = false;
    const outbox = openDurableQueue({ path: ':memory:', maxRows: 1000, maxAgeMs: 60_000 });
    const p = createPublisher({ client: asClient(client), topic: 't', outbox, coalesceMs: 5, maxInflight: 4, onPublishError() {} });
    let kept = 0;
    for (let i = 0; i < 1005; i++) if (p.publish(reading(i))) kept++;
    expect(kept).toBe(1000);
    expect(p.stats().refused).toBe(5);
    p.close();
  });
});
