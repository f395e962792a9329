import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { IClientOptions } from 'mqtt';
import type { Logger } from 'pino';
import { SerialPort } from 'serialport';
import type { Config, DeviceConfig } from '../config/schema.ts';
import type { DeviceProfile } from '../core/profile.ts';
import type { DeviceSimulator, SimulatorFactory, SimulatorWire } from '../core/simulator.ts';
import { mqttClientOptions } from '../security/mqtt-client-options.ts';
import type { DeviceLink } from '../transports/link.ts';
import { createMemoryLink } from '../transports/memory-link.ts';
import { createSerialLink } from '../transports/serial-link.ts';
import { hasSocat, type PtyPair, startPtyPair } from '../transports/socat.ts';
import { createMqttSimulatedDevice, type MqttSimulatedDevice } from './simulated-mqtt.ts';

export interface SimulatedLinks {
  links: Map<string, DeviceLink>;
  /** 'pty' when socat linked real pseudo-terminals, 'memory' when it was absent. */
  mode: 'pty' | 'memory';
  /**
   * Pulls a simulated device's cable: its simulator and socat stop, the pty vanishes. For
   * training ("the counter went dark") and for tests of the agent's reconnect. pty mode only.
   */
  unplug(deviceId: string): Promise<void>;
  /** Plugs it back in: a new socat at the same paths and a fresh simulator. */
  replug(deviceId: string): Promise<void>;
  stop(): Promise<void>;
}

