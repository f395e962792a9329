import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { radiacode } from '../../devices/radiacode/profile.ts';
import { createRadiacodeSimulator } from '../../simulators/radiacode.ts';
import type { DeviceSimulator } from '../../src/core/simulator.ts';
import { closeSerial, createPtyFixture, openSerial, type PtyFixture, writeTo } from '../support/pty.ts';
import { harness } from '../support/session-harness.ts';

/** RadiaCode simulator on one end of a socat pty pair; the real serialport and the family's session on the other. */

let pty: PtyFixture;

beforeAll(async () => {
  pty = await createPtyFixture('radiacode');
});

afterAll(async () => {
  await pty?.close();
});

describe('RadiaCode over a pty pair', () => {
  it('handshakes, reads the firmware version, DATA_BUF and the compressed spectrum through serialport, read-only', async () => {
    const agentPort = await openSerial(pty.agentPath, 115200);
    const devicePort = await openSerial(pty.devicePath, 115200);
    const sendToDevice = writeTo(agentPort);
    const { session, readings, rejects, written } = harness(
      radiacode,
      { poll_interval_ms: 250, spectrum_interval_s: 1 },
      Date.now,
      sendToDevice,
    );
    agentPort.on('data', (chunk: Buffer) => session.push(chunk));
    let sim: DeviceSimulator | undefined;
    const spectra = () => readings.filter((r) => r.values.spectrum_counts !== undefined);
    try {
      sim = createRadiacodeSimulator(
        { write: (bytes) => void devicePort.write(bytes), onData: (l) => devicePort.on('data', l) },
        { background_usvh: 0.1, events: [{ at_s: 0, duration_s: 1e6, peak_usvh: 2, shape: 'step' }], seed: 4, tick_ms: 20 },
      );
      sim.start();
      session.start?.();
      const deadline = Date.now() + 15_000;
      while (spectra().length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    } finally {
      session.stop();
      sim?.stop();
      await closeSerial(agentPort);
      await closeSerial(devicePort);
    }
    expect(rejects).toEqual([]);
    // SET_EXCHANGE first, GET_VERSION, then only RD_VIRT_STRING (0x0826): nothing is written to the device.
    expect(written[0]?.toString('hex')).toBe('080000000700008001ff12ff');
    expect(written[1]?.readUInt16LE(4)).toBe(0x000a);
    expect(written.slice(2).every((w) => w.readUInt16LE(4) === 0x0826)).toBe(true);
    const rates = readings.filter((r) => typeof r.values.dose_rate === 'number');
    expect(rates.length).toBeGreaterThan(20);
    const mean = rates.reduce((a, r) => a + (r.values.dose_rate as number), 0) / rates.length;
    expect(mean).toBeGreaterThan(1.7);
    expect(mean).toBeLessThan(2.5);
    const last = spectra().at(-1);
    expect(last?.values.spectrum_channels).toBe(1024);
    expect(last?.values.spectrum_counts as number).toBeGreaterThan((last?.values.spectrum_live_time as number) * 30);
  });
});
