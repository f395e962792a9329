import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogue } from '../../devices/index.ts';
import { createAlarmEngine } from '../../src/alarms/engine.ts';
import { parseConfig } from '../../src/config/load.ts';
import { DEADLETTER_TOPIC, type DeadLetter, DeadLetterSchema, topics } from '../../src/core/contract.ts';
import type { Reading } from '../../src/core/reading.ts';
import { createLiveState, type LiveState } from '../../src/server/live-state.ts';
import { attachMqttFeed, type MqttFeed } from '../../src/server/mqtt-feed.ts';
import type { EmbeddedBroker } from '../../src/station/embedded-broker.ts';
import { asServer, devicePublishers, startTestBroker } from '../support/mqtt-identities.ts';

/**
 * Issue 9 "bounded inputs" on the server's feed: readings or statuses of a device the station
 * does not have never make a tile or an alarm (RS_ERR_DEVICE_UNKNOWN), except a training device
 * while its run's agent is up; a reading claiming another device than its topic is dropped
 * (RS_ERR_DEVICE_MISMATCH). Both are counted and dead-lettered. Real aedes, real MQTT clients.
 */
const STATION = 'st-bound';
const silent = { debug() {}, info() {}, warn() {} };

function reading(device: string, doseRate: number, over: Partial<Reading> = {}): Reading {
  return {
    station: STATION,
    device,
    profile: 'mightyohm-geiger',
    kind: 'dosimeter',
    ts: Date.now(),
    ts_source: 'agent',
    values: { cps: 1, cpm: 20, dose_rate: doseRate, mode: 'SLOW' },
    quality: 'good',
    source: device.startsWith('training-') ? 'training' : 'live',
    ...over,
  };
}

describe('server feed: devices outside the configuration', () => {
  let broker: EmbeddedBroker;
  let client: MqttClient;
  let watcher: MqttClient;
  const dir = mkdtempSync(join(tmpdir(), 'radscreen-bound-'));
  // Each device publishes over its own agent identity (the broker's ACL lets it use its own topics only).
  let agents: ReturnType<typeof devicePublishers>;
  let feed: MqttFeed;
  let state: LiveState;
  const engine = createAlarmEngine({ now: Date.now, thresholds: { default: { threshold_usvh: 1, deadband_usvh: 0.2 } } });
  const dead: DeadLetter[] = [];

  beforeAll(async () => {
    broker = await startTestBroker(dir);
    client = await mqtt.connectAsync(broker.url, { protocolVersion: 4, ...asServer(dir, STATION) });
    watcher = await mqtt.connectAsync(broker.url, { protocolVersion: 4, ...asServer(dir, STATION) });
    agents = devicePublishers(broker.url, dir, STATION);
    watcher.on('message', (topic, payload) => {
      if (topic === DEADLETTER_TOPIC) dead.push(DeadLetterSchema.parse(JSON.parse(payload.toString())));
    });
    await watcher.subscribeAsync(DEADLETTER_TOPIC, { qos: 1 });
    const config = parseConfig(`station: { id: ${STATION} }\ndevices: [{ id: g1, profile: mightyohm-geiger, simulate: {} }]\n`, {
      catalogue,
      env: {},
    });
    state = createLiveState({ config, catalogue, engine, now: Date.now });
    feed = await attachMqttFeed({ client, station: STATION, state, engine, log: silent });
  });

  afterAll(async () => {
    await feed?.detach();
    await agents?.end();
    await watcher?.endAsync();
    await client?.endAsync();
    await broker?.close();
    engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Publishes as the agent of the device the topic names. */
  const send = (topic: string, payload: string | object, retain = false) =>
    agents.publish(topic.split('/')[3] as string, topic, typeof payload === 'string' ? payload : JSON.stringify(payload), {
      qos: 1,
      retain,
    });
  const status = (device: string, s: string) => ({
    v: 1,
    station: STATION,
    device,
    profile: 'mightyohm-geiger',
    state: s,
    ts: Date.now(),
    detail: {},
  });
  const ids = () => state.devices().map((d) => d.id);

  it('a phantom device gets no tile and no alarm; its readings and status are counted and dead-lettered', async () => {
    await send(topics.status(STATION, 'phantom'), status('phantom', 'online'), true);
    await send(topics.readings(STATION, 'phantom'), { v: 1, readings: [reading('phantom', 9), reading('phantom', 9.5)] });
    await expect.poll(() => dead.length).toBe(2);
    expect(dead.map((d) => d.code)).toEqual(['RS_ERR_DEVICE_UNKNOWN', 'RS_ERR_DEVICE_UNKNOWN']);
    expect(dead[1]?.reason).toMatch(/phantom.*not in the station configuration/);
    expect(feed.rejected()).toEqual({ RS_ERR_DEVICE_UNKNOWN: 3 });
    // The configured device still works: the feed is alive and the phantom left nothing.
    await send(topics.readings(STATION, 'g1'), { v: 1, readings: [reading('g1', 0.1)] });
    await expect.poll(() => state.device('g1')?.last_reading?.values.dose_rate).toBe(0.1);
    expect(ids()).toEqual(['g1']);
    expect(engine.list({ state: 'all' })).toEqual([]);
  });

  it('readings claiming another device than the topic are dropped; the rest of the message is kept', async () => {
    dead.length = 0;
    await send(topics.readings(STATION, 'g1'), {
      v: 1,
      readings: [reading('g1', 0.2), reading('phantom', 7), reading('g1', 0.3, { station: 'other' })],
    });
    await expect.poll(() => dead.length).toBe(1);
    expect(dead[0]).toMatchObject({ code: 'RS_ERR_DEVICE_MISMATCH', reason: expect.stringMatching(/2 of 3 readings/) });
    expect(feed.rejected().RS_ERR_DEVICE_MISMATCH).toBe(2);
    expect(state.device('g1')?.last_reading?.values.dose_rate).toBe(0.2);
    expect(ids()).toEqual(['g1']);
    expect(engine.list({ state: 'all' })).toEqual([]);
  });

  it('a training device is shown only while its run is up', async () => {
    dead.length = 0;
    const id = 'training-chute-geiger';
    await send(topics.readings(STATION, id), { v: 1, readings: [reading(id, 0.1)] });
    await expect.poll(() => dead.map((d) => d.code)).toEqual(['RS_ERR_DEVICE_UNKNOWN']);
    expect(dead[0]?.reason).toMatch(/no running training run/);
    // Its run's agent comes up: online status, then readings are welcome.
    await send(topics.status(STATION, id), status(id, 'online'), true);
    await send(topics.readings(STATION, id), { v: 1, readings: [reading(id, 0.12)] });
    await expect.poll(() => state.device(id)?.last_reading?.values.dose_rate).toBe(0.12);
    // The run ends (its retained status deleted): readings after that are refused again.
    await send(topics.status(STATION, id), '', true);
    await expect.poll(() => state.device(id)).toBeUndefined();
    await send(topics.readings(STATION, id), { v: 1, readings: [reading(id, 0.13)] });
    await expect.poll(() => dead.length).toBe(2);
    expect(ids()).toEqual(['g1']);
  });
});
