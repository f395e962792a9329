import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { safecastBgeigie } from '../../devices/safecast-bgeigie/profile.ts';
import { createSafecastBgeigieSimulator } from '../../simulators/safecast-bgeigie.ts';
import type { Reject } from '../../src/core/errors.ts';
import type { SessionContext } from '../../src/core/profile.ts';
import type { DecodedReading } from '../../src/core/reading.ts';
import type { DeviceSimulator } from '../../src/core/simulator.ts';

/** The Nano simulator on one end of a socat pty pair, the real serialport + session on the other. */

let dir = '';
let socat: ChildProcess | undefined;

function openPort(path: string): Promise<SerialPort> {
  return new Promise((resolve, reject) => {
    const port = new SerialPort({ path, baudRate: 9600 }, (err) => (err ? reject(err) : resolve(port)));
  });
}

function closePort(port: SerialPort): Promise<void> {
  return new Promise((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve()));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'radscreen-safecast-'));
  socat = spawn('socat', [`pty,raw,echo=0,link=${dir}/a`, `pty,raw,echo=0,link=${dir}/b`], { stdio: 'ignore' });
  const deadline = Date.now() + 5_000;
  while (!(existsSync(`${dir}/a`) && existsSync(`${dir}/b`))) {
    if (Date.now() > deadline) throw new Error('socat did not create the pty links');
    await new Promise((r) => setTimeout(r, 25));
  }
});

afterAll(() => {
  if (socat?.pid !== undefined) process.kill(socat.pid, 'SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

describe('bGeigie over a pty pair', () => {
  it('the agent side decodes the simulator’s sentences through serialport', async () => {
    const readings: DecodedReading[] = [];
    const rejects: Reject[] = [];
    const ctx: SessionContext = {
      now: () => Date.now(),
      write: async () => {},
      emit: (r) => readings.push(r),
      reject: (r) => rejects.push(r),
      options: {},
      log: { debug() {}, info() {}, warn() {} },
    };
    const agentPort = await openPort(`${dir}/a`);
    const devicePort = await openPort(`${dir}/b`);
    const session = safecastBgeigie.createSession(ctx);
    agentPort.on('data', (chunk: Buffer) => session.push(chunk));
    let sim: DeviceSimulator | undefined;
    try {
      sim = createSafecastBgeigieSimulator(
        { write: (bytes) => void devicePort.write(bytes), onData: (l) => devicePort.on('data', l) },
        { background_usvh: 0.12, events: [], seed: 7, tick_ms: 20 },
      );
      sim.start();
      const deadline = Date.now() + 10_000;
      while (readings.length < 15 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    } finally {
      sim?.stop();
      session.stop();
      await closePort(agentPort);
      await closePort(devicePort);
    }
    expect(rejects).toEqual([]);
    expect(readings.length).toBeGreaterThanOrEqual(15);
    expect(readings.slice(0, 12).every((r) => r.quality === 'invalid')).toBe(true);
    expect(readings[12]?.quality).toBe('good');
    expect(readings.every((r) => r.ts_source === 'device' && r.values.gps_valid === true)).toBe(true);
    for (let i = 1; i < readings.length; i += 1) expect((readings[i]?.ts ?? 0) - (readings[i - 1]?.ts ?? 0)).toBe(5000);
  });
});
