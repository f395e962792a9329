import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { RadscreenError } from '../core/errors.ts';

/** What identifies a USB serial adapter across re-plugging, when its /dev/ttyUSBn changes. */
export interface PortMatch {
  /** USB vendor id, 4 hex digits as udev prints it (e.g. `1a86`). */
  vendor_id: string;
  product_id: string;
  /** Tells two adapters of the same model apart. */
  serial_number?: string | undefined;
}

export interface PortInfo {
  path: string;
  manufacturer?: string | undefined;
  serialNumber?: string | undefined;
  vendorId?: string | undefined;
  productId?: string | undefined;
}

/**
 * True when `udevadm` is installed. serialport's list() spawns it and, without it, throws an
 * *uncaught* ENOENT that kills the process (docs/runtime-facts.md §3), so we check first.
 */
export function canListPorts(pathEnv = process.env.PATH ?? ''): boolean {
  return [...pathEnv.split(':'), '/usr/bin', '/bin', '/sbin', '/usr/sbin'].some((d) => d && existsSync(join(d, 'udevadm')));
}

/** Lists serial ports, or explains why it cannot instead of crashing. */
export async function listPorts(list: () => Promise<PortInfo[]> = () => SerialPort.list(), hasUdev = canListPorts()): Promise<PortInfo[]> {
  if (!hasUdev)
    throw new RadscreenError(
      'RS_ERR_PORT_OPEN',
      'listing serial ports needs udev (udevadm), which is not installed: apt-get install udev, or give serial.path instead',
    );
  return list();
}

const sameHex = (a: string | undefined, b: string) =>
  a !== undefined && a.toLowerCase().replace(/^0x/, '') === b.toLowerCase().replace(/^0x/, '');

/** Picks the one port matching VID/PID (and serial number); none or several is an error that says which. */
export function pickPort(ports: readonly PortInfo[], match: PortMatch): string {
  const hits = ports.filter(
    (p) =>
      sameHex(p.vendorId, match.vendor_id) &&
      sameHex(p.productId, match.product_id) &&
      (match.serial_number === undefined || p.serialNumber === match.serial_number),
  );
  const wanted = `USB ${match.vendor_id}:${match.product_id}${match.serial_number ? ` serial ${match.serial_number}` : ''}`;
  if (hits.length === 1) return (hits[0] as PortInfo).path;
  if (hits.length === 0) throw new RadscreenError('RS_ERR_PORT_OPEN', `no serial port matches ${wanted}`);
  throw new RadscreenError(
    'RS_ERR_PORT_OPEN',
    `${hits.length} ports match ${wanted} (${hits.map((h) => h.path).join(', ')}): add serial_number to choose one`,
  );
}
