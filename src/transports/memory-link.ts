import type { SimulatorWire } from '../core/simulator.ts';
import type { DeviceLink, LinkHandlers } from './link.ts';

/**
 * An in-process link: the simulator writes to `wire`, the agent reads from `link`. Used by
 * unit tests and by the demo station when socat is not installed (no real serial port then).
 */
export function createMemoryLink(name: string): { wire: SimulatorWire; link: DeviceLink } {
  let handlers: LinkHandlers | undefined;
  let open = false;
  const toDevice: ((chunk: Buffer) => void)[] = [];
  const wire: SimulatorWire = {
    write(bytes) {
      if (open) handlers?.data(Buffer.from(bytes));
    },
    onData(listener) {
      toDevice.push(listener);
    },
  };
  const link: DeviceLink = {
    description: `in-process link ${name}`,
    open(h) {
      handlers = h;
      open = true;
      h.state('online', { link: 'memory', name });
    },
    async write(bytes) {
      if (!open) throw new Error(`${name} is closed`);
      for (const l of toDevice) l(Buffer.from(bytes));
    },
    async close() {
      open = false;
      handlers?.state('offline', { link: 'memory', name });
    },
  };
  return { wire, link };
}
