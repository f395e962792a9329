import mqtt, { type IClientOptions } from 'mqtt';
import type { DeviceConfig } from '../config/schema.ts';
import type { MqttLinkDefaults } from '../core/profile.ts';
import type { DeviceSimulator, SimulatorFactory, SimulatorWire } from '../core/simulator.ts';
import type { DeviceLink } from '../transports/link.ts';
import { createMqttLink, publishTopicFor, resolveDeviceTopic } from '../transports/mqtt-link.ts';

/** A simulated device that publishes on the broker, and the agent's link that reads it. */
export interface MqttSimulatedDevice {
  link: DeviceLink;
  sim: DeviceSimulator;
  /** The topic the simulator publishes on. */
  topic: string;
  stop(): Promise<void>;
}

/**
 * Starts the simulator of an MQTT family as the real device would run: its own MQTT client on
 * the agent's broker, one QoS 1 message per `wire.write` (message boundaries are the frames,
 * as the MQTT link promises). The agent reads it through a real MQTT link on the same topic.
 * The simulator is created here but started by the caller, once the agent is subscribed.
 */
export function createMqttSimulatedDevice(opts: {
  device: DeviceConfig;
  link: MqttLinkDefaults;
  factory: SimulatorFactory;
  mqttUrl: string;
  /** Per-identity options (src/security/mqtt-client-options.ts): the simulator connects as the device, the link as the agent. */
  mqttOptionsFor?: (role: 'device' | 'agent') => Partial<IClientOptions>;
}): MqttSimulatedDevice {
  const { device } = opts;
  const filter = resolveDeviceTopic(opts.link.topic, device.id);
  const topic = publishTopicFor(filter, device.id);
  const client = mqtt.connect(opts.mqttUrl, {
    protocolVersion: 4,
    clientId: `radscreen-sim-${device.id}-${process.pid}`.slice(0, 64),
    reconnectPeriod: 1000,
    ...opts.mqttOptionsFor?.('device'),
  });
  client.on('error', () => {}); // a broker that is not up yet: mqtt.js retries and queues publishes
  const wire: SimulatorWire = {
    write: (bytes) => void client.publish(topic, Buffer.from(bytes), { qos: 1 }),
    onData: () => {}, // MQTT families here are read-only: the agent publishes nothing to them
  };
  const sim = opts.factory(wire, device.simulate as NonNullable<DeviceConfig['simulate']>);
  const link = createMqttLink({
    url: opts.mqttUrl,
    topic: filter,
    clientId: `radscreen-link-${device.id}-${process.pid}`.slice(0, 64),
    ...(opts.mqttOptionsFor ? { mqttOptions: opts.mqttOptionsFor('agent') } : {}),
  });
  return {
    link,
    sim,
    topic,
    async stop() {
      sim.stop();
      await client.endAsync().catch(() => {});
    },
  };
}
