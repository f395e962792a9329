import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { catalogue } from '../../devices/index.ts';
import { parseConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import type { MqttIdentity } from '../../src/security/mqtt-identity.ts';

/**
 * One table of who may publish and subscribe where, run against the embedded aedes broker
 * (test/component/broker-acl.test.ts) and a real mosquitto with the files `radscreen mqtt-acl`
 * writes (test/integration/mosquitto-acl.test.ts): both must answer every row the same way.
 */
export const ACL_STATION = 'acl';

/** The station of the table, as config YAML. */
export const aclConfigYaml = (dataDir: string) => `station: { id: ${ACL_STATION} }
data_dir: ${dataDir}
devices:
  - { id: g1, profile: mightyohm-geiger, simulate: {} }
  - { id: g2, profile: mightyohm-geiger, simulate: {} }
  - { id: sc1, profile: safecast-json, simulate: {} }
`;

export function aclConfig(dataDir: string): Config {
  return parseConfig(aclConfigYaml(dataDir), { catalogue, env: {} });
}

export interface AclCase {
  who: MqttIdentity;
  action: 'publish' | 'subscribe';
  topic: string;
  allowed: boolean;
}

const S = ACL_STATION;
const server: MqttIdentity = { role: 'server', station: S };
const ingest: MqttIdentity = { role: 'ingest', station: S };
const training: MqttIdentity = { role: 'training', station: S };
const g1: MqttIdentity = { role: 'agent', station: S, device: 'g1' };
const sc1: MqttIdentity = { role: 'device', station: S, device: 'sc1' };
const t = (device: string, leaf: string) => `radscreen/v1/${S}/${device}/${leaf}`;
const pub = (who: MqttIdentity, topic: string, allowed: boolean): AclCase => ({ who, action: 'publish', topic, allowed });
const sub = (who: MqttIdentity, topic: string, allowed: boolean): AclCase => ({ who, action: 'subscribe', topic, allowed });

export const ACL_CASES: readonly AclCase[] = [
  // The server: calibrations, alarm transitions, service topics; reads the station tree.
  pub(server, t('g1', 'calibration'), true),
  pub(server, `radscreen/v1/${S}/alarms`, true),
  pub(server, 'radscreen/v1/service/server/health', true),
  pub(server, t('g1', 'readings'), false),
  pub(server, t('g1', 'status'), false),
  pub(server, `radscreen/v1/other/alarms`, false),
  sub(server, `radscreen/v1/${S}/+/readings`, true),
  sub(server, 'radscreen/v1/deadletter', true),
  sub(server, 'radscreen/v1/other/+/readings', false),
  sub(server, '#', false),
  // Ingest: subscribes (also as a shared subscription); publishes only dead letters and its alarms.
  sub(ingest, 'radscreen/v1/+/+/readings', true),
  sub(ingest, '$share/ingest/radscreen/v1/+/+/readings', true),
  sub(ingest, t('g1', 'calibration'), false),
  pub(ingest, 'radscreen/v1/deadletter', true),
  pub(ingest, 'radscreen/v1/service/ingest/w1/alarm', true),
  pub(ingest, t('g1', 'readings'), false),
  pub(ingest, t('g1', 'calibration'), false),
  // One agent device connection: its own readings and status; reads only its own calibration.
  pub(g1, t('g1', 'readings'), true),
  pub(g1, t('g1', 'status'), true),
  pub(g1, t('g1', 'spectrum'), true),
  pub(g1, t('g2', 'spectrum'), false),
  sub(server, `radscreen/v1/${S}/+/spectrum`, true),
  pub(server, t('g1', 'spectrum'), false),
  pub(g1, 'radscreen/v1/deadletter', true),
  pub(g1, t('g2', 'readings'), false),
  pub(g1, t('phantom', 'readings'), false),
  pub(g1, t('g1', 'calibration'), false),
  pub(g1, `radscreen/v1/${S}/alarms`, false),
  sub(g1, t('g1', 'calibration'), true),
  sub(g1, t('g2', 'calibration'), false),
  sub(g1, `radscreen/v1/${S}/+/calibration`, false),
  sub(g1, `radscreen/v1/${S}/+/readings`, false),
  // An MQTT-native device: only its own device topic.
  pub(sc1, 'safecast/sc1/measurements', true),
  pub(sc1, 'safecast/sc2/measurements', false),
  pub(sc1, t('sc1', 'readings'), false),
  // A training run's own client: training-* devices only.
  pub(training, t('training-parcel-scanner', 'status'), true),
  pub(training, t('g1', 'status'), false),
  pub(training, t('g1', 'calibration'), false),
  sub(training, `radscreen/v1/${S}/alarms`, true),
];

export const describeCase = (c: AclCase) =>
  `${c.who.role}${'device' in c.who ? `:${c.who.device}` : ''} ${c.action} ${c.topic} → ${c.allowed ? 'allowed' : 'refused'}`;

/** Connects, or rejects with the broker's refusal; no reconnects. */
export function connectOnce(url: string, opts: IClientOptions): Promise<MqttClient> {
  return mqtt.connectAsync(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000, ...opts });
}

/** SUBACK 0x80 (128) is a refusal; any QoS granted is an acceptance. */
export async function trySubscribe(client: MqttClient, topic: string): Promise<boolean> {
  try {
    const granted = await client.subscribeAsync(topic, { qos: 1 });
    return granted.every((g) => g.qos !== 128);
  } catch (e) {
    // mqtt.js rejects a SUBACK that refuses every filter; its packet carries the codes.
    const granted = (e as { packet?: { granted?: number[] } }).packet?.granted;
    if (granted?.includes(128)) return false;
    throw e;
  }
}
