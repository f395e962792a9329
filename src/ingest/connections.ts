import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { IngestLogger } from './logger.ts';
import { waitForConnect } from './mqtt-session.ts';

/**
 * The ingest's MQTT connections and its durable acknowledgement (docs/data-integrity.md
 * "Durable acknowledgement without private APIs").
 *
 * mqtt.js sends a QoS 1 message's PUBACK when `handleMessage(packet, done)` calls `done()`, and
 * hands a connection its next packet only after that. So on one connection every message needs its
 * own spool commit before the next can be read: one SQLite transaction per message, the floor of the
 * one-reading-per-message path (docs/benchmarks.md). With `connections: n` (a shared subscription on
 * an external broker), n connections each hold one message at a time, and the messages held in one
 * event-loop turn are committed in ONE transaction (src/queue/group-commit.ts), then each is
 * acknowledged on its own connection. Commit before ack holds for every message; only the
 * transaction is shared.
 */

export interface IngestConnectionsOptions {
  url: string;
  mqttOptions: Partial<IClientOptions>;
  /** Connection i > 0 uses `<clientId>-c<i>` (a persistent session of its own). */
  clientId: string;
  persistent: boolean;
  count: number;
  filter: string;
  connectTimeoutMs: number;
  log: IngestLogger;
  /** Called for each QoS 1 / QoS 0 message with mqtt.js's `done`. */
  onMessage(topic: string, payload: Buffer, done: (err?: Error) => void): void;
}

export interface IngestConnections {
  /** Connection 0: dead letters and service alarms are published on it. */
  primary: MqttClient;
  all: MqttClient[];
  connected(): boolean;
  /** Clean sessions only (a persistent one keeps its subscription, so the broker queues while we are down). */
  unsubscribe(): Promise<void>;
  end(): Promise<void>;
}

/** QoS 1 messages the broker may have in flight to one MQTT 5 connection of the ingest. */
export const RECEIVE_MAXIMUM = 32;

/** `<clientId>` for the first connection (so a single-connection ingest keeps its session), `<clientId>-c<i>` after. */
export const connectionClientId = (clientId: string, i: number) => (i === 0 ? clientId : `${clientId}-c${i}`);

/** Opens `count` connections, each subscribed to `filter` after its CONNACK. @throws when one cannot connect or subscribe in time. */
export async function openIngestConnections(o: IngestConnectionsOptions): Promise<IngestConnections> {
  const v5 = o.mqttOptions.protocolVersion === 5;
  const clients: MqttClient[] = [];
  for (let i = 0; i < o.count; i++) {
    const c = mqtt.connect(o.url, {
      protocolVersion: 4,
      clean: !o.persistent,
      reconnectPeriod: 1000,
      ...o.mqttOptions,
      // MQTT 5: a session ends at disconnect unless it has an expiry (keep ours a week), and the
      // broker sends at most `receiveMaximum` unacknowledged messages. A connection handles one
      // message at a time anyway, so a small window loses nothing and bounds what waits parsed in
      // memory (a broker with an unlimited in-flight window filled ~30 MB per ingest; docs/benchmarks.md).
      ...(v5
        ? {
            properties: {
              receiveMaximum: RECEIVE_MAXIMUM,
              ...(o.persistent ? { sessionExpiryInterval: 7 * 86_400 } : {}),
              ...o.mqttOptions.properties,
            },
          }
        : {}),
      clientId: connectionClientId(o.clientId, i),
    });
    c.handleMessage = (packet, done) => {
      const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
      o.onMessage(packet.topic, payload, done);
    };
    c.on('error', (err) => o.log.warn({ err: err.message, connection: i }, 'ingest MQTT error'));
    clients.push(c);
  }
  try {
    await Promise.all(
      clients.map(async (c) => {
        await waitForConnect(c, o.url, o.connectTimeoutMs);
        // Resolve only after SUBACK, so a reading published right after start-up is not missed.
        await c.subscribeAsync(o.filter, { qos: 1 });
      }),
    );
  } catch (err) {
    for (const c of clients) c.end(true);
    throw err;
  }
  for (const [i, c] of clients.entries())
    c.on('connect', (ack) => {
      o.log.info(
        { url: o.url, clientId: c.options.clientId, sessionPresent: ack.sessionPresent, connection: i },
        'ingest reconnected to MQTT',
      );
      // Resubscribing is harmless and covers a broker that lost our session.
      if (!ack.sessionPresent)
        c.subscribe(o.filter, { qos: 1 }, (err) => err && o.log.error({ filter: o.filter, err: err.message }, 'ingest resubscribe failed'));
    });
  return {
    primary: clients[0] as MqttClient,
    all: clients,
    connected: () => clients.every((c) => c.connected),
    async unsubscribe() {
      if (!o.persistent) await Promise.all(clients.map((c) => c.unsubscribeAsync(o.filter).catch(() => undefined)));
    },
    async end() {
      await Promise.all(clients.map((c) => c.endAsync()));
    },
  };
}
