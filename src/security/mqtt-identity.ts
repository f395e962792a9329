import { IdSchema } from '../core/reading.ts';
import { TRAINING_PREFIX } from '../core/training-id.ts';

/**
 * Who an MQTT client is. Every radscreen process connects under one of these; the broker
 * (embedded aedes or mosquitto with the generated files) grants each only its own topics
 * (src/security/mqtt-acl.ts). Naming and rules: docs/security-mqtt.md.
 *
 * - `server`   the Fastify server: publishes calibrations, alarm transitions, service topics.
 * - `ingest`   every ingest worker of the station: subscribes only (dead letters and its own
 *              service alarm are the two things it may publish).
 * - `agent`    one device connection of an agent: publishes only its own readings/status,
 *              reads only its own calibration (and its device's topic, for MQTT-native devices).
 * - `device`   an MQTT-native device (or its simulator): publishes only on its device topic.
 * - `training` a training run's own client: status of `training-*` devices only.
 */
export type MqttIdentity =
  | { role: 'server' | 'ingest' | 'training'; station: string }
  | { role: 'agent' | 'device'; station: string; device: string };

export type MqttRole = MqttIdentity['role'];

/** Training devices carry this prefix on the wire (src/core/training-id.ts). */
export const TRAINING_DEVICE_PREFIX = TRAINING_PREFIX;

/**
 * The MQTT user name of an identity. Agent device connections are `{station}/{device}`, so a
 * mosquitto `pattern write radscreen/v1/%u/readings` grants each exactly its own topic; every
 * other role carries `@`, which no station or device id may contain (IdSchema), so those names
 * never collide with a device connection nor form a real topic under the patterns.
 */
export function mqttUsername(id: MqttIdentity): string {
  switch (id.role) {
    case 'agent':
      return `${id.station}/${id.device}`;
    case 'device':
      return `device@${id.station}/${id.device}`;
    default:
      return `${id.role}@${id.station}`;
  }
}

const isId = (s: string | undefined): s is string => s !== undefined && IdSchema.safeParse(s).success;

/** The identity behind a user name, or undefined for a name radscreen never issues. */
export function parseMqttUsername(username: string): MqttIdentity | undefined {
  const role = /^(server|ingest|training|device)@(.+)$/.exec(username);
  if (role) {
    const [, name, rest] = role as unknown as [string, string, string];
    if (name === 'device') {
      const [station, device, extra] = rest.split('/');
      return isId(station) && isId(device) && extra === undefined ? { role: 'device', station, device } : undefined;
    }
    return isId(rest) ? { role: name as 'server' | 'ingest' | 'training', station: rest } : undefined;
  }
  const [station, device, extra] = username.split('/');
  return isId(station) && isId(device) && extra === undefined ? { role: 'agent', station, device } : undefined;
}
