import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gqGmc } from '../../devices/gq-gmc/profile.ts';
import { createGqGmcSimulator } from '../../simulators/gq-gmc.ts';
import type { DecodedReading } from '../../src/core/reading.ts';
import { closeSerial, createPtyFixture, openSerial, type PtyFixture, writeTo } from '../support/pty.ts';
import { harness } from '../support/session-harness.ts';

/**
 * The simulator on one end of a socat pty pair, the GQ session on the real `serialport` on the
 * other: what the agent does with a GMC-320 on /dev/ttyUSB0.
 */
let pty: PtyFixture;

beforeAll(async () => {
  pty = await createPtyFixture('gq-gmc');
});

afterAll(async () => {
  await pty?.close();
});

async function run(options: Record<string, unknown>, ms: number) {
  const devicePort = await openSerial(pty.devicePath, 115200);
  const agentPort = await openSerial(pty.agentPath, 115200);
  const sim = createGqGmcSimulator(
    { write: (b) => devicePort.write(b), onData: (l) => devicePort.on('data', l) },
    { background_usvh: 2, events: [], seed: 7, tick_ms: 200 },
  );
  sim.start();
  const sendToDevice = writeTo(agentPort);
  const { session, readings, rejects } = harness(gqGmc, options, Date.now, sendToDevice);
  agentPort.on('data', (chunk: Buffer) => session.push(chunk));
  session.start?.();
  await new Promise((r) => setTimeout(r, ms));
  session.stop();
  await new Promise((r) => setTimeout(r, 300));
  sim.stop();
  await closeSerial(agentPort);
  await closeSerial(devicePort);
  return { readings, rejects };
}

describe('GQ GMC over a socat pty pair with the real serialport', () => {
  it('polls the simulated GMC-320 into readings', async () => {
    const { readings, rejects } = await run({ timezone: 'UTC', poll_interval_s: 0.5, request_timeout_ms: 500 }, 3200);
    expect(rejects).toEqual([]);
    expect(readings.length).toBeGreaterThanOrEqual(5);
    const first = readings[0] as DecodedReading;
    expect(first.ts_source).toBe('agent');
    expect(first.values.battery_voltage).toBe(4.2);
    expect(Math.abs(first.values.clock_offset as number)).toBeLessThan(2);
    for (const r of readings) {
      expect(typeof r.values.cpm).toBe('number');
      expect(typeof r.values.cps).toBe('number');
      expect(r.values.dose_rate).toBeCloseTo((r.values.cpm as number) * 0.0065, 6);
    }
  });

  it('streams heartbeat samples (five device seconds per real second here)', async () => {
    const { readings, rejects } = await run({ timezone: 'UTC', mode: 'heartbeat', request_timeout_ms: 500 }, 3500);
    expect(rejects).toEqual([]);
    const beats = readings.filter((r) => r.values.cps !== undefined);
    // Heartbeat starts after the 1 s drain and identification; then a sample every 200 ms.
    expect(beats.length).toBeGreaterThanOrEqual(8);
    expect(beats.length).toBeLessThanOrEqual(13);
    for (const b of beats) expect(b.values.cps).toBeLessThan(50);
  });
});
