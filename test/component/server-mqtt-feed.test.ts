import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogue } from '../../devices/index.ts';
import { createAlarmEngine } from '../../src/alarms/engine.ts';
import { type AlarmTransition, AlarmTransitionSchema } from '../../src/alarms/types.ts';
import { parseConfig } from '../../src/config/load.ts';
import { DEADLETTER_TOPIC, type DeadLetter, DeadLetterSchema, topics } from '../../src/core/contract.ts';
import type { Reading } from '../../src/core/reading.ts';
import { createLiveState, type LiveState } from '../../src/server/live-state.ts';
import { attachMqttFeed, type MqttFeed } from '../../src/server/mqtt-feed.ts';
import type { SpectrumMessage } from '../../src/spectra/contract.ts';
import type { EmbeddedBroker } from '../../src/station/embedded-broker.ts';
import { asAgent, asServer, startTestBroker } from '../support/mqtt-identities.ts';

const silent = { debug() {}, info() {}, warn() {} };
const CONFIG = 'station: { id: st1 }\ndevices: [{ id: g1, profile: mightyohm-geiger, simulate: {} }]\n';

function reading(doseRate: number, over: Partial<Reading> = {}): Reading {
  return {
    station: 'st1',
    device: 'g1',
    profile: 'mightyohm-geiger',
    kind: 'dosimeter',
    ts: Date.now(),
    ts_source: 'agent',
    values: { cps: 1, cpm: 20, dose_rate: doseRate, mode: 'SLOW' },
    quality: 'good',
    source: 'simulated',
    ...over,
  };
}

