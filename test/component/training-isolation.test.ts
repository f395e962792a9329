import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogue } from '../../devices/index.ts';
import { simulators } from '../../simulators/index.ts';
import type { Alarm } from '../../src/alarms/types.ts';
import { parseConfig } from '../../src/config/load.ts';
import { topics } from '../../src/core/contract.ts';
import { addUser } from '../../src/server/auth/provision.ts';
import { type RunningServer, startServer } from '../../src/server/start.ts';
import type { EmbeddedBroker } from '../../src/station/embedded-broker.ts';
import { runScenario } from '../../src/training/runner.ts';
import { loadScenario, SCENARIO_DIR } from '../../src/training/scenario.ts';
import { asAgent, asServer, startTestBroker } from '../support/mqtt-identities.ts';
import { waitFor } from '../support/wait.ts';

/**
 * Issue 8 item 6: a training run must leave the live station as it found it. A real server on
 * the embedded broker runs the interlock scenario (real simulator → agent → MQTT → feed →
 * engine) twice: once from the trainer API, once as `radscreen scenario run` does it (runner
 * only, the server learns of the run from the bus), then the server restarts. KPIs, the flood
 * flag, the live alarm list and the device grid must be exactly what they were before. The
 * server's clock is offset forward after each run so that timer rules (device_stale) get the
 * chance to raise for a device that was left behind.
 */
const STATION = 'st-iso';
const SPEED = 20;
const log = pino({ level: 'silent' });

