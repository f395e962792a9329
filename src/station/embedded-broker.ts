import { readFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { Aedes, type Client } from 'aedes';
import type { Logger } from 'pino';
import { type AclRule, aclRules, type DeviceTopics, mayPublish, maySubscribe } from '../security/mqtt-acl.ts';
import type { MqttCredentials } from '../security/mqtt-credentials.ts';
import { parseMqttUsername } from '../security/mqtt-identity.ts';
import { DEFAULT_MAX_PACKET_BYTES, guardConnection } from './packet-size-guard.ts';

/** Identity, ACL and limits of the embedded broker. There is no way to run it open. */
export interface EmbeddedBrokerSecurity {
  /** The station's credentials file (src/security/mqtt-credentials.ts). */
  credentials: MqttCredentials;
  /** Topics of MQTT-native devices (src/security/device-topics.ts); none when unset. */
  deviceTopics?: DeviceTopics;
  /** Largest MQTT packet accepted, bytes (default 256 KiB); a larger one closes its connection. */
  maxPacketBytes?: number;
  /** An extra listener speaking MQTT over TLS (`mqtts://`); PEM files. */
  tls?: { host?: string; port: number; certFile: string; keyFile: string };
  /** Refusals are logged here at warn (default: not logged, only counted). */
  log?: Pick<Logger, 'warn'>;
}

/** Refusals since start, by stable code. */
export interface BrokerRefusals {
  /** Connections refused: anonymous, unknown identity or wrong password. */
  RS_ERR_MQTT_AUTH: number;
  /** Publishes and subscriptions outside the client's ACL (the publisher is disconnected). */
  RS_ERR_MQTT_FORBIDDEN: number;
  /** Connections closed for a packet above `maxPacketBytes`. */
  RS_ERR_PAYLOAD_TOO_LARGE: number;
}

export interface EmbeddedBroker {
  url: string;
  /** `mqtts://host:port` when a TLS listener was asked for. */
  tlsUrl?: string;
  refusals(): BrokerRefusals;
  close(): Promise<void>;
}

function listen(server: Server, host: string, port: number, what: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(e.code === 'EADDRINUSE' ? new Error(`${what} port ${host}:${port} is in use; set mqtt.embedded.port or mqtt.url`) : e),
    );
    server.listen(port, host, () => {
      const a = server.address();
      resolve(typeof a === 'object' && a ? a.port : port);
    });
  });
}

/**
 * The station's in-process MQTT broker (aedes, MQTT 3.1.1, queues in memory). It has no
 * shared subscriptions and no persistence: for one station; use mosquitto or a cluster beyond.
 * Every client must log in as a radscreen identity; every PUBLISH and SUBSCRIBE is checked
 * against that identity's ACL (src/security/mqtt-acl.ts); a forged publish is dropped and its
 * sender disconnected. See docs/security-mqtt.md.
 */
export async function startEmbeddedBroker(host: string, port: number, security: EmbeddedBrokerSecurity): Promise<EmbeddedBroker> {
  const { credentials, log } = security;
  const maxPacketBytes = security.maxPacketBytes ?? DEFAULT_MAX_PACKET_BYTES;
  const refusals: BrokerRefusals = { RS_ERR_MQTT_AUTH: 0, RS_ERR_MQTT_FORBIDDEN: 0, RS_ERR_PAYLOAD_TOO_LARGE: 0 };
  const rulesOf = new WeakMap<Client, AclRule[]>();
  const refuse = (code: keyof BrokerRefusals, detail: Record<string, unknown>, msg: string) => {
    refusals[code]++;
    log?.warn({ code, ...detail }, msg);
  };

  const broker = await Aedes.createBroker({
    authenticate(client, username, password, done) {
      const id = username === undefined ? undefined : parseMqttUsername(username);
      if (!id || !credentials.verify(username as string, password)) {
        refuse(
          'RS_ERR_MQTT_AUTH',
          { client: client.id, username: username ?? null },
          'MQTT connection refused: not a radscreen identity or wrong password',
        );
        // CONNACK 4 (MQTT 3.1.1 §3.2.2.3): bad user name or password.
        return done(Object.assign(new Error('not authorised'), { returnCode: 4 }), false);
      }
      rulesOf.set(client, aclRules(id, security.deviceTopics));
      done(null, true);
    },
    authorizePublish(client, packet, done) {
      const rules = client ? rulesOf.get(client) : undefined;
      if (rules && mayPublish(rules, packet.topic)) return done(null);
      refuse(
        'RS_ERR_MQTT_FORBIDDEN',
        { client: client?.id ?? null, topic: packet.topic, action: 'publish' },
        'MQTT publish refused by ACL; client disconnected',
      );
      done(new Error(`publish to ${packet.topic} not allowed`));
    },
    authorizeSubscribe(client, sub, done) {
      const rules = rulesOf.get(client);
      if (rules && maySubscribe(rules, sub.topic)) return done(null, sub);
      refuse('RS_ERR_MQTT_FORBIDDEN', { client: client.id, topic: sub.topic, action: 'subscribe' }, 'MQTT subscription refused by ACL');
      // A negated subscription: SUBACK 0x80 for this filter, the connection stays.
      done(null, null);
    },
  });

  const handle = (socket: Socket) =>
    broker.handle(
      guardConnection(socket, maxPacketBytes, (e) =>
        refuse(
          'RS_ERR_PAYLOAD_TOO_LARGE',
          { remote: socket.remoteAddress ?? null, bytes: e.bytes, max: e.max },
          'MQTT packet too large; connection closed',
        ),
      ),
    );
  const servers: Server[] = [];
  const close = async () => {
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => (s.listening ? s.close(() => resolve()) : resolve()))));
  };
  try {
    const server = createServer(handle);
    servers.push(server);
    const actualPort = await listen(server, host, port, 'MQTT');
    let tlsUrl: string | undefined;
    if (security.tls) {
      const tlsHost = security.tls.host ?? host;
      const tlsServer = createTlsServer({ cert: readFileSync(security.tls.certFile), key: readFileSync(security.tls.keyFile) }, handle);
      servers.push(tlsServer);
      tlsUrl = `mqtts://${tlsHost}:${await listen(tlsServer, tlsHost, security.tls.port, 'MQTT TLS')}`;
    }
    return { url: `mqtt://${host}:${actualPort}`, ...(tlsUrl ? { tlsUrl } : {}), refusals: () => ({ ...refusals }), close };
  } catch (e) {
    // A half-started broker (TLS port taken, unreadable key) must not keep the plain port open.
    await close();
    throw e;
  }
}
