import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { radpro } from '../../devices/radpro/profile.ts';
import { createRadproSimulator } from '../../simulators/radpro.ts';
import type { DeviceSimulator } from '../../src/core/simulator.ts';
import { closeSerial, createPtyFixture, openSerial, type PtyFixture, writeTo } from '../support/pty.ts';
import { harness } from '../support/session-harness.ts';

/** Rad Pro simulator on one end of a socat pty pair; the real serialport and the polling session on the other. */

let pty: PtyFixture;

beforeAll(async () => {
  pty = await createPtyFixture('radpro');
});

afterAll(async () => {
  await pty?.close();
});

describe('Rad Pro over a pty pair', () => {
  it('downloads the datalog and polls through serialport, GET only', async () => {
    const agentPort = await openSerial(pty.agentPath, 115200);
    const devicePort = await openSerial(pty.devicePath, 115200);
    const sendToDevice = writeTo(agentPort);
    const options = { poll_interval_ms: 250, download_datalog: true };
    const { session, readings, rejects, written } = harness(radpro, options, Date.now, sendToDevice);
    const sent = () => written.map((b) => b.toString());
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
      await closeSerial(agentPort);
      await closeSerial(devicePort);
    }
    expect(rejects).toEqual([]);
    expect(sent().every((s) => s.startsWith('GET ') && s.endsWith('\r\n'))).toBe(true);
    const history = readings.filter((r) => r.values.battery_voltage === undefined);
    expect(history).toHaveLength(5); // the simulator's earlier logging session
    expect(history.slice(1).every((r) => typeof r.values.cpm === 'number' && typeof r.values.dose_rate === 'number')).toBe(true);
    const live = readings.filter((r) => r.values.battery_voltage !== undefined);
    expect(live.length).toBeGreaterThanOrEqual(4);
    for (const r of live) expect(r.values.dose_rate).toBeCloseTo((r.values.cpm as number) / 108.345, 9);
  });
});
