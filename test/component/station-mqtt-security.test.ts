import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogue } from '../../devices/index.ts';
import { simulators } from '../../simulators/index.ts';
import { parseConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import { topics } from '../../src/core/contract.ts';
import { mqttClientOptions } from '../../src/security/mqtt-client-options.ts';
import { type Station, startStation } from '../../src/station/station.ts';
import { connectOnce } from '../support/acl-cases.ts';
import { waitFor } from '../support/wait.ts';

/**
 * The station wires identities end to end: at first start it creates the credentials file
 * (0600), its embedded broker refuses anonymous clients on both listeners, its own agent publishes
 * under the device's identity (readings reach a subscriber over TLS), a forged calibration from
 * another identity is refused, and /metrics counts the refusals by code.
 */
describe('station: MQTT identities, ACL and TLS wired end to end', () => {
  const dir = mkdtempSync(join(tmpdir(), 'radscreen-station-sec-'));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  let config: Config;
  let station: Station;

  beforeAll(async () => {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        keyFile,
        '-out',
        certFile,
      ],
      { stdio: 'ignore' },
    );
    config = parseConfig(
      `station: { id: sec }
data_dir: ${join(dir, 'data')}
mqtt:
  embedded: { port: 0, tls: { port: 0, cert_file: ${certFile}, key_file: ${keyFile} } }
  tls: { ca_file: ${certFile} }
influx: { managed: never }
server: { port: 0 }
devices:
  - { id: g1, profile: mightyohm-geiger, simulate: { tick_ms: 50, seed: 2 } }
`,
      { catalogue, env: {} },
    );
    station = await startStation({ config, catalogue, simulators, log: pino({ level: 'silent' }) });
  });
  afterAll(async () => {
    await station?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates the credentials file 0600 in a 0700 data dir at first start', () => {
    expect(statSync(join(dir, 'data', 'mqtt-credentials.json')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'data')).mode & 0o777).toBe(0o700);
  });

  it('refuses anonymous clients on the plain and the TLS listener', async () => {
    expect(station.mqttTlsUrl).toMatch(/^mqtts:/);
    await expect(connectOnce(station.mqttUrl, {})).rejects.toThrow(/Bad username or password/);
    await expect(connectOnce(station.mqttTlsUrl as string, { ca: readFileSync(certFile) })).rejects.toThrow(/Bad username or password/);
  });

  it("the agent publishes as the device's identity; a subscriber gets its readings over TLS; a forgery is refused and counted", async () => {
    const watcher = await mqtt.connectAsync(station.mqttTlsUrl as string, {
      protocolVersion: 4,
      reconnectPeriod: 0,
      ...mqttClientOptions(config, { role: 'server', station: 'sec' }),
    });
    try {
      let readings = 0;
      watcher.on('message', () => readings++);
      await watcher.subscribeAsync(topics.readings('sec', 'g1'), { qos: 1 });
      await waitFor(() => readings >= 3, { timeoutMs: 10_000, describe: () => station.deviceStats() });

      const forger = await connectOnce(station.mqttUrl, mqttClientOptions(config, { role: 'agent', station: 'sec', device: 'g2' }));
      const closed = new Promise<void>((resolve) => forger.once('close', () => resolve()));
      forger.publish(topics.calibration('sec', 'g1'), '{"kind":"sensitivity","factor":1e9}', { qos: 1, retain: true });
      await closed;
      forger.end(true);

      const metrics = await (await fetch(`${station.consoleUrl}/metrics`)).text();
      expect(metrics).toMatch(/radscreen_mqtt_broker_refusals_total\{code="RS_ERR_MQTT_FORBIDDEN"\} [1-9]/);
      expect(metrics).toMatch(/radscreen_mqtt_broker_refusals_total\{code="RS_ERR_MQTT_AUTH"\} [1-9]/);
      expect(station.deviceStats()[0]).toMatchObject({ device: 'g1', state: 'online' });
    } finally {
      await watcher.endAsync();
    }
  });
});
