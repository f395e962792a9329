import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { DEADLETTER_TOPIC, DeadLetterSchema, type ReadingsMessage, topics } from '../../src/core/contract.ts';
import type { Reading } from '../../src/core/reading.ts';
import { type IngestHandle, startIngest } from '../../src/ingest/consumer.ts';
import { silentLogger } from '../../src/ingest/logger.ts';
import { countPoints, queryInflux, waitFor } from '../support/influx-query.ts';

const services = inject('services');
let dbSeq = 0;
const freshDb = () => `ingest_${process.pid}_${Date.now()}_${dbSeq++}`;
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startTestIngest(database: string): Promise<IngestHandle> {
  const ingest = await startIngest({
    mqttUrl: services.mqttUrl,
    influx: { url: services.influxUrl, database, retention: '30d', batch_size: 500, flush_interval_ms: 50 },
    log: silentLogger,
  });
  cleanups.push(() => ingest.stop());
  return ingest;
}

async function connectClient(): Promise<MqttClient> {
  const c = await mqtt.connectAsync(services.mqttUrl, { protocolVersion: 4 });
  cleanups.push(() => c.endAsync());
  return c;
}

/** `n` readings over 10 devices of one station, 1 ms apart per device, ending about now. */
function makeReadings(station: string, n: number): Reading[] {
  const t0 = Date.now() - n;
  return Array.from({ length: n }, (_, i) => ({
    station,
    device: `dev-${i % 10}`,
    profile: 'mightyohm-geiger',
    kind: 'dosimeter' as const,
    ts: t0 + i,
    ts_source: 'agent' as const,
    values: { cpm: i % 97, dose_rate: (i % 97) / 175, mode: i % 2 === 0 ? 'SLOW' : 'FAST' },
    quality: 'good' as const,
    source: 'simulated' as const,
  }));
}

/** Publishes readings per device in coalesced messages of `perMessage`, QoS 1, all awaited. */
async function publishReadings(c: MqttClient, readings: Reading[], perMessage: number): Promise<number> {
  // Map.groupBy needs Node 21+.
  const byDevice = new Map<string, Reading[]>();
  for (const r of readings) {
    const list = byDevice.get(r.device);
    if (list) list.push(r);
    else byDevice.set(r.device, [r]);
  }
  const sends: Promise<unknown>[] = [];
  for (const [device, rs] of byDevice) {
    for (let i = 0; i < rs.length; i += perMessage) {
      const msg: ReadingsMessage = { v: 1, readings: rs.slice(i, i + perMessage) };
      sends.push(c.publishAsync(topics.readings(rs[0]?.station ?? '', device), JSON.stringify(msg), { qos: 1 }));
    }
  }
  await Promise.all(sends);
  return sends.length;
}

describe('ingest: MQTT → InfluxDB against real mosquitto and influxd', () => {
  it('stores every one of 2,000 readings exactly once, and a re-sent batch overwrites instead of duplicating', async () => {
    const db = freshDb();
    const station = `st${dbSeq}`;
    const ingest = await startTestIngest(db);
    const pub = await connectClient();
    const readings = makeReadings(station, 2000);

    const t0 = performance.now();
    const messages = await publishReadings(pub, readings, 50);
    expect(messages).toBe(40);
    await waitFor(async () => (await countPoints(services.influxUrl, db, 'radiation')) >= 2000, {
      timeoutMs: 20_000,
      describe: () => ingest.stats(),
    });
    const elapsed = performance.now() - t0;
    expect(await countPoints(services.influxUrl, db, 'radiation')).toBe(2000);
    console.info(`ingest: 2000 readings in 40 messages stored in ${elapsed.toFixed(0)} ms`);

    const sample = await queryInflux(services.influxUrl, db, `SELECT * FROM radiation WHERE device = 'dev-3' ORDER BY time ASC LIMIT 1`);
    const row = sample.series?.[0];
    const col = (name: string) => row?.values[0]?.[row.columns.indexOf(name)];
    expect(col('time')).toBe(readings[3]?.ts);
    expect(col('cpm')).toBe(3);
    expect(col('mode')).toBe('FAST');
    expect(col('quality')).toBe('good');
    expect(col('ts_source')).toBe('agent');
    expect(col('station')).toBe(station);

    // Same readings again, in differently sized messages: identity is measurement+tags+ts.
    await publishReadings(pub, readings, 125);
    await waitFor(() => ingest.stats().writer.written >= 4000, { timeoutMs: 20_000, describe: () => ingest.stats() });
    expect(await countPoints(services.influxUrl, db, 'radiation')).toBe(2000);
    expect(ingest.stats()).toMatchObject({ readings: 4000, deadLettered: {}, writer: { written: 4000, buffered: 0 } });
  });

  it('dead-letters garbage and schema-invalid payloads with their codes and stores nothing from them', async () => {
    const db = freshDb();
    const ingest = await startTestIngest(db);
    const sub = await connectClient();
    const letters: unknown[] = [];
    sub.on('message', (topic, payload) => {
      if (topic === DEADLETTER_TOPIC) letters.push(JSON.parse(payload.toString()));
    });
    await sub.subscribeAsync(DEADLETTER_TOPIC, { qos: 1 });

    const pub = await connectClient();
    const garbage = Buffer.from([0x7b, 0x00, 0xff, 0x22]);
    await pub.publishAsync(topics.readings('stx', 'dev-1'), garbage, { qos: 1 });
    const invalid = JSON.stringify({ v: 1, readings: [{ station: 'stx', device: 'dev-1', ts: -5 }] });
    await pub.publishAsync(topics.readings('stx', 'dev-1'), invalid, { qos: 1 });

    await waitFor(() => letters.length >= 2, { timeoutMs: 10_000, describe: () => ({ letters, stats: ingest.stats() }) });
    const parsed = letters.map((l) => DeadLetterSchema.parse(l));
    expect(parsed.map((l) => l.code).sort()).toEqual(['RS_ERR_PAYLOAD_INVALID', 'RS_ERR_PAYLOAD_JSON']);
    const json = parsed.find((l) => l.code === 'RS_ERR_PAYLOAD_JSON');
    expect(Buffer.from(json?.payload_b64 ?? '', 'base64')).toEqual(garbage);
    expect(json?.topic).toBe(topics.readings('stx', 'dev-1'));
    expect(parsed.find((l) => l.code === 'RS_ERR_PAYLOAD_INVALID')?.reason).toMatch(/ts|profile/);
    expect(ingest.stats().deadLettered).toEqual({ RS_ERR_PAYLOAD_JSON: 1, RS_ERR_PAYLOAD_INVALID: 1 });
    expect(await countPoints(services.influxUrl, db, 'radiation')).toBe(0);
  });
});
