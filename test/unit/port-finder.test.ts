import { describe, expect, it } from 'vitest';
import { catalogue } from '../../devices/index.ts';
import { parseConfig } from '../../src/config/load.ts';
import { RadscreenError } from '../../src/core/errors.ts';
import { canListPorts, listPorts, pickPort } from '../../src/transports/port-finder.ts';

const ports = [
  { path: '/dev/ttyUSB0', vendorId: '1a86', productId: '7523', serialNumber: undefined },
  { path: '/dev/ttyUSB1', vendorId: '0403', productId: '6001', serialNumber: 'A10KZ1' },
  { path: '/dev/ttyUSB2', vendorId: '0403', productId: '6001', serialNumber: 'B77QX2' },
];

describe('selecting a serial port by USB ids', () => {
  it('finds the one adapter with that VID:PID, case and 0x prefix ignored', () => {
    expect(pickPort(ports, { vendor_id: '0x1A86', product_id: '7523' })).toBe('/dev/ttyUSB0');
  });

  it('tells two adapters of one model apart by serial number', () => {
    expect(pickPort(ports, { vendor_id: '0403', product_id: '6001', serial_number: 'B77QX2' })).toBe('/dev/ttyUSB2');
  });

  it('says which ports matched when the choice is ambiguous, and when none did', () => {
    expect(() => pickPort(ports, { vendor_id: '0403', product_id: '6001' })).toThrow(
      /2 ports match USB 0403:6001 \(\/dev\/ttyUSB1, \/dev\/ttyUSB2\)/,
    );
    expect(() => pickPort(ports, { vendor_id: 'ffff', product_id: '0001' })).toThrow(/no serial port matches USB ffff:0001/);
  });

  it('explains that listing needs udev instead of crashing when udevadm is absent', async () => {
    await expect(listPorts(async () => ports, false)).rejects.toThrow(/needs udev/);
    await expect(listPorts(async () => ports, true)).resolves.toHaveLength(3);
    expect(canListPorts('/nonexistent')).toBe(canListPorts('')); // only the system dirs count then
  });

  it('accepts serial.path or both USB ids in the config, not neither', () => {
    const base = 'station: { id: s }\ndevices:\n  - { id: g, profile: mightyohm-geiger, serial: ';
    expect(parseConfig(`${base}{ vendor_id: 1a86, product_id: "7523" } }`, { catalogue, env: {} }).devices[0]?.serial?.vendor_id).toBe(
      '1a86',
    );
    expect(() => parseConfig(`${base}{ baud_rate: 9600 } }`, { catalogue, env: {} })).toThrow(RadscreenError);
  });
});
