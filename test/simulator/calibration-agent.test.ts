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
import { DEADLETTER_TOPIC, type DeadLetter, type ReadingsMessage, topics } from '../../src/core/contract.ts';
import type { Reading } from '../../src/core/reading.ts';
import { addUser } from '../../src/server/auth/provision.ts';
import { type AuthStore, openAuthStore } from '../../src/server/auth/store.ts';
import { type RunningServer, startServer } from '../../src/server/start.ts';
import type { EmbeddedBroker } from '../../src/station/embedded-broker.ts';
import { asServer, startTestBroker } from '../support/mqtt-identities.ts';
import { waitFor } from '../support/wait.ts';

/**
 * A calibration recorded on the server reaches an agent in another MQTT session through the
 * retained calibration topic: readings afterwards carry its id and `dose_rate = cpm / sensitivity`;
 * an invalid calibration message is dead-lettered and the last good one stays in force.
 */
const STATION = 'cal';
const DEVICE = 'belt-geiger';

describe('calibration through MQTT to the agent (simulated MightyOhm)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'radscreen-cal-agent-'));
  let broker: EmbeddedBroker;
  let sub: MqttClient;
  let serverClient: MqttClient;
  let server: RunningServer;
  let auth: AuthStore;
  let sims: SimulatedLinks;
  let agent: Agent;
  const readings: Reading[] = [];
  const deadLetters: DeadLetter[] = [];

  beforeAll(async () => {
    broker = await startTestBroker(dir);
    sub = await mqtt.connectAsync(broker.url, { protocolVersion: 4, ...asServer(dir, STATION) });
    sub.on('message', (topic, payload) => {
      if (topic === DEADLETTER_TOPIC) deadLetters.push(JSON.parse(payload.toString()) as DeadLetter);
      else readings.push(...(JSON.parse(payload.toString()) as ReadingsMessage).readings);
    });
    await sub.subscribeAsync([topics.readings(STATION, DEVICE), DEADLETTER_TOPIC], { qos: 1 });

    const config = parseConfig(
      `station: { id: ${STATION} }\ndata_dir: ${dir}\nserver: { host: 127.0.0.1, port: 0 }\ndevices:\n  - { id: ${DEVICE}, profile: mightyohm-geiger, simulate: { tick_ms: 100, seed: 4 } }\n`,
      { catalogue, env: {} },
    );
    serverClient = await mqtt.connectAsync(broker.url, { protocolVersion: 4, ...asServer(dir, STATION) });
    auth = openAuthStore();
    await addUser(auth, { name: 'tech', role: 'technician', password: 'tech-password-for-test' });
    server = await startServer({
      config,
      mqtt: serverClient,
      log: pino({ level: 'silent' }),
      storage: { enabled: false, detail: 'test' },
      auth,
    });
    sims = await startSimulatedLinks({ devices: config.devices, catalogue, simulators, dataDir: dir, log: pino({ level: 'silent' }) });
    agent = startAgent({ config, catalogue, mqttUrl: broker.url, log: pino({ level: 'silent' }), links: sims.links, coalesceMs: 10 });
  });

  afterAll(async () => {
    await agent?.stop();
    await sims?.stop();
    await server?.close();
    auth?.close();
    await serverClient?.endAsync();
    await sub?.endAsync();
    await broker?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const withCounts = (r: Reading) => typeof r.values.cpm === 'number' && (r.values.cpm as number) > 0;

  it('readings carry no calibration id before one is recorded', async () => {
    await waitFor(() => readings.filter(withCounts).length >= 2, { timeoutMs: 15_000, describe: () => 'readings with counts' });
    expect(readings.every((r) => r.calibration_id === undefined)).toBe(true);
  });

  let calibrationId = '';
  const SENSITIVITY = 40;

  it('applies a calibration recorded on the server: id stamped, dose rate = cpm / sensitivity', async () => {
    const token = auth.createSession('tech', Date.now() + 3_600_000, Date.now());
    const res = await server.app.inject({
      method: 'POST',
      url: `/api/devices/${DEVICE}/calibrations`,
      headers: { authorization: `Bearer ${token}` },
      payload: { factor: SENSITIVITY, due: '2099-01-01', reference: { nuclide: 'Cs-137', dose_rate_usvh: 5, certificate: 'c-42' } },
    });
    expect(res.statusCode, res.body).toBe(200);
    calibrationId = res.json().calibration_id;
    const stamped = () => readings.filter((r) => r.calibration_id === calibrationId && withCounts(r));
    await waitFor(() => stamped().length >= 3, { timeoutMs: 10_000, describe: () => 'calibrated readings' });
    for (const r of stamped()) expect(r.values.dose_rate).toBeCloseTo((r.values.cpm as number) / SENSITIVITY, 9);
    // Once in force, every later reading carries it.
    const first = readings.findIndex((r) => r.calibration_id === calibrationId);
    expect(readings.slice(first).every((r) => r.calibration_id === calibrationId)).toBe(true);
  });

  it('dead-letters an invalid calibration message and keeps the last good one', async () => {
    const topic = topics.calibration(STATION, DEVICE);
    const good = { v: 1, station: STATION, device: DEVICE, calibration_id: 'cal-bad', calibrated_at: Date.now(), due: '2099-01-01' };
    const bad = [
      JSON.stringify({ ...good, kind: 'sensitivity', factor: -5 }),
      JSON.stringify({ ...good, kind: 'correction', factor: 2 }),
      'not json',
    ];
    for (const payload of bad) await serverClient.publishAsync(topic, payload, { qos: 1, retain: true });
    await waitFor(() => deadLetters.filter((d) => d.topic === topic).length >= 3, {
      timeoutMs: 5_000,
      describe: () => 'three dead letters',
    });
    expect(deadLetters.map((d) => d.code)).toEqual(['RS_ERR_PAYLOAD_INVALID', 'RS_ERR_PAYLOAD_INVALID', 'RS_ERR_PAYLOAD_JSON']);
    expect(deadLetters[1]?.reason).toMatch(/takes a sensitivity factor/);
    const mark = readings.length;
    await waitFor(() => readings.slice(mark).filter(withCounts).length >= 3, {
      timeoutMs: 10_000,
      describe: () => 'readings after the bad messages',
    });
    for (const r of readings.slice(mark)) {
      expect(r.calibration_id).toBe(calibrationId);
      if (withCounts(r)) expect(r.values.dose_rate).toBeCloseTo((r.values.cpm as number) / SENSITIVITY, 9);
    }
    expect(agent.stats()[0]?.rejected).toMatchObject({ RS_ERR_PAYLOAD_INVALID: 2, RS_ERR_PAYLOAD_JSON: 1 });
  });
});
