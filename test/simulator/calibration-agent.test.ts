import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { catalogue } from '../../devices/index.ts';
import { simulators } from '../../simulators/index.ts';
import { type Agent, startAgent } from '../../src/agent/agent.ts';
import { type SimulatedLinks, startSimulatedLinks } from '../../src/agent/simulated-links.ts';
import { signCalibration } from '../../src/calibration/signing.ts';
import { parseConfig } from '../../src/config/load.ts';
import { DEADLETTER_TOPIC, type DeadLetter, type ReadingsMessage, topics } from '../../src/core/contract.ts';
import type { Reading } from '../../src/core/reading.ts';
import { addUser } from '../../src/server/auth/provision.ts';
import { type AuthStore, openAuthStore } from '../../src/server/auth/store.ts';
import { type RunningServer, startServer } from '../../src/server/start.ts';
import { waitFor } from '../support/wait.ts';

/**
 * A calibration recorded on the server reaches an agent in another MQTT session through the
 * retained calibration topic of a real mosquitto: readings afterwards carry its id and
 * `dose_rate = cpm / sensitivity`; an invalid, forged (unsigned, wrong key) or replayed
 * calibration message is refused, counted and dead-lettered, and the last good one stays in force.
 */
// Unique per run: the shared mosquitto keeps retained messages across runs (persistence on).
const STATION = `cal${randomBytes(3).toString('hex')}`;
const DEVICE = 'belt-geiger';