describe('training isolation on a real server', () => {
  const dir = mkdtempSync(join(tmpdir(), 'radscreen-isolation-'));
  // A flood after 2 raises: any training raise that counted would show it.
  const config = parseConfig(
    `station: { id: ${STATION} }\ndata_dir: ${dir}\nserver: { host: 127.0.0.1, port: 0 }\nalarms: { flood: { count: 1, window_min: 60 } }\ndevices: []\n`,
    { catalogue, env: {} },
  );
  let broker: EmbeddedBroker;
  let client: MqttClient;
  let server: RunningServer | undefined;
  let offsetMs = 0;
  const now = () => Date.now() + offsetMs;

  const start = async () => {
    server = await startServer({
      config,
      mqtt: client,
      log,
      storage: { enabled: false, detail: 'test' },
      now,
      staleCheckMs: 50,
      training: { mqttUrl: broker.url, simulators, forceMemory: true },
    });
    return server;
  };
  const get = async <T>(path: string): Promise<T> => (await fetch(`${server?.url}${path}`)).json() as Promise<T>;
  const livePicture = async () => {
    const kpis = await get<Record<string, unknown> & { flood: Record<string, unknown> }>('/api/alarms/kpis');
    const { alarms } = await get<{ alarms: Alarm[] }>('/api/alarms?state=all&limit=500');
    const { devices } = await get<{ devices: { id: string }[] }>('/api/devices');
    const health = await get<{ alarms_active: number; reasons: unknown[] }>('/healthz');
    return {
      health: { alarms_active: health.alarms_active, reasons: health.reasons },
      kpis: { ...kpis, flood: { ...kpis.flood, since: undefined } },
      live_alarms: alarms.filter((a) => a.source !== 'training').map((a) => a.id),
      active_training: alarms.filter((a) => a.source === 'training' && a.closed_at === undefined).map((a) => `${a.rule} ${a.isa_state}`),
      devices: devices.map((d) => d.id),
    };
  };

  beforeAll(async () => {
    broker = await startTestBroker(dir);
    client = await mqtt.connectAsync(broker.url, { protocolVersion: 4, ...asServer(dir, STATION) });
    await start();
  });

  afterAll(async () => {
    await server?.close();
    await client?.endAsync();
    await broker?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a run from the trainer API changes no KPI, flood flag, live alarm or tile, and closes its alarms as training', async () => {
    const srv = server as RunningServer;
    const before = await livePicture();
    await addUser(srv.auth, { name: 'trainer', role: 'trainer', password: 'trainer-password' });
    const token = srv.auth.createSession('trainer', Date.now() + 3_600_000, Date.now());
    const res = await fetch(`${srv.url}/api/training/scenarios/xray-interlock-beam-on/start`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ speed: SPEED }),
    });
    expect(res.status).toBe(200);
    const runId = ((await res.json()) as { run: { run: string } }).run.run;
    // While it runs, the trainee sees its tile and its emergency (in the training list).
    await waitFor(() => srv.engine.list({ source: 'training' }).some((a) => a.rule === 'xray_interlock_open_beam_on'), {
      timeoutMs: 15_000,
      describe: () => srv.engine.list({ source: 'training' }).map((a) => a.rule),
    });
    expect(srv.state.device('training-parcel-scanner')).toBeDefined();
    // Even while it runs, with its emergency active, the station's KPIs, flood flag and health are untouched.
    const during = await livePicture();
    expect(during.kpis).toEqual(before.kpis);
    expect(during.health).toEqual(before.health);
    expect(during.live_alarms).toEqual(before.live_alarms);
    await waitFor(
      async () => ((await get<{ runs: { run: string; state: string }[] }>('/api/training/runs')).runs[0]?.state ?? '') !== 'running',
      { timeoutMs: 20_000 },
    );
    expect((await get<{ runs: { run: string }[] }>('/api/training/runs')).runs[0]?.run).toBe(runId);
    // Hours later by the server's clock: nothing of the run may raise (device_stale) or linger.
    offsetMs += 3_600_000;
    await new Promise((r) => setTimeout(r, 300));
    expect(await livePicture()).toEqual(before);
    const training = srv.engine.list({ source: 'training', state: 'all', limit: 500 });
    expect(training.length).toBeGreaterThan(0);
    expect(training.every((a) => a.closed_at !== undefined && a.disposition?.value === 'training')).toBe(true);
  }, 40_000);

  it('a CLI-style run, then a server restart: no training tile, no active training alarm, live picture unchanged', async () => {
    const before = await livePicture();
    const run = await runScenario({
      scenario: loadScenario(join(SCENARIO_DIR, 'xray-interlock-beam-on.yaml')),
      config,
      catalogue,
      simulators,
      mqttUrl: broker.url,
      log,
      speed: SPEED,
      forceMemory: true,
    });
    await waitFor(() => (server as RunningServer).engine.list({ source: 'training', state: 'active' }).length > 0, { timeoutMs: 15_000 });
    expect((await run.done).state).toBe('finished');
    await waitFor(() => (server as RunningServer).state.device('training-parcel-scanner') === undefined, { timeoutMs: 5000 });
    offsetMs += 3_600_000;
    await new Promise((r) => setTimeout(r, 300));
    expect(await livePicture()).toEqual(before);

    // A run killed outright leaves its agent's last will: a retained offline status, published
    // under that device connection's identity (the only one the broker lets write it).
    const deadAgent = await mqtt.connectAsync(broker.url, { protocolVersion: 4, ...asAgent(dir, STATION, 'training-chute-geiger') });
    await deadAgent.publishAsync(
      topics.status(STATION, 'training-chute-geiger'),
      JSON.stringify({
        v: 1,
        station: STATION,
        device: 'training-chute-geiger',
        profile: 'mightyohm-geiger',
        state: 'offline',
        ts: Date.now(),
        detail: { reason: 'agent connection lost' },
      }),
      { qos: 1, retain: true },
    );
    await deadAgent.endAsync();
    await server?.close();
    offsetMs += 3_600_000;
    await start();
    await new Promise((r) => setTimeout(r, 500));
    const after = await livePicture();
    expect(after.devices).toEqual([]);
    expect(after.active_training).toEqual([]);
    expect(after).toEqual(before);
  }, 40_000);
  it('a run killed outright (no end marker, only its last will) is ended by its agent falling silent', async () => {
    const before = await livePicture();
    const id = 'training-killed-geiger';
    const agent = await mqtt.connectAsync(broker.url, { protocolVersion: 4, ...asAgent(dir, STATION, id) });
    const status = (state: string) =>
      agent.publishAsync(
        topics.status(STATION, id),
        JSON.stringify({ v: 1, station: STATION, device: id, profile: 'mightyohm-geiger', state, ts: Date.now(), detail: {} }),
        { qos: 1, retain: true },
      );
    await status('online');
    const reading = {
      station: STATION,
      device: id,
      profile: 'mightyohm-geiger',
      kind: 'dosimeter',
      ts: now(),
      ts_source: 'agent',
      values: { cps: 900, cpm: 54_000, dose_rate: 300, mode: 'SLOW' },
      quality: 'good',
      source: 'training',
    };
    await agent.publishAsync(topics.readings(STATION, id), JSON.stringify({ v: 1, readings: [reading] }), { qos: 1 });
    const srv = server as RunningServer;
    await waitFor(() => srv.engine.list({ source: 'training', state: 'active' }).some((a) => a.device === id), {
      timeoutMs: 5000,
      describe: () => srv.state.device(id),
    });
    // SIGKILL: the broker publishes the will (offline), nothing deletes the retained status.
    await status('offline');
    await agent.endAsync();
    await waitFor(() => srv.state.device(id)?.reported_status === 'offline', { timeoutMs: 5000 });
    expect(srv.state.device(id)).toBeDefined();
    // A minute of silence from its agent (it re-publishes its status every 10 s while alive).
    offsetMs += 61_000;
    await waitFor(() => srv.state.device(id) === undefined, { timeoutMs: 5000 });
    expect((await livePicture()).active_training).toEqual([]);
    expect(await livePicture()).toEqual(before);
  }, 30_000);
});
