import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, expect, inject, it } from 'vitest';
import { type ReadingsMessage, topics } from '../../src/core/contract.ts';
import { startIngest } from '../../src/ingest/consumer.ts';
import { silentLogger } from '../../src/ingest/logger.ts';
import { countPoints, waitFor } from '../support/influx-query.ts';
import { startInfluxd } from '../support/services.ts';

const services = inject('services');
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

it('ingest loses no reading published while its InfluxDB is down', async () => {
  const influx = await startInfluxd(mkdtempSync(join(services.tmpDir, 'outage-influx-')));
  cleanups.push(() => influx.stop());
  const db = 'outage_e2e';
  const ingest = await startIngest({
    mqttUrl: services.mqttUrl,
    influx: { url: influx.url, database: db, retention: '30d', batch_size: 200, flush_interval_ms: 50 },
    log: silentLogger,
  });
  cleanups.push(() => ingest.stop());
  const pub = await mqtt.connectAsync(services.mqttUrl, { protocolVersion: 4 });
  cleanups.push(() => pub.endAsync());

  await influx.stop();
  const t0 = Date.now() - 1000;
  for (let m = 0; m < 20; m++) {
    const readings = Array.from({ length: 50 }, (_, i) => ({
      station: 'outage',
      device: `dev-${m}`,
      profile: 'mightyohm-geiger',
      kind: 'dosimeter' as const,
      ts: t0 + i,
      ts_source: 'device' as const,
      values: { cpm: i },
      quality: 'good' as const,
      source: 'simulated' as const,
    }));
    const msg: ReadingsMessage = { v: 1, readings };
    await pub.publishAsync(topics.readings('outage', `dev-${m}`), JSON.stringify(msg), { qos: 1 });
  }
  // `readings` counts on arrival, the spool commit follows a tick later: wait for both.
  await waitFor(() => ingest.stats().readings === 1000 && ingest.stats().writer.buffered === 1000 && ingest.stats().writer.retries >= 2, {
    timeoutMs: 10_000,
    describe: () => ingest.stats(),
  });
  expect(ingest.stats().writer).toMatchObject({ written: 0, buffered: 1000 });

  await influx.restart();
  await waitFor(() => ingest.stats().writer.buffered === 0, { timeoutMs: 20_000, describe: () => ingest.stats() });
  expect(await countPoints(influx.url, db, 'radiation')).toBe(1000);
  expect(ingest.stats().writer.written).toBe(1000);
});
