import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, expect, inject, it } from 'vitest';
import { DEADLETTER_TOPIC, type DeadLetter, type ReadingsMessage, topics } from '../../src/core/contract.ts';
import { type ServiceAlarm, serviceAlarmTopic, startIngest } from '../../src/ingest/consumer.ts';
import { silentLogger } from '../../src/ingest/logger.ts';
import { countPoints, waitFor } from '../support/influx-query.ts';
import { startInfluxd } from '../support/services.ts';

const services = inject('services');
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

it('a full spool raises the service alarm, dead-letters and counts what it could not keep, and writes the rest', async () => {
  const dir = mkdtempSync(join(services.tmpDir, 'spool-full-'));
  const influx = await startInfluxd(join(dir, 'influx'));
  cleanups.push(() => influx.stop());
  const station = `spoolfull${process.pid}`;
  const ingest = await startIngest({
    mqttUrl: services.mqttUrl,
    influx: {
      url: influx.url,
      database: 'spool_full',
      retention: '30d',
      batch_size: 100,
      flush_interval_ms: 50,
      spool_path: join(dir, 'spool.sqlite'),
      spool_max_rows: 1000,
    },
    log: silentLogger,
    clientId: `ingest-${station}`,
  });
  cleanups.push(() => ingest.stop());
  const watcher = await mqtt.connectAsync(services.mqttUrl, { protocolVersion: 4 });
  cleanups.push(() => watcher.endAsync());
  const deadLetters: DeadLetter[] = [];
  const alarms: ServiceAlarm[] = [];
  watcher.on('message', (topic, payload) => {
    if (topic === DEADLETTER_TOPIC) deadLetters.push(JSON.parse(payload.toString()) as DeadLetter);
    else alarms.push(JSON.parse(payload.toString()) as ServiceAlarm);
  });
  await watcher.subscribeAsync([DEADLETTER_TOPIC, serviceAlarmTopic(`ingest-${station}`)], { qos: 1 });

  await influx.stop();
  const t0 = Date.now() - 10_000;
  for (let m = 0; m < 12; m++) {
    const readings = Array.from({ length: 100 }, (_, i) => ({
      station,
      device: 'dev-1',
      profile: 'mightyohm-geiger',
      kind: 'dosimeter' as const,
      ts: t0 + m * 100 + i,
      ts_source: 'agent' as const,
      values: { cpm: i },
      quality: 'good' as const,
      source: 'simulated' as const,
    }));
    const msg: ReadingsMessage = { v: 1, readings };
    await watcher.publishAsync(topics.readings(station, 'dev-1'), JSON.stringify(msg), { qos: 1 });
  }
  // `readings` counts on arrival, the spool commit follows a tick later: wait for the spool too.
  await waitFor(
    () =>
      ingest.stats().readings === 1200 &&
      ingest.stats().writer.buffered === 1000 &&
      ingest.stats().writer.dropped.full === 200 &&
      alarms.length >= 2,
    { timeoutMs: 10_000, describe: () => ingest.stats() },
  );

  const stats = ingest.stats();
  expect(stats.writer).toMatchObject({ buffered: 1000, written: 0, highWater: true, dropped: { full: 200 } });
  expect(stats.alarms).toMatchObject({ spool_high_water: 1, spool_drop: 2 });
  expect(stats.deadLettered.RS_ERR_QUEUE_FULL).toBe(2);
  await waitFor(() => deadLetters.filter((d) => d.code === 'RS_ERR_QUEUE_FULL').length === 2, { timeoutMs: 5000 });
  const refusedLines = deadLetters.flatMap((d) => Buffer.from(d.payload_b64, 'base64').toString().split('\n'));
  expect(refusedLines).toHaveLength(200);
  expect(alarms.map((a) => [a.kind, a.active])).toContainEqual(['spool_high_water', true]);

  await influx.restart();
  await waitFor(() => ingest.stats().writer.buffered === 0, { timeoutMs: 30_000, describe: () => ingest.stats() });
  expect(await countPoints(influx.url, 'spool_full', 'radiation')).toBe(1000);
  expect(ingest.stats().writer.highWater).toBe(false);
});
