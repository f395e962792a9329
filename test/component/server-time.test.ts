import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogue } from '../../devices/index.ts';
import { parseConfig } from '../../src/config/load.ts';
import { topics } from '../../src/core/contract.ts';
import type { Reading } from '../../src/core/reading.ts';
import { openAuthStore } from '../../src/server/auth/store.ts';
import { type RunningServer, startServer } from '../../src/server/start.ts';
import type { EmbeddedBroker } from '../../src/station/embedded-broker.ts';
import { asAgent, asServer, startTestBroker } from '../support/mqtt-identities.ts';
import { waitFor } from '../support/wait.ts';

/**
 * Item 4 of issue 8 through the real server path (MQTT feed → engine → SQLite store → restart):
 * one reading stamped a year ahead used to blind the detector, also after a restart.
 */
describe('server: a future-stamped reading is rejected, counted, and blinds nothing across a restart', () => {
  const dir = mkdtempSync(join(tmpdir(), 'radscreen-server-time-'));
  let broker: EmbeddedBroker;
  let device: MqttClient;
  const config = parseConfig(
    `station: { id: st1 }\ndata_dir: ${dir}\nserver: { host: 127.0.0.1, port: 0 }\nalarms: { dose_rate_usvh: 1, deadband_usvh: 0.2 }\ntime_window: { future_s: 60 }\ndevices:\n  - { id: g1, profile: mightyohm-geiger, simulate: {} }\n`,
    { catalogue, env: {} },
  );
  const auth = openAuthStore();

  async function start(): Promise<{ server: RunningServer; client: MqttClient }> {
    const client = await mqtt.connectAsync(broker.url, { protocolVersion: 4, ...asServer(dir, 'st1') });
    const server = await startServer({
      config,
      mqtt: client,
      log: pino({ level: 'silent' }),
      storage: { enabled: false, detail: 'test' },
      auth,
    });
    return { server, client };
  }
  const reading = (doseRate: number, ts: number): Reading => ({
    station: 'st1',
    device: 'g1',
    profile: 'mightyohm-geiger',
    kind: 'dosimeter',
    ts,
    ts_source: 'device',
    values: { dose_rate: doseRate },
    quality: 'good',
    source: 'live',
  });
  const publish = (r: Reading) => device.publishAsync(topics.readings('st1', 'g1'), JSON.stringify({ v: 1, readings: [r] }), { qos: 1 });

  beforeAll(async () => {
    broker = await startTestBroker(dir);
    device = await mqtt.connectAsync(broker.url, { protocolVersion: 4, ...asAgent(dir, 'st1', 'g1') });
  });
  afterAll(async () => {
    await device?.endAsync();
    await broker?.close();
    auth.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('counts the reading on /metrics, and a hot reading after the restart still raises', async () => {
    const first = await start();
    await publish(reading(0.1, Date.now() + 365 * 86_400_000));
    // Inside the default 5-min window, outside this config's 60 s.
    await publish(reading(0.1, Date.now() + 120_000));
    await publish(reading(0.1, Date.now()));
    await waitFor(() => first.server.state.device('g1')?.last_reading !== undefined, { timeoutMs: 5000 });
    await waitFor(() => first.server.engine.rejected().RS_ERR_TS_FUTURE === 2, {
      timeoutMs: 5000,
      describe: () => first.server.engine.rejected(),
    });
    const metrics = await first.server.app.inject({ url: '/metrics' });
    expect(metrics.body).toMatch(/radscreen_alarm_readings_skipped_total\{reason="RS_ERR_TS_FUTURE"\} 2/);
    await first.server.close();
    await first.client.endAsync();

    const second = await start();
    try {
      await publish(reading(5, Date.now()));
      await waitFor(() => second.server.engine.activeFor('st1', 'g1', 'dose_rate_high') !== undefined, {
        timeoutMs: 5000,
        describe: () => second.server.engine.list().map((a) => a.id),
      });
      const res = await second.server.app.inject({ url: '/api/alarms?state=active' });
      expect(res.json()).toMatchObject({ alarms: [{ rule: 'dose_rate_high', device: 'g1' }] });
    } finally {
      await second.server.close();
      await second.client.endAsync();
    }
  });
});