/** Opens the simulator's end of a pty pair with the real serialport, as hardware would be. */
async function openDeviceEnd(path: string, baudRate: number): Promise<{ wire: SimulatorWire; port: SerialPort }> {
  const port = new SerialPort({ path, baudRate, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  port.on('error', () => {}); // the pty vanishes on shutdown; nothing to report
  const wire: SimulatorWire = {
    write: (bytes) => void port.write(bytes),
    onData: (listener) => void port.on('data', listener),
  };
  return { wire, port };
}

/** One simulated device on a pty pair: what it takes to start, stop and restart it. */
interface PtyDevice {
  agentPath: string;
  devicePath: string;
  baudRate: number;
  start(): Promise<void>;
  stop(): Promise<void>;
}

function ptyDevice(agentPath: string, devicePath: string, baudRate: number, makeSim: (wire: SimulatorWire) => DeviceSimulator): PtyDevice {
  let running: { pair: PtyPair; port: SerialPort; sim: DeviceSimulator } | undefined;
  return {
    agentPath,
    devicePath,
    baudRate,
    async start() {
      for (const p of [agentPath, devicePath]) rmSync(p, { force: true }); // stale links of a killed run
      const pair = await startPtyPair(agentPath, devicePath);
      try {
        const end = await openDeviceEnd(devicePath, baudRate);
        const sim = makeSim(end.wire);
        running = { pair, port: end.port, sim };
        sim.start();
      } catch (e) {
        await pair.stop();
        throw e;
      }
    },
    async stop() {
      const r = running;
      running = undefined;
      if (!r) return;
      r.sim.stop();
      await new Promise<void>((resolve) => (r.port.isOpen ? r.port.close(() => resolve()) : resolve()));
      await r.pair.stop();
    },
  };
}

/**
 * The simulated devices of a station config, as `radscreen agent` and `radscreen station` start
 * them: every simulator and its agent link get the config's MQTT identity for that device.
 */
export function startConfiguredSimulators(
  config: Config,
  deps: { catalogue: ReadonlyMap<string, DeviceProfile>; simulators: ReadonlyMap<string, SimulatorFactory>; log: Logger; mqttUrl?: string },
): Promise<SimulatedLinks> {
  return startSimulatedLinks({
    ...deps,
    devices: config.devices,
    dataDir: config.data_dir,
    readIntervalMs: config.agent.serial_read_interval_ms,
    mqttOptionsFor: (device, role) => mqttClientOptions(config, { role, station: config.station.id, device }),
  });
}

/**
 * Starts a simulator for every device whose config has `simulate`, each on its own socat pty
 * pair under `<dataDir>/pty/`, so the agent reads it through the real serialport exactly as it
 * reads hardware. Without socat the simulators run over in-process links instead.
 */
export async function startSimulatedLinks(opts: {
  devices: readonly DeviceConfig[];
  catalogue: ReadonlyMap<string, DeviceProfile>;
  simulators: ReadonlyMap<string, SimulatorFactory>;
  dataDir: string;
  log: Logger;
  forceMemory?: boolean;
  /** The agent's serial read tick, ms (`agent.serial_read_interval_ms`; 0 or unset: read on arrival). */
  readIntervalMs?: number;
  /** The broker the agent uses; simulators of MQTT families publish there. Required only for them. */
  mqttUrl?: string;
  /** MQTT identity options per device and role (src/security/mqtt-client-options.ts). */
  mqttOptionsFor?: (device: string, role: 'device' | 'agent') => Partial<IClientOptions>;
}): Promise<SimulatedLinks> {
  const mode = !opts.forceMemory && hasSocat() ? 'pty' : 'memory';
  const links = new Map<string, DeviceLink>();
  const ptys = new Map<string, PtyDevice>();
  const inProcess: DeviceSimulator[] = [];
  const onBroker: MqttSimulatedDevice[] = [];
  const ptyDir = join(opts.dataDir, 'pty');
  const stop = async () => {
    for (const s of inProcess) s.stop();
    await Promise.all([...ptys.values()].map((d) => d.stop()));
    await Promise.all(onBroker.map((d) => d.stop()));
  };
  const ptyOf = (id: string): PtyDevice => {
    const d = ptys.get(id);
    if (!d) throw new Error(`device ${id} is not a simulated device on a pty`);
    return d;
  };
  try {
    for (const device of opts.devices) {
      if (!device.simulate) continue;
      const scenario = device.simulate;
      const profile = opts.catalogue.get(device.profile);
      const factory = opts.simulators.get(device.profile);
      if (!profile || !factory) throw new Error(`device ${device.id}: no simulator for profile '${device.profile}'`);
      const baudRate = profile.link.type === 'serial' ? profile.link.baudRate : 115200;
      if (profile.link.type === 'mqtt') {
        // An MQTT family is simulated on the broker, pty or not: that is its real transport.
        if (!opts.mqttUrl) throw new Error(`device ${device.id}: simulating an MQTT device needs the agent's broker URL`);
        const d = createMqttSimulatedDevice({
          device,
          link: profile.link,
          factory,
          mqttUrl: opts.mqttUrl,
          ...(opts.mqttOptionsFor ? { mqttOptionsFor: (role: 'device' | 'agent') => opts.mqttOptionsFor?.(device.id, role) ?? {} } : {}),
        });
        onBroker.push(d);
        inProcess.push(d.sim);
        links.set(device.id, d.link);
      } else if (mode === 'pty') {
        mkdirSync(ptyDir, { recursive: true });
        const d = ptyDevice(join(ptyDir, `${device.id}.agent`), join(ptyDir, `${device.id}.device`), baudRate, (wire) =>
          factory(wire, scenario),
        );
        await d.start();
        ptys.set(device.id, d);
        const noDataTimeoutMs = Math.max(device.no_data_timeout_s * 1000, scenario.tick_ms * 5);
        links.set(device.id, createSerialLink({ path: d.agentPath, baudRate, noDataTimeoutMs, readIntervalMs: opts.readIntervalMs }));
      } else {
        const mem = createMemoryLink(device.id);
        const sim = factory(mem.wire, scenario);
        inProcess.push(sim);
        links.set(device.id, mem.link);
      }
      opts.log.info(
        { device: device.id, profile: device.profile, mode: profile.link.type === 'mqtt' ? 'mqtt' : mode },
        'simulator started',
      );
    }
  } catch (e) {
    await stop();
    throw e;
  }
  for (const s of inProcess) s.start();
  return {
    links,
    mode,
    unplug: (id) => ptyOf(id).stop(),
    replug: (id) => ptyOf(id).start(),
    stop,
  };
}
