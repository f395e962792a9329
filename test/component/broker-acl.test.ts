import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../../src/core/contract.ts';
import { MAX_READINGS_PAYLOAD_BYTES } from '../../src/core/reading-contract.ts';
import type { EmbeddedBroker } from '../../src/station/embedded-broker.ts';
import { ACL_CASES, ACL_STATION, type AclCase, aclConfig, connectOnce, describeCase, trySubscribe } from '../support/acl-cases.ts';
import { asAgent, asServer, credentialsOf, loginAs, startTestBroker } from '../support/mqtt-identities.ts';
import { waitFor } from '../support/wait.ts';

/**
 * The embedded aedes broker authenticates every client and enforces each identity's ACL:
 * anonymous and wrong-password clients are refused (CONNACK 4), every row of the shared ACL
 * table is answered as written, refusals are counted, and a forged calibration or reading never
 * reaches the identity that would act on it.
 */
describe('embedded broker: identities and ACL', () => {
  const dir = mkdtempSync(join(tmpdir(), 'radscreen-broker-acl-'));
  const config = aclConfig(dir);
  let broker: EmbeddedBroker;
  const open: MqttClient[] = [];
  const connectAs = async (who: AclCase['who']) => {
    const c = await connectOnce(broker.url, loginAs(dir, who));
    open.push(c);
    return c;
  };

  beforeAll(async () => {
    broker = await startTestBroker(dir, { devices: config.devices });
  });
  afterAll(async () => {
    for (const c of open) await c.endAsync(true).catch(() => {});
    await broker?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps the credentials in a 0600 file in a 0700 directory', () => {
    credentialsOf(dir);
    expect(statSync(join(dir, 'mqtt-credentials.json')).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });

  it('refuses anonymous clients, wrong passwords and unknown user names, and counts them', async () => {
    const before = broker.refusals().RS_ERR_MQTT_AUTH;
    const server = asServer(dir, ACL_STATION);
    for (const opts of [{}, { ...server, password: 'guess' }, { username: 'admin', password: 'admin' }, { username: server.username }]) {
      await expect(connectOnce(broker.url, opts)).rejects.toThrow(/Bad username or password|Not authorized/);
    }
    expect(broker.refusals().RS_ERR_MQTT_AUTH - before).toBe(4);
  });

  it.each(ACL_CASES.map((c) => [describeCase(c), c] as const))('%s', async (_name, c) => {
    const before = broker.refusals().RS_ERR_MQTT_FORBIDDEN;
    const client = await connectAs(c.who);
    let accepted: boolean;
    if (c.action === 'subscribe') accepted = await trySubscribe(client, c.topic);
    else {
      // A refused publish closes the connection (no PUBACK); an allowed one is acknowledged.
      const closed = new Promise<boolean>((resolve) => client.once('close', () => resolve(false)));
      accepted = await Promise.race([client.publishAsync(c.topic, 'x', { qos: 1 }).then(() => true), closed]);
    }
    expect(accepted).toBe(c.allowed);
    expect(broker.refusals().RS_ERR_MQTT_FORBIDDEN - before).toBe(c.allowed ? 0 : 1);
  });

  it('logs each refusal at warn with its code, never the password', async () => {
    const warnings: { code?: string; username?: string | null; topic?: string }[] = [];
    const logged = await startTestBroker(dir, { devices: config.devices, log: { warn: (o: object) => void warnings.push(o) } as never });
    try {
      const server = asServer(dir, ACL_STATION);
      await expect(connectOnce(logged.url, { ...server, password: 'guess-123' })).rejects.toThrow();
      const g1 = await connectOnce(logged.url, asAgent(dir, ACL_STATION, 'g1'));
      const closed = new Promise<void>((resolve) => g1.once('close', () => resolve()));
      g1.publish(topics.calibration(ACL_STATION, 'g1'), 'forged', { qos: 1 });
      await closed;
      g1.end(true);
      expect(warnings.map((w) => [w.code, w.username ?? w.topic])).toEqual([
        ['RS_ERR_MQTT_AUTH', server.username],
        ['RS_ERR_MQTT_FORBIDDEN', topics.calibration(ACL_STATION, 'g1')],
      ]);
      expect(JSON.stringify(warnings)).not.toContain('guess-123');
    } finally {
      await logged.close();
    }
  });

  it('drops a forged calibration and a forged reading: the identities that act on them never see them', async () => {
    const agent = await connectOnce(broker.url, { ...asAgent(dir, ACL_STATION, 'g1'), clientId: 'victim-agent' });
    const server = await connectOnce(broker.url, { ...asServer(dir, ACL_STATION), clientId: 'victim-server' });
    open.push(agent, server);
    const seenByAgent: string[] = [];
    const seenByServer: string[] = [];
    agent.on('message', (_t, p) => seenByAgent.push(p.toString()));
    server.on('message', (_t, p) => seenByServer.push(p.toString()));
    await agent.subscribeAsync(topics.calibration(ACL_STATION, 'g1'), { qos: 1 });
    await server.subscribeAsync(topics.allReadings(ACL_STATION), { qos: 1 });

    const forger = await connectOnce(broker.url, asAgent(dir, ACL_STATION, 'g2'));
    open.push(forger);
    forger.publish(topics.calibration(ACL_STATION, 'g1'), '{"kind":"sensitivity","factor":1e9}', { qos: 1, retain: true });
    await waitFor(() => !forger.connected, { timeoutMs: 5000 });
    const forger2 = await connectOnce(broker.url, asAgent(dir, ACL_STATION, 'g2'));
    open.push(forger2);
    forger2.publish(topics.readings(ACL_STATION, 'g1'), '{"v":1,"readings":[]}', { qos: 1 });
    await waitFor(() => !forger2.connected, { timeoutMs: 5000 });

    // What the real owners publish still flows, after the forgeries.
    await server.publishAsync(topics.calibration(ACL_STATION, 'g1'), 'genuine-calibration', { qos: 1 });
    const owner = await connectOnce(broker.url, asAgent(dir, ACL_STATION, 'g1'));
    open.push(owner);
    await owner.publishAsync(topics.readings(ACL_STATION, 'g1'), 'genuine-reading', { qos: 1 });
    await waitFor(() => seenByAgent.length > 0 && seenByServer.length > 0, { timeoutMs: 5000 });
    expect(seenByAgent).toEqual(['genuine-calibration']);
    expect(seenByServer).toEqual(['genuine-reading']);
    // Nothing retained from the forger either: a fresh subscriber gets only the genuine one.
    expect(broker.refusals().RS_ERR_MQTT_FORBIDDEN).toBeGreaterThanOrEqual(2);
  });

  it('takes the largest readings payload the contract allows, and closes a 10 MB packet before its body arrives', async () => {
    const owner = await connectOnce(broker.url, asAgent(dir, ACL_STATION, 'g1'));
    open.push(owner);
    const before = broker.refusals().RS_ERR_PAYLOAD_TOO_LARGE;
    // The agent's own largest message (1000 readings coalesced from a backlog) must pass.
    await owner.publishAsync(topics.readings(ACL_STATION, 'g1'), Buffer.alloc(MAX_READINGS_PAYLOAD_BYTES, 0x20), { qos: 1 });
    const closed = new Promise<void>((resolve) => owner.once('close', () => resolve()));
    owner.publish(topics.readings(ACL_STATION, 'g1'), Buffer.alloc(10 * 1024 * 1024, 0x20), { qos: 1 });
    await closed;
    expect(broker.refusals().RS_ERR_PAYLOAD_TOO_LARGE - before).toBe(1);
  });
});
