import mqtt from 'mqtt';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { type ReadingsMessage, topics } from '../../src/core/contract.ts';
import type { Reading } from '../../src/core/reading.ts';
import { startIngest } from '../../src/ingest/consumer.ts';
import { silentLogger } from '../../src/ingest/logger.ts';
import { countPoints, queryInflux, waitFor } from '../support/influx-query.ts';

/**
 * Point identity at µs (docs/data-integrity.md "Point identity"): a reading is stored at
 * `ts * 1000 + seq` µs, so two readings of one device stamped in the same millisecond are two
 * points, and the same reading written twice is one point. Through the whole ingest path, into
 * real influxd.
 */
const services = inject('services');
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('point identity against real mosquitto and influxd', () => {
  it('keeps two readings of one device in the same ms (seq 0 and 1) as two points; the same reading twice is one', async () => {
    const db = `identity_${process.pid}_${Date.now()}`;
    const ingest = await startIngest({
      mqttUrl: services.mqttUrl,
      influx: { url: services.influxUrl, database: db, retention: '30d', batch_size: 100, flush_interval_ms: 20 },
      log: silentLogger,
    });
    cleanups.push(() => ingest.stop());
    const pub = await mqtt.connectAsync(services.mqttUrl, { protocolVersion: 4 });
    cleanups.push(() => pub.endAsync());

    const ts = Date.now() - 1000;
    const reading = (seq: number, cpm: number): Reading => ({
      station: 'st-id',
      device: 'geiger-1',
      profile: 'mightyohm-geiger',
      kind: 'dosimeter',
      ts,
      seq,
      ts_source: 'agent',
      values: { cpm, dose_rate: cpm / 175 },
      quality: 'good',
      source: 'live',
    });
    const send = (readings: Reading[]) =>
      pub.publishAsync(topics.readings('st-id', 'geiger-1'), JSON.stringify({ v: 1, readings } satisfies ReadingsMessage), { qos: 1 });
    await send([reading(0, 10), reading(1, 11)]);
    // The same reading again (a re-send after a crash): it must overwrite, not add.
    await send([reading(1, 11)]);
    await send([reading(2, 12)]);

    await waitFor(async () => (await countPoints(services.influxUrl, db, 'radiation')) >= 3, { timeoutMs: 10_000 });
    await ingest.stop();
    expect(await countPoints(services.influxUrl, db, 'radiation')).toBe(3);
    // All three lie in the same millisecond, in seq order.
    const r = await queryInflux(services.influxUrl, db, 'SELECT cpm FROM radiation');
    expect(r.series?.[0]?.values.map((v) => [v[0], v[1]])).toEqual([
      [ts, 10],
      [ts, 11],
      [ts, 12],
    ]);
  });
});
