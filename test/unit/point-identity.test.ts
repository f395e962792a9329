import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSeqStamper } from '../../src/agent/point-identity.ts';
import { createPublisher } from '../../src/agent/publisher.ts';
import type { Reading } from '../../src/core/reading.ts';
import { openDurableQueue } from '../../src/queue/durable-queue.ts';
import { asClient, fakeClient as recordingClient } from '../support/fake-mqtt-client.ts';

/**
 * Issue 8 §2: readings stamped by the agent in one millisecond must not share a point identity
 * (ts, seq), and a re-send must carry the identity the reading got when it entered the outbox.
 */
const dir = mkdtempSync(join(tmpdir(), 'radscreen-identity-'));
const T = 1_760_000_000_000;
const reading = (i: number, ts = T, ts_source: Reading['ts_source'] = 'agent'): Reading => ({
  station: 's',
  device: 'd',
  profile: 'mqtt-json',
  kind: 'dosimeter',
  ts,
  ts_source,
  values: { counts: i },
  quality: 'good',
  source: 'live',
});

/** mqtt.js stand-in that records every message body, also those it fails (test/support). */
const fakeClient = () => recordingClient(1, true);
const readingsIn = (messages: string[]) => messages.flatMap((m) => (JSON.parse(m) as { readings: Reading[] }).readings);
const identity = (r: Reading) => `${r.ts}:${r.seq ?? 0}`;

describe('point identity of agent-stamped readings', () => {
  it('gives a burst of 1,000 readings in one millisecond 1,000 distinct (ts, seq) identities', async () => {
    const client = fakeClient();
    const outbox = openDurableQueue({ path: join(dir, 'burst.sqlite'), maxRows: 10_000, maxAgeMs: 60_000 });
    const p = createPublisher({
      client: asClient(client),
      topic: 't',
      outbox,
      coalesceMs: 5,
      maxInflight: 10,
      onPublishError() {},
    });
    for (let i = 0; i < 1000; i++) p.publish(reading(i));
    await p.drain();
    const out = readingsIn(client.messages);
    expect(out).toHaveLength(1000);
    expect(new Set(out.map(identity)).size).toBe(1000);
    // All in the stamped millisecond, numbered in arrival order.
    expect(out.every((r) => r.ts === T)).toBe(true);
    expect(out.map((r) => r.seq)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    p.close();
    outbox.close();
  });

  it('moves to the next millisecond past seq 999, and stays unique when the clock catches up', () => {
    const s = createSeqStamper();
    const stamped = [...Array.from({ length: 1001 }, (_, i) => s.stamp(reading(i))), s.stamp(reading(2000, T + 1))];
    expect(stamped[999]).toMatchObject({ ts: T, seq: 999 });
    expect(stamped[1000]).toMatchObject({ ts: T + 1, seq: 0 });
    // The clock reaches T+1 too: that reading continues the sequence instead of reusing seq 0.
    expect(stamped[1001]).toMatchObject({ ts: T + 1, seq: 1 });
    expect(new Set(stamped.map(identity)).size).toBe(stamped.length);
    expect(s.stamp(reading(0, T + 5))).toMatchObject({ ts: T + 5, seq: 0 });
  });

  it('leaves device-clocked readings alone: the same reading delivered twice keeps one identity', () => {
    const s = createSeqStamper();
    const a = s.stamp(reading(1, T, 'device'));
    const b = s.stamp(reading(1, T, 'device'));
    expect(a.seq).toBeUndefined();
    expect(identity(a)).toBe(identity(b));
  });

  it('re-sends a reading with the identity it got when it entered the outbox', async () => {
    const client = fakeClient();
    const outbox = openDurableQueue({ path: join(dir, 'resend.sqlite'), maxRows: 10_000, maxAgeMs: 60_000 });
    const p = createPublisher({
      client: asClient(client),
      topic: 't',
      outbox,
      coalesceMs: 5,
      maxInflight: 10,
      retryMs: 20,
      onPublishError() {},
    });
    client.failing = true;
    for (let i = 0; i < 50; i++) p.publish(reading(i));
    await new Promise((r) => setTimeout(r, 15));
    const failed = readingsIn(client.messages);
    client.failing = false;
    client.messages = [];
    await p.drain();
    const resent = readingsIn(client.messages);
    expect(resent).toHaveLength(50);
    const byNumber = (rs: Reading[]) => new Map(rs.map((r) => [r.values.counts, identity(r)]));
    expect(byNumber(resent)).toEqual(byNumber(failed));
    expect(new Set(resent.map(identity)).size).toBe(50);
    p.close();
    outbox.close();
  });
});
