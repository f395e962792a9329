import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { safecastBgeigie } from '../../devices/safecast-bgeigie/profile.ts';
import { createSafecastBgeigieSimulator } from '../../simulators/safecast-bgeigie.ts';
import type { DeviceSimulator } from '../../src/core/simulator.ts';
import { closeSerial, createPtyFixture, openSerial, type PtyFixture } from '../support/pty.ts';
import { harness } from '../support/session-harness.ts';

/** The Nano simulator on one end of a socat pty pair, the real serialport + session on the other. */

let pty: PtyFixture;

beforeAll(async () => {
  pty = await createPtyFixture('safecast');
});

afterAll(async () => {
  await pty?.close();
});

describe('bGeigie over a pty pair', () => {
  it('the agent side decodes the simulator’s sentences through serialport', async () => {
    const agentPort = await openSerial(pty.agentPath, 9600);
    const devicePort = await openSerial(pty.devicePath, 9600);
    const { session, readings, rejects } = harness(safecastBgeigie, {}, Date.now);
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
      await closeSerial(agentPort);
      await closeSerial(devicePort);
    }
    expect(rejects).toEqual([]);
    expect(readings.length).toBeGreaterThanOrEqual(15);
    expect(readings.slice(0, 12).every((r) => r.quality === 'invalid')).toBe(true);
    expect(readings[12]?.quality).toBe('good');
    expect(readings.every((r) => r.ts_source === 'device' && r.values.gps_valid === true)).toBe(true);
    for (let i = 1; i < readings.length; i += 1) expect((readings[i]?.ts ?? 0) - (readings[i - 1]?.ts ?? 0)).toBe(5000);
  });
});