describe('attachMqttFeed (in-process aedes)', () => {
  let broker: EmbeddedBroker | undefined;
  let client: MqttClient;
  let agent: MqttClient;
  let otherStation: MqttClient;
  let watcher: MqttClient;
  const dir = mkdtempSync(join(tmpdir(), 'radscreen-feed-'));
  let feed: MqttFeed;
  let state: LiveState;
  const alarms: AlarmTransition[] = [];
  const dead: DeadLetter[] = [];
  const spectra: SpectrumMessage[] = [];

  beforeAll(async () => {
    broker = await startTestBroker(dir);
    const url = broker.url;
    client = await mqtt.connectAsync(url, { protocolVersion: 4, ...asServer(dir, 'st1') });
    // Each device connection may publish only its own topics: one client per device, and a watcher.
    agent = await mqtt.connectAsync(url, { protocolVersion: 4, ...asAgent(dir, 'st1', 'g1') });
    otherStation = await mqtt.connectAsync(url, { protocolVersion: 4, ...asAgent(dir, 'st2', 'g9') });
    watcher = await mqtt.connectAsync(url, { protocolVersion: 4, ...asServer(dir, 'st1') });
    watcher.on('message', (topic, payload) => {
      if (topic === topics.alarms('st1')) alarms.push(AlarmTransitionSchema.parse(JSON.parse(payload.toString())));
      if (topic === DEADLETTER_TOPIC) dead.push(DeadLetterSchema.parse(JSON.parse(payload.toString())));
    });
    await watcher.subscribeAsync([topics.alarms('st1'), DEADLETTER_TOPIC], { qos: 1 });
    const config = parseConfig(CONFIG, { catalogue, env: {} });
    const engine = createAlarmEngine({ now: Date.now, thresholds: { default: { threshold_usvh: 1, deadband_usvh: 0.2 } } });
    state = createLiveState({ config, catalogue, engine, now: Date.now });
    const parcels = { observe() {}, spectrum: (m: SpectrumMessage) => spectra.push(m) };
    feed = await attachMqttFeed({ client, station: 'st1', state, engine, log: silent, parcels });
  });

  afterAll(async () => {
    await feed?.detach();
    await agent?.endAsync();
    await otherStation?.endAsync();
    await watcher?.endAsync();
    await client?.endAsync();
    await broker?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const send = (topic: string, payload: string | object, retain = false) =>
    (topic.startsWith('radscreen/v1/st2/') ? otherStation : agent).publishAsync(
      topic,
      typeof payload === 'string' ? payload : JSON.stringify(payload),
      { qos: 1, retain },
    );

  it('feeds status and readings into the live state', async () => {
    await send(
      topics.status('st1', 'g1'),
      { v: 1, station: 'st1', device: 'g1', profile: 'mightyohm-geiger', state: 'online', ts: 1 },
      true,
    );
    await send(topics.readings('st1', 'g1'), { v: 1, readings: [reading(0.15)] });
    await expect.poll(() => state.device('g1')?.last_reading?.values.dose_rate).toBe(0.15);
    expect(state.device('g1')?.status).toBe('online');
    expect(state.device('g1')?.reported_status).toBe('online');
  });

  it('publishes raised and cleared transitions on the alarms topic', async () => {
    await send(topics.readings('st1', 'g1'), { v: 1, readings: [reading(4.2)] });
    await expect.poll(() => alarms.map((a) => a.kind)).toEqual(['raised']);
    expect(alarms[0]?.alarm).toMatchObject({ device: 'g1', state: 'active', evidence: { value: 4.2, threshold: 1 } });
    await send(topics.readings('st1', 'g1'), { v: 1, readings: [reading(0.1)] });
    await expect.poll(() => alarms.map((a) => a.kind)).toEqual(['raised', 'cleared']);
    expect(alarms[1]?.alarm.id).toBe(alarms[0]?.alarm.id);
  });

  it('dead-letters and counts bad payloads by code without stopping the feed', async () => {
    await send(topics.readings('st1', 'g1'), 'not json');
    await send(topics.readings('st1', 'g1'), { v: 1, readings: [{ ...reading(1), quality: 'great' }] });
    await send(topics.readings('st1', 'g1'), { v: 1, readings: [reading(0.2, { device: 'other' })] });
    await send(topics.status('st1', 'g1'), { v: 1, state: 'sleepy' });
    await expect.poll(() => dead.length).toBe(4);
    expect(feed.rejected()).toEqual({ RS_ERR_PAYLOAD_JSON: 1, RS_ERR_PAYLOAD_INVALID: 2, RS_ERR_DEVICE_MISMATCH: 1 });
    expect(dead[0]).toMatchObject({ code: 'RS_ERR_PAYLOAD_JSON', topic: topics.readings('st1', 'g1') });
    expect(Buffer.from(dead[0]?.payload_b64 ?? '', 'base64').toString()).toBe('not json');
    expect(dead[1]?.reason).toMatch(/quality/);
    // Still alive afterwards.
    await send(topics.readings('st1', 'g1'), { v: 1, readings: [reading(0.33)] });
    await expect.poll(() => state.device('g1')?.last_reading?.values.dose_rate).toBe(0.33);
  });

  it('ignores other stations and clears of retained status', async () => {
    await send(topics.readings('st2', 'g9'), { v: 1, readings: [reading(9, { station: 'st2', device: 'g9' })] });
    await send(topics.status('st1', 'g1'), '', true);
    await send(topics.readings('st1', 'g1'), { v: 1, readings: [reading(0.4)] });
    await expect.poll(() => state.device('g1')?.last_reading?.values.dose_rate).toBe(0.4);
    expect(state.device('g9')).toBeUndefined();
    expect(dead.length).toBe(4);
  });

  it('hands valid spectra on and dead-letters invalid ones (RS_ERR_SPECTRUM_INVALID, RS_ERR_DEVICE_MISMATCH)', async () => {
    const spectrum = {
      channels: 16,
      counts: new Array(16).fill(3),
      calibration: [0, 30],
      live_time_s: 5,
      device: 'g1',
      ts: 1,
      measurement_class: 'Foreground',
    };
    const before = dead.length;
    await send(topics.spectrum('st1', 'g1'), { v: 1, station: 'st1', device: 'g1', spectrum: { ...spectrum, counts: [1, 2] } });
    await send(topics.spectrum('st1', 'g1'), { v: 1, station: 'st1', device: 'g1', spectrum: { ...spectrum, device: 'g2' } });
    await send(topics.spectrum('st1', 'g1'), { v: 1, station: 'st1', device: 'g1', spectrum });
    await expect.poll(() => spectra.length).toBe(1);
    expect(spectra[0]?.spectrum.counts).toEqual(spectrum.counts);
    await expect.poll(() => dead.length - before).toBe(2);
    expect(dead.slice(before).map((d) => [d.code, d.topic])).toEqual([
      ['RS_ERR_SPECTRUM_INVALID', topics.spectrum('st1', 'g1')],
      ['RS_ERR_DEVICE_MISMATCH', topics.spectrum('st1', 'g1')],
    ]);
  });
});
