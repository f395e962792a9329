import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { type PtyPair, startPtyPair } from '../../src/transports/socat.ts';

/** Opens a path with the real serialport, as the agent opens /dev/ttyUSB0. */
export function openSerial(path: string, baudRate: number): Promise<SerialPort> {
  return new Promise((resolve, reject) => {
    const port = new SerialPort({ path, baudRate }, (err) => (err ? reject(err) : resolve(port)));
  });
}

/** A session's `write`: bytes to the port, resolved once they are handed to the pty (rejects on a write error). */
export function writeTo(port: SerialPort): (bytes: Buffer) => Promise<void> {
  return (bytes) => new Promise((resolve, reject) => port.write(bytes, (err) => (err ? reject(err) : port.drain(() => resolve()))));
}

export function closeSerial(port: SerialPort): Promise<void> {
  return new Promise((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve()));
}

export interface PtyFixture {
  /** The agent's end and the simulated device's end of one socat pair. */
  agentPath: string;
  devicePath: string;
  pair: PtyPair;
  /** Stops socat (by its PID) and removes the temp dir. */
  close(): Promise<void>;
}

/** A socat pty pair in a fresh temp dir, for tests that put a simulator and a session on real ptys. */
export async function createPtyFixture(prefix: string): Promise<PtyFixture> {
  const dir = mkdtempSync(join(tmpdir(), `radscreen-${prefix}-`));
  const agentPath = join(dir, 'agent');
  const devicePath = join(dir, 'device');
  const pair = await startPtyPair(agentPath, devicePath);
  return {
    agentPath,
    devicePath,
    pair,
    async close() {
      await pair.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
