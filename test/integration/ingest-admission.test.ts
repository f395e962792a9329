import { monitorEventLoopDelay } from 'node:perf_hooks';
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { DEADLETTER_TOPIC, type DeadLetter, DeadLetterSchema, topics } from '../../src/core/contract.ts';
import type { Reading } from '../../src/core/reading.ts';
import type { KnownDevices } from '../../src/ingest/admission.ts';
import { type IngestHandle, startIngest } from '../../src/ingest/consumer.ts';
import { silentLogger } from '../../src/ingest/logger.ts';
import { countPoints, queryInflux, waitFor } from '../support/influx-query.ts';

/**
 * Issue 8 item 10 and issue 9 "bounded inputs": ingest stores only what the agent would accept.
 * Readings published straight to a readings topic (no agent in between) against real mosquitto
 * and real influxd: each bad case is dead-lettered with its code and NOT stored, and the good
 * readings of the same message still are.
 */
const services = inject('services');
let dbSeq = 0;
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const STATION = 'st-adm';
const KNOWN: KnownDevices = { station: STATION, devices: [{ id: 'geiger-1', profile: 'mightyohm-geiger' }] };

async function setup(known?: KnownDevices) {
  const db = `admission_${process.pid}_${Date.now()}_${dbSeq++}`;
  const ingest = await startIngest({
    mqttUrl: services.mqttUrl,
    influx: { url: services.influxUrl, database: db, retention: '30d', batch_size: 100, flush_interval_ms: 20 },
    log: silentLogger,
    ...(known ? { known } : {}),
  });
  cleanups.push(() => ingest.stop());
  const letters: DeadLetter[] = [];
  const sub = await mqtt.connectAsync(services.mqttUrl, { protocolVersion: 4 });
  cleanups.push(() => sub.endAsync());
  sub.on('message', (topic, payload) => {
    if (topic === DEADLETTER_TOPIC) letters.push(DeadLetterSchema.parse(JSON.parse(payload.toString())));
  });
  await sub.subscribeAsync(DEADLETTER_TOPIC, { qos: 1 });
  const pub = await mqtt.connectAsync(services.mqttUrl, { protocolVersion: 4 });
  cleanups.push(() => pub.endAsync());
  return { db, ingest, letters, pub };
}

function reading(over: Partial<Reading> & { values?: Record<string, unknown> } = {}): Reading {
  return {
    station: STATION,
    device: 'geiger-1',
    profile: 'mightyohm-geiger',
    kind: 'dosimeter',
    ts: Date.now() - 1000,
    ts_source: 'device',
    values: { cpm: 30, dose_rate: 0.17 },
    quality: 'good',
    source: 'live',
    ...over,
  } as Reading;
}

const send = (pub: MqttClient, readings: unknown[], device = 'geiger-1', station = STATION) =>
  pub.publishAsync(topics.readings(station, device), JSON.stringify({ v: 1, readings }), { qos: 1 });

/** The readings a dead letter carries, decoded from its payload. */
const lettered = (l: DeadLetter) => (JSON.parse(Buffer.from(l.payload_b64, 'base64').toString()) as { readings: Reading[] }).readings;

async function waitStored(db: string, n: number, ingest: IngestHandle): Promise<void> {
  await waitFor(async () => (await countPoints(services.influxUrl, db, 'radiation')) >= n, {
    timeoutMs: 10_000,
    describe: () => ingest.stats(),
  });
}

