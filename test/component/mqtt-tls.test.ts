import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../../src/core/contract.ts';
import { mqttClientOptions } from '../../src/security/mqtt-client-options.ts';
import type { EmbeddedBroker } from '../../src/station/embedded-broker.ts';
import { ACL_STATION, aclConfig } from '../support/acl-cases.ts';
import { startTestBroker } from '../support/mqtt-identities.ts';

/**
 * MQTT over TLS on loopback with a certificate made here by the openssl CLI: the embedded
 * broker's TLS listener completes a handshake with a client that trusts that certificate
 * (config `mqtt.tls.ca_file`, the same options an external `mqtts://` broker gets), carries a
 * publish to a subscriber, and refuses plain MQTT and clients that do not trust the certificate.
 */
describe('MQTT over TLS (embedded broker)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'radscreen-mqtt-tls-'));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  let broker: EmbeddedBroker;
  let tlsUrl: string;

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
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
        '-keyout',
        keyFile,
        '-out',
        certFile,
      ],
      { stdio: 'ignore' },
    );
    broker = await startTestBroker(dir, { tls: { port: 0, certFile, keyFile } });
    tlsUrl = broker.tlsUrl as string;
  });
  afterAll(async () => {
    await broker?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const config = () => {
    const c = aclConfig(dir);
    return { ...c, mqtt: { ...c.mqtt, tls: { ca_file: certFile, reject_unauthorized: true } } };
  };

  it('listens on mqtts:// and carries a publish to a subscriber, both over TLS', async () => {
    expect(tlsUrl).toMatch(/^mqtts:\/\/127\.0\.0\.1:\d+$/);
    const opts = (who: Parameters<typeof mqttClientOptions>[1]) => ({
      protocolVersion: 4 as const,
      reconnectPeriod: 0,
      ...mqttClientOptions(config(), who),
    });
    const server = await mqtt.connectAsync(tlsUrl, opts({ role: 'server', station: ACL_STATION }));
    const agent = await mqtt.connectAsync(tlsUrl, opts({ role: 'agent', station: ACL_STATION, device: 'g1' }));
    try {
      const got = new Promise<string>((resolve) => server.once('message', (_t, p) => resolve(p.toString())));
      await server.subscribeAsync(topics.readings(ACL_STATION, 'g1'), { qos: 1 });
      await agent.publishAsync(topics.readings(ACL_STATION, 'g1'), 'over-tls', { qos: 1 });
      expect(await got).toBe('over-tls');
      const socket = (agent.stream as unknown as { getProtocol?: () => string }).getProtocol?.();
      expect(socket).toMatch(/^TLSv1\.[23]$/);
    } finally {
      await agent.endAsync();
      await server.endAsync();
    }
  });

  it('refuses plain MQTT on the TLS port: the connection closes without a CONNACK', async () => {
    const plain = tlsUrl.replace('mqtts://', 'mqtt://');
    const client = mqtt.connect(plain, {
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      ...mqttClientOptions(aclConfig(dir), { role: 'server', station: ACL_STATION }),
    });
    const outcome = await new Promise<string>((resolve) => {
      client.once('connect', () => resolve('connected'));
      client.once('close', () => resolve('closed'));
    });
    client.end(true);
    expect(outcome).toBe('closed');
  });

  it('a client that does not trust the certificate does not connect', async () => {
    await expect(
      mqtt.connectAsync(tlsUrl, {
        protocolVersion: 4,
        reconnectPeriod: 0,
        connectTimeout: 3000,
        ...mqttClientOptions(aclConfig(dir), { role: 'server', station: ACL_STATION }),
      }),
    ).rejects.toThrow(/self[- ]signed|certificate/i);
  });
});
