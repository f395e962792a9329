import type { DeviceProfile } from '../../src/core/profile.ts';
import { createMessageSession } from '../../src/sessions/message-session.ts';
import { createMqttJsonDecoder } from './decode.ts';
import { type MqttJsonOptions, MqttJsonOptionsSchema } from './options.ts';
import { MQTT_JSON_CHANNELS } from './units.ts';

/**
 * Any networked detector that publishes JSON on MQTT, described in config instead of code: the
 * device's `mqtt.topic` says where it publishes, `options.fields` maps JSON paths (with their
 * units) onto a fixed set of canonical channels, `options.timestamp` says where its clock is.
 */
export const mqttJson: DeviceProfile<MqttJsonOptions> = {
  id: 'mqtt-json',
  vendor: 'generic',
  model: 'declarative JSON over MQTT (field mapping in config)',
  kind: 'dosimeter',
  description: 'Networked detector publishing JSON on MQTT; JSON paths and units mapped to canonical channels in options.fields.',
  link: { type: 'mqtt', topic: 'devices/{device}/json' },
  channels: MQTT_JSON_CHANNELS.map((c) => c.spec),
  measurement: 'radiation',
  staleAfterMs: 60_000,
  optionsSchema: MqttJsonOptionsSchema,
  createSession(ctx) {
    const decode = createMqttJsonDecoder(ctx.options);
    return createMessageSession(ctx, { decodeMessage: decode });
  },
};
