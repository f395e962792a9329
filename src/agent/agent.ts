import type { Logger } from 'pino';
import { readCalibrationKey } from '../calibration/signing.ts';
import type { Config } from '../config/schema.ts';
import type { DeviceProfile } from '../core/profile.ts';
import type { DurableReceipts } from '../core/receipts.ts';
import { mqttClientOptions } from '../security/mqtt-client-options.ts';
import type { DeviceLink } from '../transports/link.ts';
import { createMqttLink, resolveDeviceTopic } from '../transports/mqtt-link.ts';
import { listPorts, type PortMatch, pickPort } from '../transports/port-finder.ts';
import { createSerialLink } from '../transports/serial-link.ts';
import { type DeviceRunner, type DeviceStats, runDevice } from './device-runner.ts';
import { openAgentOutbox } from './outbox-file.ts';

export interface AgentOptions {
  config: Config;
  catalogue: ReadonlyMap<string, DeviceProfile>;
  mqttUrl: string;
  log: Logger;
  /** Links made elsewhere (simulators); devices not in it open their `serial` port or MQTT topic. */
  links?: ReadonlyMap<string, DeviceLink>;
  coalesceMs?: number;
  /** Station mode: outbox rows stay until ingest confirms them durable (src/core/receipts.ts). */
  receipts?: DurableReceipts;
  /** The server's calibration key (station mode shares it in-process); default: `calibration.key` or the key file. */
  calibrationKey?: Buffer;
}

export interface Agent {
  stats(): DeviceStats[];
  stop(): Promise<void>;
}

/** Starts a runner per configured device. The config was validated, so every profile exists. */
export function startAgent(opts: AgentOptions): Agent {
  const { config } = opts;
  // No key yet (the server has not run once): look again when a calibration arrives.
  let knownKey = opts.calibrationKey ?? readCalibrationKey(config);
  const calibrationKey = () => {
    try {
      knownKey ??= readCalibrationKey(config);
    } catch (e) {
      opts.log.warn({ err: (e as Error).message }, 'calibration key unreadable; calibrations are refused');
    }
    return knownKey;
  };
  // One outbox file for all devices: one commit per event-loop turn for all of them (outbox-file.ts).
  const outboxFile = openAgentOutbox(config.data_dir, opts.log);
  const runners: DeviceRunner[] = config.devices.map((device) => {
    const profile = opts.catalogue.get(device.profile) as DeviceProfile;
    let link = opts.links?.get(device.id);
    // Each device connection is its own identity: it may publish only this device's topics.
    const mqttOptions = mqttClientOptions(config, { role: 'agent', station: config.station.id, device: device.id });
    if (!link && profile.link.type === 'mqtt') {
      // The device publishes on a broker itself: the station's unless its entry names another.
      const own = device.mqtt ?? {};
      link = createMqttLink({
        url: own.url ?? opts.mqttUrl,
        topic: own.topic ?? resolveDeviceTopic(profile.link.topic, device.id),
        ...(own.url ? { username: own.username, password: own.password } : { mqttOptions }),
        // Stable id and a persistent session: what the device sends while the agent restarts is queued.
        clientId: `radscreen-link-${config.station.id}-${device.id}`,
        persistent: true,
      });
    }
    if (!link) {
      if (!device.serial) throw new Error(`device ${device.id} has neither a serial port nor a simulator link`);
      const defaults = profile.link.type === 'serial' ? profile.link : { baudRate: 9600 };
      const serial = device.serial;
      link = createSerialLink({
        ...defaults,
        // The schema guarantees a path or both USB ids.
        path: serial.path ?? (async () => pickPort(await listPorts(), serial as PortMatch)),
        baudRate: serial.baud_rate ?? defaults.baudRate,
        noDataTimeoutMs: device.no_data_timeout_s * 1000,
        readIntervalMs: config.agent.serial_read_interval_ms,
      });
    }
    return runDevice({
      station: config.station.id,
      device: device.id,
      profile,
      source: device.source ?? (device.simulate ? 'simulated' : 'live'),
      options: device.options,
      link,
      mqttUrl: opts.mqttUrl,
      mqttOptions,
      maxInflight: config.mqtt.max_inflight,
      dataDir: config.data_dir,
      outboxFile,
      outbox: {
        maxRows: config.agent.outbox_max_rows,
        maxAgeMs: config.agent.outbox_max_age_h * 3_600_000,
        backlogRatePerSec: config.agent.backlog_rate_per_s,
      },
      coalesceMs: opts.coalesceMs ?? config.agent.coalesce_ms,
      timeWindow: { futureMs: config.time_window.future_s * 1000, pastMs: config.time_window.past_s * 1000 },
      ...(opts.receipts ? { receipts: opts.receipts } : {}),
      calibrationKey,
      log: opts.log,
    });
  });
  return {
    stats: () => runners.map((r) => r.stats()),
    async stop() {
      await Promise.all(runners.map((r) => r.stop()));
      outboxFile.close();
    },
  };
}
