import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogue } from '../../devices/index.ts';
import { simulators } from '../../simulators/index.ts';
import { type Agent, startAgent } from '../../src/agent/agent.ts';
import { type SimulatedLinks, startSimulatedLinks } from '../../src/agent/simulated-links.ts';
import { parseConfig } from '../../src/config/load.ts';
import { type ReadingsMessage, topics } from '../../src/core/contract.ts';
import type { Reading } from '../../src/core/reading.ts';
import type { EmbeddedBroker } from '../../src/station/embedded-broker.ts';
import { asServer, loginAs, startTestBroker } from '../support/mqtt-identities.ts';

/**
 * MQTT-native devices end to end: an in-process aedes broker; each MQTT family's simulator
 * publishes its JSON on its device topic; the real agent subscribes through the MQTT link and
 * publishes canonical readings on radscreen/v1/{station}/{device}/readings. A fourth, "real"
 * device is played by the test itself, to check malformed messages are rejects, not stops.
 */
describe('MQTT JSON devices: simulator → broker → agent → readings', () => {
  const dir = mkdtempSync(join(tmpdir(), 'radscreen-mqtt-devices-'));
  let broker: EmbeddedBroker;
  let url: string;
  let sub: MqttClient;
  let sims: SimulatedLinks;
  let agent: Agent;
  const readings = new Map<string, Reading[]>();

  async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
    const deadline = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  const of = (device: string) => readings.get(device) ?? [];

  beforeAll(async () => {
    const config = parseConfig(
      `
station: { id: mq1 }
data_dir: ${dir}
mqtt: { url: 'mqtt://127.0.0.1:1' }
devices:
  - id: sc1
    profile: safecast-json
    simulate: { background_usvh: 0.5, tick_ms: 50, seed: 3 }
  - id: gen1
    profile: mqtt-json
    simulate: { background_usvh: 0.2, tick_ms: 50, seed: 4 }
    options:
      fields:
        dose_rate: { path: radiation.rate.value, unit: nSv/h }
        cps: { path: radiation.cps, unit: CPS }
        cpm: { path: radiation.cps, unit: CPS }
        counts: { path: radiation.total, unit: counts }
        battery_voltage: { path: power.battery_mv, unit: mV }
        temperature: { path: temp_f, unit: degF }
      timestamp: { path: t, format: s }
  - id: xr1
    profile: xray-parcel-scanner-mqtt
    simulate: { background_usvh: 0.08, tick_ms: 50, seed: 5 }
    options: { doors: 2, panels: 1 }
  - id: live1
    profile: safecast-json
    mqtt: { topic: 'field/live1/+' }
`,
      { catalogue, env: {} },
    );
    // The broker knows the configured devices' topics: each MQTT device may publish only on its own.
    broker = await startTestBroker(dir, { devices: config.devices });
    url = broker.url;
    config.mqtt.url = url;
    sub = await mqtt.connectAsync(url, { protocolVersion: 4, ...asServer(dir, 'mq1') });
    sub.on('message', (topic, payload) => {
      if (!topic.endsWith('/readings')) return;
      const device = topic.split('/')[3] as string;
      readings.set(device, [...of(device), ...(JSON.parse(payload.toString()) as ReadingsMessage).readings]);
    });
    await sub.subscribeAsync(topics.allReadings('mq1'), { qos: 1 });
    sims = await startSimulatedLinks({
      devices: config.devices,
      catalogue,
      simulators,
      dataDir: dir,
      log: pino({ level: 'silent' }),
      mqttUrl: url,
      mqttOptionsFor: (device, role) => loginAs(dir, { role, station: 'mq1', device }),
    });
    agent = startAgent({ config, catalogue, mqttUrl: url, log: pino({ level: 'silent' }), links: sims.links, coalesceMs: 10 });
  });

  afterAll(async () => {
    await agent?.stop();
    await sims?.stop();
    await sub?.endAsync();
    await broker?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('safecast-json: CPM and dose rate (CPM / 334) in canonical units, device time', async () => {
    await until(() => of('sc1').length >= 40, 10_000, '40 safecast readings');
    const rs = of('sc1');
    for (const r of rs) {
      expect(r).toMatchObject({
        station: 'mq1',
        device: 'sc1',
        profile: 'safecast-json',
        kind: 'dosimeter',
        source: 'simulated',
        ts_source: 'device',
      });
      expect(r.values.dose_rate).toBeCloseTo((r.values.cpm as number) / 334, 12);
      expect(r.values.latitude).toBe(35.6581);
    }
    // Parity: the simulator was driven at 0.5 µSv/h.
    const mean = rs.reduce((a, r) => a + (r.values.dose_rate as number), 0) / rs.length;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
  });

  it('mqtt-json: the configured mapping converts nSv/h, CPS→CPM, mV and °F', async () => {
    await until(() => of('gen1').length >= 20, 10_000, '20 mqtt-json readings');
    for (const r of of('gen1')) {
      expect(r.ts_source).toBe('device');
      expect(r.values.cpm).toBe((r.values.cps as number) * 60);
      expect(r.values.dose_rate).toBeGreaterThan(0.19);
      expect(r.values.dose_rate).toBeLessThan(0.21);
      expect(r.values.battery_voltage).toBeGreaterThan(3.4);
      expect(r.values.battery_voltage).toBeLessThanOrEqual(3.95);
      expect(r.values.temperature).toBeGreaterThan(20.5);
      expect(r.values.temperature).toBeLessThan(21.5);
    }
  });

  it('xray-parcel-scanner-mqtt: scanner status through the gateway topic', async () => {
    await until(() => of('xr1').length >= 20, 10_000, '20 scanner readings');
    const rs = of('xr1');
    expect(rs.every((r) => r.kind === 'xray_scanner' && r.values.interlocks_closed === true && r.values.tube_voltage_set === 140)).toBe(
      true,
    );
    expect(rs.some((r) => r.values.beam_on === true)).toBe(true);
    expect(rs.some((r) => r.values.beam_on === false)).toBe(true);
  });

  it('a malformed JSON message on a device topic is a counted reject and the stream goes on', async () => {
    await until(() => agent.stats().find((s) => s.device === 'live1')?.state === 'online', 5000, 'live1 online');
    // Device time must lie inside the plausibility window (a minute ago is fine; 2024 is not).
    const t0 = Math.floor(Date.now() / 1000) * 1000 - 60_000;
    const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
    const dev = await mqtt.connectAsync(url, { protocolVersion: 4, ...loginAs(dir, { role: 'device', station: 'mq1', device: 'live1' }) });
    await dev.publishAsync('field/live1/measurements', `{"lnd_7318u": 334, "when_captured": "${iso(t0)}"}`, { qos: 1 });
    await dev.publishAsync('field/live1/measurements', '{"lnd_7318u": 3', { qos: 1 });
    await dev.publishAsync('field/live1/measurements', `{"lnd_7318u": 668, "when_captured": "${iso(t0 + 1000)}"}`, { qos: 1 });
    await dev.endAsync();
    await until(() => of('live1').length >= 2, 5000, 'two live readings');
    expect(of('live1').map((r) => [r.values.dose_rate, r.ts, r.source])).toEqual([
      [1, t0, 'live'],
      [2, t0 + 1000, 'live'],
    ]);
    expect(agent.stats().find((s) => s.device === 'live1')?.rejected).toEqual({ RS_ERR_PAYLOAD_JSON: 1 });
  });
});
