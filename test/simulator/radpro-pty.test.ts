import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPort } from 'serialport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { radpro } from '../../devices/radpro/profile.ts';
import { createRadproSimulator } from '../../simulators/radpro.ts';
import type { Reject } from '../../src/core/errors.ts';
import type { SessionContext } from '../../src/core/profile.ts';
import type { DecodedReading } from '../../src/core/reading.ts';
import type { DeviceSimulator } from '../../src/core/simulator.ts';

/** Rad Pro simulator on one end of a socat pty pair; the real serialport and the polling session on the other. */

let dir = '';
let socat: ChildProcess | undefined;

function openPort(path: string): Promise<SerialPort> {
  return new Promise((resolve, reject) => {
    const port = new SerialPort({ path, baudRate: 115200 }, (err) => (err ? reject(err) : resolve(port)));
  });
}

function closePort(port: SerialPort): Promise<void> {
  return new Promise((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve()));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'radscreen-radpro-'));
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

describe('Rad Pro over a pty pair', () => {
  it('downloads the datalog and polls through serialport, GET only', async () => {
    const readings: DecodedReading[] = [];
    const rejects: Reject[] = [];
    const sent: string[] = [];
    const agentPort = await openPort(`${dir}/a`);
    const devicePort = await openPort(`${dir}/b`);
    const ctx: SessionContext = {
      now: () => Date.now(),
      write: (bytes) =>
        new Promise((resolve, reject) => {
          sent.push(bytes.toString());
          agentPort.write(bytes, (err) => (err ? reject(err) : resolve()));
        }),
      emit: (r) => readings.push(r),
      reject: (r) => rejects.push(r),
      options: radpro.optionsSchema?.parse({ poll_interval_ms: 250, download_datalog: true }) ?? {},
      log: { debug() {}, info() {}, warn() {} },
    };
    const session = radpro.createSession(ctx);
    agentPort.on('data', (chunk: Buffer) => session.push(chunk));
    let sim: DeviceSimulator | undefined;
    try {
      sim = createRadproSimulator(
        { write: (bytes) => void devicePort.write(bytes), onData: (l) => devicePort.on('data', l) },
        { background_usvh: 0.2, events: [], seed: 3, tick_ms: 50 },
      );
      sim.start();
      session.start?.();
      const deadline = Date.now() + 10_000;
      while (readings.filter((r) => r.values.battery_voltage !== undefined).length < 4 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      session.stop();
      sim?.stop();
      await closePort(agentPort);
      await closePort(devicePort);
    }
    expect(rejects).toEqual([]);
    expect(sent.every((s) => s.startsWith('GET ') && s.endsWith('\r\n'))).toBe(true);
    const history = readings.filter((r) => r.values.battery_voltage === undefined);
    expect(history).toHaveLength(5); // the simulator's earlier logging session
    expect(history.slice(1).every((r) => typeof r.values.cpm === 'number' && typeof r.values.dose_rate === 'number')).toBe(true);
    const live = readings.filter((r) => r.values.battery_voltage !== undefined);
    expect(live.length).toBeGreaterThanOrEqual(4);
    for (const r of live) expect(r.values.dose_rate).toBeCloseTo((r.values.cpm as number) / 108.345, 9);
  });
});
