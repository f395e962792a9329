import { join } from 'node:path';
import mqtt, { type IClientOptions, type IClientPublishOptions, type MqttClient } from 'mqtt';
import { catalogue } from '../../devices/index.ts';
import type { DeviceConfig } from '../../src/config/schema.ts';
import { deviceTopicsFrom } from '../../src/security/device-topics.ts';
import { loadMqttCredentials, type MqttCredentials } from '../../src/security/mqtt-credentials.ts';
import { type MqttIdentity, mqttUsername } from '../../src/security/mqtt-identity.ts';
import { type EmbeddedBroker, type EmbeddedBrokerSecurity, startEmbeddedBroker } from '../../src/station/embedded-broker.ts';

/**
 * MQTT identities for tests. The broker and every client a test starts must share the station's
 * credentials file (`<data_dir>/mqtt-credentials.json`, the config default), as in production.
 */

/** The credentials of a data dir (created on first use, 0600). */
export function credentialsOf(dataDir: string): MqttCredentials {
  return loadMqttCredentials(join(dataDir, 'mqtt-credentials.json'));
}

/** mqtt.js user name and password for `identity` under `dataDir`'s credentials. */
export function loginAs(dataDir: string, identity: MqttIdentity): Pick<IClientOptions, 'username' | 'password'> {
  const username = mqttUsername(identity);
  return { username, password: credentialsOf(dataDir).passwordFor(username) };
}

/** The server identity: reads the whole station tree and dead letters; tests watch with it. */
export const asServer = (dataDir: string, station: string) => loginAs(dataDir, { role: 'server', station });

/** An agent's connection for one device: publishes that device's readings and status only. */
export const asAgent = (dataDir: string, station: string, device: string) => loginAs(dataDir, { role: 'agent', station, device });

/** An embedded broker on a free loopback port enforcing the ACL with `dataDir`'s credentials. */
export function startTestBroker(
  dataDir: string,
  opts: { devices?: readonly DeviceConfig[] } & Omit<Partial<EmbeddedBrokerSecurity>, 'credentials'> = {},
): Promise<EmbeddedBroker> {
  const { devices, ...rest } = opts;
  return startEmbeddedBroker('127.0.0.1', 0, {
    credentials: credentialsOf(dataDir),
    deviceTopics: deviceTopicsFrom(catalogue, devices ?? []),
    ...rest,
  });
}

/** Publishes as each device's own agent connection (one client per device, made on first use). */
export function devicePublishers(url: string, dataDir: string, station: string) {
  const clients = new Map<string, Promise<MqttClient>>();
  const clientFor = (device: string) => {
    let c = clients.get(device);
    if (!c) {
      c = mqtt.connectAsync(url, { protocolVersion: 4, ...asAgent(dataDir, station, device) });
      clients.set(device, c);
    }
    return c;
  };
  return {
    async publish(device: string, topic: string, payload: string, opts: IClientPublishOptions = { qos: 1 }) {
      return (await clientFor(device)).publishAsync(topic, payload, opts);
    },
    async end() {
      for (const c of clients.values()) await (await c).endAsync();
      clients.clear();
    },
  };
}
