import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogue } from '../../devices/index.ts';
import { type Agent, startAgent } from '../../src/agent/agent.ts';
import type { Alarm } from '../../src/alarms/types.ts';
import { parseConfig } from '../../src/config/load.ts';
import { topics } from '../../src/core/contract.ts';
import type { Reading } from '../../src/core/reading.ts';
import type { HealthReason } from '../../src/server/health-checks.ts';
import type { StorageState } from '../../src/server/schemas.ts';
import { type RunningServer, startServer } from '../../src/server/start.ts';
import type { EmbeddedBroker } from '../../src/station/embedded-broker.ts';
import { asAgent, asServer, startTestBroker } from '../support/mqtt-identities.ts';
import { waitFor } from '../support/wait.ts';

/**
 * Issue 8 item 8: a configured serial device that never opens (a wrong path, a USB id that is not
 * plugged in) must raise an alarm carrying the agent's code and reason, and /healthz must not say
 * ok while nothing is stored or no device is online. Real agent (serialport fails for real), real
 * server, embedded broker.
 */
const STATION = 'st-fault';
const log = pino({ level: 'silent' });

describe('silent failures become alarms and a degraded /healthz', () => {
  const dir = mkdtempSync(join(tmpdir(), 'radscreen-fault-'));
  const config = parseConfig(
    `station: { id: ${STATION} }
data_dir: ${dir}
server: { host: 127.0.0.1, port: 0 }
devices:
  - { id: belt-geiger, profile: mightyohm-geiger, serial: { path: /dev/radscreen-no-such-port } }
  - { id: usb-gmc, profile: gq-gmc, serial: { vendor_id: 'fff0', product_id: 'fff1' } }
  - { id: chute-geiger, profile: mightyohm-geiger, serial: { path: /dev/radscreen-no-such-port-2 } }
`,
    { catalogue, env: {} },
  );
  const storage: StorageState = { enabled: false, detail: 'storage not configured' };
  let extra: HealthReason[] = [];
  let broker: EmbeddedBroker;
  let client: MqttClient;
  let device: MqttClient;
  let server: RunningServer;
  let agent: Agent | undefined;

  const health = async () => {
    const res = await fetch(`${server.url}/healthz`);
    return { status: res.status, body: (await res.json()) as { ok: boolean; status: string; code?: string; reasons: HealthReason[] } };
  };
  const faults = async () =>
    ((await (await fetch(`${server.url}/api/alarms?state=active`)).json()) as { alarms: Alarm[] }).alarms.filter(
      (a) => a.rule === 'device_fault',
    );

  beforeAll(async () => {
    broker = await startTestBroker(dir);
    client = await mqtt.connectAsync(broker.url, { protocolVersion: 4, ...asServer(dir, STATION) });
    // The device's own connection: the broker lets only it publish chute-geiger's status and readings.
    device = await mqtt.connectAsync(broker.url, { protocolVersion: 4, ...asAgent(dir, STATION, 'chute-geiger') });
    server = await startServer({ config, mqtt: client, log, storage, staleCheckMs: 100, healthChecks: () => extra });
  });

  afterAll(async () => {
    await agent?.stop();
    await server?.close();
    await client?.endAsync();
    await device?.endAsync();
    await broker?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a port that never opens raises device_fault with the agent code and reason; the tile carries them', async () => {
    // Only the two broken devices run in this agent; chute-geiger is fed by hand below.
    agent = startAgent({ config: { ...config, devices: config.devices.slice(0, 2) }, catalogue, mqttUrl: broker.url, log });
    await waitFor(async () => (await faults()).length === 2, {
      timeoutMs: 20_000,
      describe: () => server.state.devices().map((d) => [d.id, d.status, d.status_detail.code]),
    });
    const byDevice = new Map((await faults()).map((a) => [a.device, a]));
    for (const id of ['belt-geiger', 'usb-gmc']) {
      const a = byDevice.get(id) as Alarm;
      expect(a).toMatchObject({ class: 'equipment', severity: 'medium', source: 'live', state: 'active' });
      expect(a.evidence.params?.code).toBe('RS_ERR_PORT_OPEN');
      expect(String(a.evidence.params?.reason).length).toBeGreaterThan(5);
      expect(a.message).toContain(String(a.evidence.params?.reason));
      const tile = server.state.device(id);
      expect(tile?.status).toBe('error');
      expect(tile?.status_detail.code).toBe('RS_ERR_PORT_OPEN');
    }
    expect(String(byDevice.get('belt-geiger')?.evidence.params?.reason)).toMatch(/radscreen-no-such-port|No such file|ENOENT/i);
  }, 30_000);

  it('/healthz is 503 degraded with reasons: storage off and no device online', async () => {
    const { status, body } = await health();
    expect(status).toBe(503);
    expect(body).toMatchObject({ ok: false, status: 'degraded', code: 'RS_ERR_SERVICE_DEGRADED' });
    expect(body.reasons.map((r) => r.code).sort()).toEqual(['no_device_online', 'storage_off']);
  });

  it('a device that comes online clears its fault; /healthz is 200 ok only when nothing is wrong', async () => {
    const publishStatus = (state: string, detail: object = {}) =>
      device.publishAsync(
        topics.status(STATION, 'chute-geiger'),
        JSON.stringify({ v: 1, station: STATION, device: 'chute-geiger', profile: 'mightyohm-geiger', state, ts: Date.now(), detail }),
        { qos: 1, retain: true },
      );
    const reading: Reading = {
      station: STATION,
      device: 'chute-geiger',
      profile: 'mightyohm-geiger',
      kind: 'dosimeter',
      ts: Date.now(),
      ts_source: 'agent',
      values: { cps: 1, cpm: 20, dose_rate: 0.1, mode: 'SLOW' },
      quality: 'good',
      source: 'live',
    };
    // An agent without detail.code/reason (an older agent) still gets a fault, with fallbacks.
    await publishStatus('error');
    await waitFor(async () => (await faults()).some((a) => a.device === 'chute-geiger'), { timeoutMs: 15_000 });
    const bare = (await faults()).find((a) => a.device === 'chute-geiger') as Alarm;
    expect(bare.evidence.params).toMatchObject({ code: 'unknown', state: 'error' });
    expect(String(bare.evidence.params?.reason)).toMatch(/without a reason/);

    await publishStatus('online');
    await device.publishAsync(topics.readings(STATION, 'chute-geiger'), JSON.stringify({ v: 1, readings: [reading] }), { qos: 1 });
    await waitFor(async () => !(await faults()).some((a) => a.device === 'chute-geiger'), { timeoutMs: 5000 });

    // One device online, but storage is still off.
    expect((await health()).body.reasons.map((r) => r.code)).toEqual(['storage_off']);
    storage.enabled = true;
    storage.detail = 'InfluxDB at http://127.0.0.1:8086';
    expect(await health()).toMatchObject({ status: 200, body: { ok: true, status: 'ok', reasons: [] } });
    // The station's data path reports its spool above the bound.
    extra = [{ code: 'spool_above_bound', message: 'ingest spool above its high-water mark' }];
    expect(await health()).toMatchObject({ status: 503, body: { reasons: [{ code: 'spool_above_bound' }] } });
    extra = [];
    // An agent whose outbox is above its bound says so in its status detail.
    await publishStatus('online', { outbox: { depth: 90_000, alarm: true } });
    await waitFor(async () => (await health()).status === 503, { timeoutMs: 5000 });
    expect((await health()).body.reasons).toEqual([expect.objectContaining({ code: 'outbox_above_bound', device: 'chute-geiger' })]);
  }, 30_000);
  it('readings of a device not in the configuration make no tile and are counted on /metrics', async () => {
    const phantom = await mqtt.connectAsync(broker.url, { protocolVersion: 4, ...asAgent(dir, STATION, 'phantom') });
    const r = { station: STATION, device: 'phantom', profile: 'mightyohm-geiger', kind: 'dosimeter', ts: Date.now(), ts_source: 'agent' };
    const values = { cps: 1, cpm: 20, dose_rate: 50, mode: 'SLOW' };
    await phantom.publishAsync(
      topics.readings(STATION, 'phantom'),
      JSON.stringify({ v: 1, readings: [{ ...r, values, quality: 'good', source: 'live' }] }),
      { qos: 1 },
    );
    await phantom.endAsync();
    const scrape = async () => (await fetch(`${server.url}/metrics`)).text();
    await waitFor(async () => /radscreen_server_feed_rejected_total\{code="RS_ERR_DEVICE_UNKNOWN"\} 1\b/.test(await scrape()), {
      timeoutMs: 5000,
      describe: () => 'no RS_ERR_DEVICE_UNKNOWN count on /metrics',
    });
    expect(server.state.device('phantom')).toBeUndefined();
    expect(server.engine.list({ state: 'all' }).some((a) => a.device === 'phantom')).toBe(false);
  });
});
