import type { DeviceConfig } from '../config/schema.ts';
import type { DeviceProfile } from '../core/profile.ts';
import { resolveDeviceTopic } from '../transports/mqtt-link.ts';
import type { DeviceTopics } from './mqtt-acl.ts';

/**
 * The topics an MQTT-native device may publish on (and its agent connection may read): the
 * configured `mqtt.topic` of a device in the config; for any other id (training runs make
 * `training-*` devices on the fly) the topic patterns of every MQTT profile in the catalogue,
 * with `{device}` replaced by that id. Either way the device id is part of the topic, so one
 * device cannot publish as another.
 */
export function deviceTopicsFrom(catalogue: ReadonlyMap<string, DeviceProfile>, devices: readonly DeviceConfig[]): DeviceTopics {
  const patterns = [...catalogue.values()].flatMap((p) => (p.link.type === 'mqtt' ? [p.link.topic] : []));
  const configured = new Map(devices.map((d) => [d.id, d]));
  return (device) => {
    const d = configured.get(device);
    const profile = d ? catalogue.get(d.profile) : undefined;
    if (d && profile?.link.type === 'mqtt') return [d.mqtt?.topic ?? resolveDeviceTopic(profile.link.topic, device)];
    if (d) return [];
    return patterns.map((p) => resolveDeviceTopic(p, device));
  };
}
