import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createPublisher } from '../../src/agent/publisher.ts';
import { topics } from '../../src/core/contract.ts';
import type { Reading } from '../../src/core/reading.ts';
import { createDurableReceipts, type DurableReceipts } from '../../src/core/receipts.ts';
import { startIngest } from '../../src/ingest/consumer.ts';
import { silentLogger } from '../../src/ingest/logger.ts';
import { openDurableQueue } from '../../src/queue/durable-queue.ts';
import { countPoints, waitFor } from '../support/influx-query.ts';
import { asAgent, loginAs, startTestBroker } from '../support/mqtt-identities.ts';

/**
 * Station mode (issue 4 §2): the embedded aedes broker keeps its queues in memory, so a PUBACK
 * from it does not make a reading safe. Ingest is stopped after subscribing (aedes then queues
 * for its persistent session, in memory); the agent publishes and gets its PUBACKs; then the
 * broker "crashes" (closed, its memory gone) before ingest ever commits the readings to its spool.
 * With receipts the outbox still holds every reading and replays it into a new broker and ingest;
 * without them (the control) the outbox is empty and the readings are gone.
 */

const services = inject('services');
const N = 300;
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

const reading = (i: number, t0: number): Reading => ({
  station: 'st1',
  device: 'dev1',
  profile: 'mightyohm-geiger',
  kind: 'dosimeter',
  ts: t0 + i,
  ts_source: 'agent',
  values: { cpm: i, dose_rate: i / 175 },
  quality: 'good',
  source: 'simulated',
});

async function startStationPart(dir: string, db: string, receipts: DurableReceipts | undefined) {
  const broker = await startTestBroker(dir);
  cleanups.push(broker.close);
  const ingest = await startIngest({
    mqttUrl: broker.url,
    mqttOptions: loginAs(dir, { role: 'ingest', station: 'st1' }),
    influx: {
      url: services.influxUrl,
      database: db,
      retention: '30d',
      batch_size: 100,
      flush_interval_ms: 50,
      spool_path: join(dir, 'spool.sqlite'),
    },
    log: silentLogger,
    clientId: `ingest-${db}`,
    ...(receipts ? { receipts } : {}),
  });
  cleanups.push(() => ingest.stop());
  const client = await mqtt.connectAsync(broker.url, {
    protocolVersion: 4,
    clientId: `agent-${db}`,
    reconnectPeriod: 0,
    ...asAgent(dir, 'st1', 'dev1'),
  });
  cleanups.push(() => client.endAsync());
  const outbox = openDurableQueue({ path: join(dir, 'outbox.sqlite'), maxRows: 10_000, maxAgeMs: 3_600_000 });
  cleanups.push(async () => outbox.close());
  const publisher = createPublisher({
    client,
    topic: topics.readings('st1', 'dev1'),
    outbox,
    coalesceMs: 10,
    maxInflight: 100,
    maxPerMessage: 50,
    retryMs: 100,
    backlogRatePerSec: 10_000,
    onPublishError() {},
    ...(receipts ? { receipts: { hub: receipts, station: 'st1', device: 'dev1', timeoutMs: 1000 } } : {}),
  });
  cleanups.push(async () => publisher.close());
  return { broker, ingest, client, outbox, publisher };
}

/** Runs the crash scenario; returns the outbox depth after the PUBACKs and the points stored after restart. */
async function crashBetweenPubackAndSpool(withReceipts: boolean) {
  const db = `station_durable_${withReceipts ? 'on' : 'off'}_${Date.now()}`;
  const dir = mkdtempSync(join(services.tmpDir, `${db}-`));
  const t0 = Date.now() - 600_000;
  const first = await startStationPart(dir, db, withReceipts ? createDurableReceipts() : undefined);
  // Ingest goes away before it has anything: the broker queues for its session, in memory only.
  await first.ingest.stop();
  for (let i = 0; i < N; i++) first.publisher.publish(reading(i, t0));
  // In-process, every message has its PUBACK from aedes well within this.
  // Readings not yet acknowledged, as the publisher counts them (an acknowledged row's delete
  // rides in the next append or follows within 2 s; close() below runs it).
  await new Promise(setImmediate);
  if (!withReceipts) await waitFor(() => first.publisher.stats().queued === 0, { timeoutMs: 10_000 });
  await new Promise((r) => setTimeout(r, 800));
  const depthAfterPuback = first.publisher.stats().queued;
  // The crash: publisher, outbox and the broker's memory are gone together.
  first.publisher.close();
  first.outbox.close();
  await first.client.endAsync(true);
  await first.broker.close();

  const second = await startStationPart(dir, db, withReceipts ? createDurableReceipts() : undefined);
  let stored = 0;
  if (withReceipts)
    await waitFor(
      async () => {
        stored = await countPoints(services.influxUrl, db, 'radiation');
        return stored >= N && second.outbox.depth() === 0;
      },
      { timeoutMs: 30_000, everyMs: 200, describe: () => ({ stored, depth: second.outbox.depth() }) },
    );
  else await new Promise((r) => setTimeout(r, 1500));
  await second.ingest.stop();
  stored = await countPoints(services.influxUrl, db, 'radiation').catch(() => 0);
  return { depthAfterPuback, stored, outboxAfter: second.outbox.depth() };
}

describe('station mode: a reading leaves the outbox only once ingest holds it durably', () => {
  it('broker memory lost between PUBACK and spool commit: the outbox replays and every reading is stored exactly once', async () => {
    const r = await crashBetweenPubackAndSpool(true);
    expect(r.depthAfterPuback).toBe(N);
    expect(r.stored).toBe(N);
    expect(r.outboxAfter).toBe(0);
  });

  it('control, without receipts: the PUBACK empties the outbox and the same crash loses the readings', async () => {
    const r = await crashBetweenPubackAndSpool(false);
    expect(r.depthAfterPuback).toBe(0);
    expect(r.stored).toBe(0);
  });
});
