import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { gqGmc } from '../../devices/gq-gmc/profile.ts';
import { createGqGmcSimulatorFor } from '../../simulators/gq-gmc.ts';
import type { GqSimModel } from '../../simulators/gq-gmc-device.ts';
import type { Reject } from '../../src/core/errors.ts';
import { type DeviceSession, parseSessionOptions } from '../../src/core/profile.ts';
import type { DecodedReading } from '../../src/core/reading.ts';
import type { DoseScenario } from '../../src/core/simulator.ts';

/**
 * Parity: the simulator (written from docs/protocols.md) and the session (written from the same
 * document, separately) talk in-process. Bytes cross the wire in 3-byte chunks, a tick later.
 */
function connect(model: GqSimModel, options: Record<string, unknown>, scenario: Partial<DoseScenario> = {}) {
  const readings: DecodedReading[] = [];
  const rejects: Reject[] = [];
  const info: object[] = [];
  const wire = { bytesFromSim: 0 };
  let toSim: ((chunk: Buffer) => void) | undefined;
  let session: DeviceSession | undefined;
  const ctx: Parameters<typeof gqGmc.createSession>[0] = {
    now: () => Date.now(),
    async write(bytes) {
      const b = Buffer.from(bytes);
      setTimeout(() => toSim?.(b), 2);
    },
    emit: (r) => readings.push(r),
    reject: (r) => rejects.push(r),
    options: parseSessionOptions(gqGmc, options),
    log: { debug: () => {}, info: (o) => info.push(o), warn: () => {} },
  };
  session = gqGmc.createSession(ctx);
  const sim = createGqGmcSimulatorFor({ model, clockSkewMs: 7000 })(
    {
      write(bytes) {
        wire.bytesFromSim += bytes.length;
        for (let i = 0; i < bytes.length; i += 3) {
          const part = Buffer.from(bytes.subarray(i, i + 3));
          setTimeout(() => session?.push(part), 2);
        }
      },
      onData(listener) {
        toSim = listener;
      },
    },
    { background_usvh: 1, events: [], seed: 42, tick_ms: 1000, ...scenario },
  );
  return { session, sim, readings, rejects, info, wire };
}

describe('GQ GMC simulator ↔ session parity', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(Date.UTC(2024, 0, 8, 17, 54, 57));
  });
  afterEach(() => vi.useRealTimers());

  for (const model of ['GMC-320', 'GMC-300S', 'GMC-500+', 'GMC-800'] as const) {
    it(`${model}: polled readings come out with plausible counts and the simulator's clock skew`, async () => {
      const c = connect(model, { timezone: 'UTC' });
      c.sim.start();
      await vi.advanceTimersByTimeAsync(61_000); // one minute so the CPM ring is full
      c.session.start?.();
      await vi.advanceTimersByTimeAsync(10_000);
      c.session.stop();
      c.sim.stop();
      expect(c.rejects).toEqual([]);
      expect(c.readings.length).toBeGreaterThanOrEqual(9);
      const first = c.readings[0] as DecodedReading;
      expect(first.ts_source).toBe('agent');
      expect(first.values.clock_offset).toBeCloseTo(7, 0);
      if (model === 'GMC-800') expect(first.values.battery_voltage).toBeUndefined();
      else expect(first.values.battery_voltage).toBe(model === 'GMC-500+' ? 4 : 4.2);
      expect(c.info[0]).toMatchObject({ model, calibration: 'device-cfg' });
      // 1 µSv/h on a ~154–162 CPM/(µSv/h) tube: the last minute's Poisson sum is near that.
      for (const r of c.readings) {
        expect(r.values.cpm).toBeGreaterThan(100);
        expect(r.values.cpm).toBeLessThan(220);
        expect(r.values.dose_rate).toBeGreaterThan(0.6);
        expect(r.values.dose_rate).toBeLessThan(1.4);
        expect(r.values.cps).toBeLessThan(15);
      }
    });
  }

  it('heartbeat mode: the simulator streams and the session counts every second', async () => {
    const c = connect('GMC-320', { timezone: 'UTC', mode: 'heartbeat' }, { background_usvh: 0.5 });
    c.sim.start();
    c.session.start?.();
    await vi.advanceTimersByTimeAsync(75_000);
    c.session.stop();
    await vi.advanceTimersByTimeAsync(3000);
    expect(c.rejects).toEqual([]);
    const beats = c.readings.filter((r) => r.values.cps !== undefined);
    // HEARTBEAT1 goes out about 1.2 s in; one sample per simulated second after that.
    expect(beats.length).toBeGreaterThanOrEqual(72);
    expect(beats.length).toBeLessThanOrEqual(74);
    expect(beats.at(-1)?.quality).toBe('good');
    expect(beats.at(-1)?.values.cpm).toBe(beats.slice(-60).reduce((a, r) => a + (r.values.cps as number), 0));
    expect(c.wire.bytesFromSim).toBeGreaterThan(0);
    const sent = c.wire.bytesFromSim;
    await vi.advanceTimersByTimeAsync(5000);
    expect(c.wire.bytesFromSim).toBe(sent); // the session's HEARTBEAT0 on stop silenced the stream
    c.sim.stop();
  });
});
