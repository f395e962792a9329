import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gqGmc } from '../../devices/gq-gmc/profile.ts';
import { createGqGmcSimulator } from '../../simulators/gq-gmc.ts';
import type { DecodedReading } from '../../src/core/reading.ts';
import { closeSerial, createPtyFixture, openSerial, type PtyFixture, writeTo } from '../support/pty.ts';
import { harness } from '../support/session-harness.ts';
import { waitFor } from '../support/wait.ts';

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

/** Runs the session until `enough(readings)` (at most 30 s); returns the readings and the session's running time. */
async function run(options: Record<string, unknown>, enough: (readings: DecodedReading[]) => boolean) {
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
  const startedAt = Date.now();
  session.start?.();
  await waitFor(() => enough(readings) || rejects.length > 0, {
    timeoutMs: 30_000,
    describe: () => ({ readings: readings.length, rejects }),
  });
  session.stop();
  const ranMs = Date.now() - startedAt;
  sim.stop();
  await closeSerial(agentPort);
  await closeSerial(devicePort);
  return { readings, rejects, ranMs };
}

describe('GQ GMC over a socat pty pair with the real serialport', () => {
  it('polls the simulated GMC-320 into readings', async () => {
    const { readings, rejects } = await run({ timezone: 'UTC', poll_interval_s: 0.5, request_timeout_ms: 500 }, (rs) => rs.length >= 5);
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
    const beatsOf = (rs: DecodedReading[]) => rs.filter((r) => r.values.cps !== undefined);
    const { readings, rejects, ranMs } = await run(
      { timezone: 'UTC', mode: 'heartbeat', request_timeout_ms: 500 },
      (rs) => beatsOf(rs).length >= 8,
    );
    expect(rejects).toEqual([]);
    const beats = beatsOf(readings);
    expect(beats.length).toBeGreaterThanOrEqual(8);
    // The simulator sends a sample every 200 ms: more beats than that in the time the session ran
    // would mean the session invents or repeats samples (a slow machine only gives fewer).
    expect(beats.length).toBeLessThanOrEqual(Math.floor(ranMs / 200) + 1);
    for (const b of beats) expect(b.values.cps).toBeLessThan(50);
  });
});