describe('ingest admission: the agent’s contract on the ingest side (real mosquitto + influxd)', () => {
  it('dead-letters counts -5, a timestamp in 2100, a string on a number channel and an undeclared channel, and stores the rest', async () => {
    const { db, ingest, letters, pub } = await setup();
    const good = reading({ ts: Date.now() - 2000, values: { cpm: 12, dose_rate: 0.07 } });
    const bad = {
      range: reading({ ts: Date.now() - 1500, values: { cpm: -5, dose_rate: 0.1 } }),
      future: reading({ ts: Date.UTC(2100, 0, 1) }),
      type: reading({ ts: Date.now() - 1200, values: { cpm: 'lots', dose_rate: 0.1 } }),
      unknown: reading({ ts: Date.now() - 1100, values: { cpm: 1, evil: 7 } }),
    };
    // One message: the good reading must survive its bad neighbours.
    await send(pub, [bad.range, good, bad.future, bad.type, bad.unknown]);
    await waitFor(() => letters.length >= 4, { timeoutMs: 10_000, describe: () => ({ letters, stats: ingest.stats() }) });
    await waitStored(db, 1, ingest);
    await ingest.stop();

    expect(Object.fromEntries(letters.map((l) => [l.code, lettered(l).map((r) => r.ts)]))).toEqual({
      RS_ERR_FRAME_RANGE: [bad.range.ts],
      RS_ERR_TS_FUTURE: [bad.future.ts],
      RS_ERR_CHANNEL_TYPE: [bad.type.ts],
      RS_ERR_CHANNEL_UNKNOWN: [bad.unknown.ts],
    });
    expect(ingest.stats().refused).toEqual({
      RS_ERR_FRAME_RANGE: 1,
      RS_ERR_TS_FUTURE: 1,
      RS_ERR_CHANNEL_TYPE: 1,
      RS_ERR_CHANNEL_UNKNOWN: 1,
    });
    const stored = await queryInflux(services.influxUrl, db, 'SELECT cpm FROM radiation');
    expect(stored.series?.[0]?.values).toEqual([[good.ts, 12]]);
  });

  it('a poisoning attempt (string values on a fresh day shard) leaves float readings of that day storable', async () => {
    const { db, ingest, letters, pub } = await setup();
    // Fresh database: the first point of today's shard would fix the field types of the day.
    const poison = reading({ ts: Date.now() - 5000, values: { cpm: 'x', dose_rate: 'y' } });
    await send(pub, [poison]);
    await waitFor(() => letters.length >= 1, { timeoutMs: 10_000, describe: () => ingest.stats() });
    const floats = [1, 2, 3].map((i) => reading({ ts: Date.now() - 4000 + i, values: { cpm: 10 + i, dose_rate: 0.1 * i } }));
    await send(pub, floats);
    await waitStored(db, 3, ingest);
    await ingest.stop();
    expect(letters.map((l) => l.code)).toEqual(['RS_ERR_CHANNEL_TYPE']);
    expect(ingest.stats().writer.dropped.type_conflict).toBe(0);
    const types = await queryInflux(services.influxUrl, db, 'SHOW FIELD KEYS FROM radiation');
    expect(types.series?.[0]?.values).toContainEqual(['cpm', 'float']);
    expect(types.series?.[0]?.values).toContainEqual(['dose_rate', 'float']);
  });

  it('dead-letters readings of devices not in the config and readings whose ids differ from their topic', async () => {
    const { db, ingest, letters, pub } = await setup(KNOWN);
    const ok = reading();
    await send(pub, [reading({ device: 'phantom', ts: ok.ts - 1 })], 'phantom');
    await send(pub, [reading({ device: 'geiger-1', ts: ok.ts - 2 })], 'other-device');
    await send(pub, [reading({ device: 'training-x', source: 'training', ts: ok.ts - 3 })], 'training-x');
    await send(pub, [ok]);
    await waitFor(() => letters.length >= 2, { timeoutMs: 10_000, describe: () => ({ letters, stats: ingest.stats() }) });
    await waitStored(db, 2, ingest);
    await ingest.stop();
    expect(letters.map((l) => [l.code, l.topic]).sort()).toEqual([
      ['RS_ERR_DEVICE_MISMATCH', topics.readings(STATION, 'other-device')],
      ['RS_ERR_DEVICE_UNKNOWN', topics.readings(STATION, 'phantom')],
    ]);
    const devices = await queryInflux(services.influxUrl, db, 'SHOW TAG VALUES FROM radiation WITH KEY = device');
    expect(devices.series?.[0]?.values.map((v) => v[1]).sort()).toEqual(['geiger-1', 'training-x']);
  });

  it('refuses a 10 MB reading with 600k keys before parsing it, and goes on storing the next valid message', async () => {
    const { db, ingest, letters, pub } = await setup(KNOWN);
    const values: Record<string, number> = {};
    for (let i = 0; i < 600_000; i++) values[`k${i.toString(36).padStart(8, 'x')}`] = i;
    const huge = Buffer.from(JSON.stringify({ v: 1, readings: [reading({ values })] }));
    expect(huge.length).toBeGreaterThan(10_000_000);
    const delay = monitorEventLoopDelay({ resolution: 10 });
    delay.enable();
    const t0 = performance.now();
    await pub.publishAsync(topics.readings(STATION, 'geiger-1'), huge, { qos: 1 });
    const next = reading();
    await send(pub, [next]);
    await waitStored(db, 1, ingest);
    const ms = performance.now() - t0;
    delay.disable();
    await waitFor(() => letters.length >= 1, { timeoutMs: 10_000, describe: () => ingest.stats() });
    await ingest.stop();
    // Figures, not assertions (the machine is shared): the refusal is a length check, not a parse.
    console.info(
      `oversized payload (${(huge.length / 1e6).toFixed(1)} MB): next valid reading stored after ${ms.toFixed(0)} ms; ` +
        `event-loop delay max ${(delay.max / 1e6).toFixed(1)} ms, p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms (this process: test + ingest)`,
    );
    expect(letters.map((l) => l.code)).toEqual(['RS_ERR_PAYLOAD_TOO_LARGE']);
    // The dead letter keeps a prefix, not the 10 MB.
    expect(Buffer.from(letters[0]?.payload_b64 ?? '', 'base64').length).toBeLessThanOrEqual(4096);
    expect(ingest.stats().refused).toEqual({ RS_ERR_PAYLOAD_TOO_LARGE: 1 });
    const stored = await queryInflux(services.influxUrl, db, 'SELECT cpm FROM radiation');
    expect(stored.series?.[0]?.values).toEqual([[next.ts, 30]]);
  });
});
