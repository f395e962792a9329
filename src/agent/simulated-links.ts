import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { SerialPort } from 'serialport';
import type { DeviceConfig } from '../config/schema.ts';
import type { DeviceProfile } from '../core/profile.ts';
import type { DeviceSimulator, SimulatorFactory, SimulatorWire } from '../core/simulator.ts';
import type { DeviceLink } from '../transports/link.ts';
import { createMemoryLink } from '../transports/memory-link.ts';
import { createSerialLink } from '../transports/serial-link.ts';
import { hasSocat, type PtyPair, startPtyPair } from '../transports/socat.ts';

export interface SimulatedLinks {
  links: Map<string, DeviceLink>;
  /** 'pty' when socat linked real pseudo-terminals, 'memory' when it was absent. */
  mode: 'pty' | 'memory';
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
}): Promise<SimulatedLinks> {
  const mode = !opts.forceMemory && hasSocat() ? 'pty' : 'memory';
  const links = new Map<string, DeviceLink>();
  const running: DeviceSimulator[] = [];
  const pairs: PtyPair[] = [];
  const ports: SerialPort[] = [];
  const ptyDir = join(opts.dataDir, 'pty');
  const stop = async () => {
    for (const s of running) s.stop();
    await Promise.all(ports.map((p) => new Promise<void>((r) => (p.isOpen ? p.close(() => r()) : r()))));
    await Promise.all(pairs.map((p) => p.stop()));
  };
  try {
    for (const device of opts.devices) {
      if (!device.simulate) continue;
      const profile = opts.catalogue.get(device.profile);
      const factory = opts.simulators.get(device.profile);
      if (!profile || !factory) throw new Error(`device ${device.id}: no simulator for profile '${device.profile}'`);
      const baudRate = profile.link.type === 'serial' ? profile.link.baudRate : 115200;
      let wire: SimulatorWire;
      if (mode === 'pty') {
        mkdirSync(ptyDir, { recursive: true });
        const agentPath = join(ptyDir, `${device.id}.agent`);
        const devicePath = join(ptyDir, `${device.id}.device`);
        for (const p of [agentPath, devicePath]) rmSync(p, { force: true }); // stale links of a killed run
        const pair = await startPtyPair(agentPath, devicePath);
        pairs.push(pair);
        const end = await openDeviceEnd(devicePath, baudRate);
        ports.push(end.port);
        wire = end.wire;
        const noDataTimeoutMs = Math.max(device.no_data_timeout_s * 1000, device.simulate.tick_ms * 5);
        links.set(device.id, createSerialLink({ path: agentPath, baudRate, noDataTimeoutMs }));
      } else {
        const mem = createMemoryLink(device.id);
        wire = mem.wire;
        links.set(device.id, mem.link);
      }
      const sim = factory(wire, device.simulate);
      running.push(sim);
      opts.log.info({ device: device.id, profile: device.profile, mode }, 'simulator started');
    }
  } catch (e) {
    await stop();
    throw e;
  }
  for (const s of running) s.start();
  return { links, mode, stop };
}
