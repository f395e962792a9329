import { readFileSync } from 'node:fs';
import type { IClientOptions } from 'mqtt';
import type { Config } from '../config/schema.ts';
import { credentialsPath, loadMqttCredentials } from './mqtt-credentials.ts';
import { type MqttIdentity, mqttUsername } from './mqtt-identity.ts';

/** The parts of the config the MQTT client options come from. */
export type MqttClientConfig = Pick<Config, 'data_dir'> & {
  mqtt: Pick<Config['mqtt'], 'url' | 'username' | 'password' | 'credentials_file' | 'max_packet_bytes' | 'tls'>;
};

/**
 * mqtt.js options for one radscreen identity: the one place every `mqtt.connect` of radscreen
 * gets its user name, password, TLS files and packet bound from.
 *
 * - Credentials: the identity's user name and its password derived from the station's
 *   credentials file (created at first use). An external broker (`mqtt.url`) with an explicit
 *   `mqtt.username` uses that one account instead, for brokers whose accounts are managed
 *   elsewhere (then that broker's ACL decides; docs/security-mqtt.md).
 * - TLS: `mqtt.tls` CA / client certificate / key, for `mqtts://` URLs.
 * - Packet bound: MQTT v5 clients announce `maximumPacketSize` = `mqtt.max_packet_bytes`, and
 *   mqtt.js drops the connection on a larger packet; v3.1.1 has no such field, so the broker's
 *   bound is what protects those clients.
 */
export function mqttClientOptions(config: MqttClientConfig, identity: MqttIdentity, protocolVersion: 4 | 5 = 4): Partial<IClientOptions> {
  const out: Partial<IClientOptions> = {};
  if (config.mqtt.url && config.mqtt.username !== undefined) {
    out.username = config.mqtt.username;
    if (config.mqtt.password !== undefined) out.password = config.mqtt.password;
  } else {
    const username = mqttUsername(identity);
    out.username = username;
    out.password = loadMqttCredentials(credentialsPath(config)).passwordFor(username);
  }
  const tls = config.mqtt.tls;
  if (tls) {
    if (tls.ca_file) out.ca = readFileSync(tls.ca_file);
    if (tls.cert_file) out.cert = readFileSync(tls.cert_file);
    if (tls.key_file) out.key = readFileSync(tls.key_file);
    out.rejectUnauthorized = tls.reject_unauthorized;
  }
  if (protocolVersion === 5) out.properties = { maximumPacketSize: config.mqtt.max_packet_bytes };
  return out;
}