describe('calibration through MQTT to the agent (simulated MightyOhm)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'radscreen-cal-agent-'));
  const broker = { url: inject('services').mqttUrl };
  let sub: MqttClient;
  let serverClient: MqttClient;
  let server: RunningServer;
  let auth: AuthStore;
  let sims: SimulatedLinks;
  let agent: Agent;
  const readings: Reading[] = [];
  const deadLetters: DeadLetter[] = [];
  /** Calibration messages as the server published them. */
  const genuine: Buffer[] = [];

  beforeAll(async () => {
    sub = await mqtt.connectAsync(broker.url, { protocolVersion: 4 });
    sub.on('message', (topic, payload) => {
      if (topic === topics.calibration(STATION, DEVICE)) {
        if (payload.toString().includes('"sig"')) genuine.push(payload);
      } else if (topic === DEADLETTER_TOPIC) deadLetters.push(JSON.parse(payload.toString()) as DeadLetter);
      else readings.push(...(JSON.parse(payload.toString()) as ReadingsMessage).readings);
    });
    await sub.subscribeAsync([topics.readings(STATION, DEVICE), DEADLETTER_TOPIC, topics.calibration(STATION, DEVICE)], { qos: 1 });

    const config = parseConfig(
      `station: { id: ${STATION} }\ndata_dir: ${dir}\nserver: { host: 127.0.0.1, port: 0 }\ndevices:\n  - { id: ${DEVICE}, profile: mightyohm-geiger, simulate: { tick_ms: 100, seed: 4 } }\n`,
      { catalogue, env: {} },
    );
    serverClient = await mqtt.connectAsync(broker.url, { protocolVersion: 4 });
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
    // Leave no retained calibration behind on the shared broker.
    await sub?.publishAsync(topics.calibration(STATION, DEVICE), '', { qos: 1, retain: true });
    await sub?.endAsync();
    rmSync(dir, { recursive: true, force: true });
  });

  const withCounts = (r: Reading) => typeof r.values.cpm === 'number' && (r.values.cpm as number) > 0;

  it('readings carry no calibration id before one is recorded', async () => {
    await waitFor(() => readings.filter(withCounts).length >= 2, { timeoutMs: 15_000, describe: () => 'readings with counts' });
    expect(readings.every((r) => r.calibration_id === undefined)).toBe(true);
  });

  let calibrationId = '';
  const SENSITIVITY = 160;

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

  it("ignores today's attack: an anonymous retained calibration of 1e9", async () => {
    const topic = topics.calibration(STATION, DEVICE);
    const attacker = await mqtt.connectAsync(broker.url, { protocolVersion: 4 });
    const forged = { v: 1, station: STATION, device: DEVICE, calibration_id: 'cal-20261202-0badf0', kind: 'sensitivity', factor: 1e9 };
    try {
      await attacker.publishAsync(topic, JSON.stringify({ ...forged, calibrated_at: Date.now(), due: '2099-01-01' }), {
        qos: 1,
        retain: true,
      });
    } finally {
      await attacker.endAsync();
    }
    await waitFor(() => deadLetters.some((d) => d.topic === topic), { timeoutMs: 5_000, describe: () => deadLetters });
    expect(deadLetters.filter((d) => d.topic === topic).map((d) => [d.code, d.reason])).toEqual([
      ['RS_ERR_CALIBRATION_UNTRUSTED', 'unsigned calibration'],
    ]);
    const mark = readings.length;
    await waitFor(() => readings.slice(mark).filter(withCounts).length >= 3, { timeoutMs: 10_000, describe: () => 'readings after' });
    for (const r of readings.slice(mark)) {
      expect(r.calibration_id).toBe(calibrationId);
      if (withCounts(r)) expect(r.values.dose_rate).toBeCloseTo((r.values.cpm as number) / SENSITIVITY, 9);
    }
    expect(agent.stats()[0]?.rejected).toMatchObject({ RS_ERR_CALIBRATION_UNTRUSTED: 1 });
  });

  it('dead-letters an invalid calibration message and keeps the last good one', async () => {
    const topic = topics.calibration(STATION, DEVICE);
    const good = { v: 1, station: STATION, device: DEVICE, calibration_id: 'cal-bad', calibrated_at: Date.now(), due: '2099-01-01' };
    const bad = [
      JSON.stringify({ ...good, kind: 'sensitivity', factor: -5 }),
      JSON.stringify({ ...good, kind: 'correction', factor: 2 }),
      'not json',
    ];
    const before = deadLetters.filter((d) => d.topic === topic).length;
    for (const payload of bad) await serverClient.publishAsync(topic, payload, { qos: 1, retain: true });
    await waitFor(() => deadLetters.filter((d) => d.topic === topic).length >= before + 3, {
      timeoutMs: 5_000,
      describe: () => 'three dead letters',
    });
    const mine = deadLetters.filter((d) => d.topic === topic).slice(before);
    expect(mine.map((d) => d.code)).toEqual(['RS_ERR_PAYLOAD_INVALID', 'RS_ERR_PAYLOAD_INVALID', 'RS_ERR_PAYLOAD_JSON']);
    expect(mine[1]?.reason).toMatch(/takes a sensitivity factor/);
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

  it('refuses forged calibrations: unsigned, another key, tampered, replayed, beyond the ceiling', async () => {
    const topic = topics.calibration(STATION, DEVICE);
    const first = genuine.find((p) => p.length > 0 && JSON.parse(p.toString()).calibration_id === calibrationId) as Buffer;
    expect(first, 'the server published the first calibration').toBeDefined();
    // A newer genuine record, so that re-publishing the first one is a replay.
    const token = auth.createSession('tech', Date.now() + 3_600_000, Date.now());
    const res = await server.app.inject({
      method: 'POST',
      url: `/api/devices/${DEVICE}/calibrations`,
      headers: { authorization: `Bearer ${token}` },
      payload: { factor: 170, due: '2099-01-01', reference: { nuclide: 'Cs-137', dose_rate_usvh: 5, certificate: 'c-43' } },
    });
    expect(res.statusCode, res.body).toBe(200);
    const secondId: string = res.json().calibration_id;
    await waitFor(() => readings.some((r) => r.calibration_id === secondId), { timeoutMs: 10_000, describe: () => 'second calibration' });
    const second = JSON.parse(genuine.findLast((p) => p.length > 0)?.toString() ?? '{}');
    expect(second.calibration_id).toBe(secondId);

    // Today's attack: anyone on the broker publishes a retained calibration.
    const attacker = await mqtt.connectAsync(broker.url, { protocolVersion: 4 });
    const forgedBase = {
      v: 1,
      station: STATION,
      device: DEVICE,
      calibration_id: 'cal-20261202-f0f0f0',
      kind: 'sensitivity',
      factor: 1e9,
      calibrated_at: Date.now(),
      due: '2099-01-01',
    } as const;
    const serverKey = Buffer.from(readFileSync(join(dir, 'calibration.key'), 'utf8').trim(), 'hex');
    const forged = [
      JSON.stringify(forgedBase),
      JSON.stringify(signCalibration({ ...forgedBase, seq: 99 }, randomBytes(32))),
      JSON.stringify({ ...second, factor: 1e9 }),
      first.toString(),
      // Even with the server's key (leaked), 1e9 CPM per µSv/h is beyond the ceiling.
      JSON.stringify(signCalibration({ ...forgedBase, seq: 99 }, serverKey)),
    ];
    const before = deadLetters.filter((d) => d.topic === topic).length;
    try {
      for (const payload of forged) await attacker.publishAsync(topic, payload, { qos: 1, retain: true });
    } finally {
      await attacker.endAsync();
    }
    const letters = () => deadLetters.filter((d) => d.topic === topic).slice(before);
    await waitFor(() => letters().length >= forged.length, { timeoutMs: 5_000, describe: () => letters() });
    expect(letters().map((d) => d.code)).toEqual([
      'RS_ERR_CALIBRATION_UNTRUSTED',
      'RS_ERR_CALIBRATION_UNTRUSTED',
      'RS_ERR_CALIBRATION_UNTRUSTED',
      'RS_ERR_CALIBRATION_UNTRUSTED',
      'RS_ERR_CALIBRATION_IMPLAUSIBLE',
    ]);
    expect(letters()[0]?.reason).toBe('unsigned calibration');
    expect(letters()[3]?.reason).toMatch(/replay/);
    const mark = readings.length;
    await waitFor(() => readings.slice(mark).filter(withCounts).length >= 3, { timeoutMs: 10_000, describe: () => 'readings after' });
    for (const r of readings.slice(mark)) {
      expect(r.calibration_id).toBe(secondId);
      if (withCounts(r)) expect(r.values.dose_rate).toBeCloseTo((r.values.cpm as number) / 170, 9);
    }
    expect(agent.stats()[0]?.rejected).toMatchObject({ RS_ERR_CALIBRATION_UNTRUSTED: 5, RS_ERR_CALIBRATION_IMPLAUSIBLE: 1 });
    // What the agent kept on disk for a restart is still the genuine one.
    expect(JSON.parse(readFileSync(join(dir, 'calibration', `${DEVICE}.json`), 'utf8')).calibration_id).toBe(secondId);
  });
});
