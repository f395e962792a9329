import { afterEach, describe, expect, it, vi } from 'vitest';
import { safecastBgeigie } from '../../devices/safecast-bgeigie/profile.ts';
import { createSafecastBgeigieSimulator } from '../../simulators/safecast-bgeigie.ts';
import type { DoseScenario, SimulatorWire } from '../../src/core/simulator.ts';
import { harness } from '../support/session-harness.ts';

/** Parity: what the Nano simulator emits (written from docs/protocols.md) decodes cleanly, in-process. */

const scenario: DoseScenario = { background_usvh: 0.1, events: [], seed: 42, tick_ms: 100 };

function wireToSession() {
  const written: Buffer[] = [];
  const { session, readings, rejects } = harness(safecastBgeigie, {}, Date.now);
  const wire: SimulatorWire = {
    write(bytes) {
      written.push(bytes);
      // Split every write in two at an odd place, as a UART would.
      session.push(bytes.subarray(0, 7));
      session.push(bytes.subarray(7));
    },
    onData() {},
  };
  return { wire, session, readings, rejects, written };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('bGeigie Nano simulator ↔ decoder parity', () => {
  it('every sentence decodes; first 12 are V (invalid), then valid; counts add up', () => {
    vi.useFakeTimers({ now: Date.UTC(2024, 0, 1, 12, 0, 0) });
    const { wire, session, readings, rejects, written } = wireToSession();
    const sim = createSafecastBgeigieSimulator(wire, scenario);
    sim.start();
    vi.advanceTimersByTime(5 * scenario.tick_ms * 40);
    sim.stop();
    session.stop();
    expect(rejects).toEqual([]);
    expect(readings).toHaveLength(40);
    expect(written[0]?.toString('latin1')).toBe('# NEW LOG\n# format=1.4.5nano\n# deadtime=off\n');
    expect(readings.slice(0, 12).every((r) => r.quality === 'invalid')).toBe(true);
    expect(readings.slice(12).every((r) => r.quality === 'good')).toBe(true);
    // Simulated GPS time advances 5 s per sentence from the start second.
    expect(readings.map((r) => r.ts - Date.UTC(2024, 0, 1, 12, 0, 0))).toEqual(Array.from({ length: 40 }, (_, i) => (i + 1) * 5000));
    let total = 0;
    for (const r of readings) {
      total += r.values.counts_5s as number;
      expect(r.values.total_counts).toBe(total);
      expect(r.values.dose_rate).toBeCloseTo((r.values.cpm as number) / 334, 12);
      expect(r.values.dead_time_compensated).toBe(false);
      expect(r.values.latitude).toBeCloseTo(35.64214, 9);
      expect(r.values.longitude).toBeCloseTo(139.719176667, 9);
    }
    // CPM is the sum of the last twelve 5-s bins.
    const bins = readings.map((r) => r.values.counts_5s as number);
    expect(readings[30]?.values.cpm).toBe(bins.slice(19, 31).reduce((a, b) => a + b, 0));
    // 0.1 µSv/h × 334 ≈ 33 CPM: the mean over the valid minutes lands near it.
    const meanCpm = readings.slice(12).reduce((a, r) => a + (r.values.cpm as number), 0) / 28;
    expect(meanCpm).toBeGreaterThan(20);
    expect(meanCpm).toBeLessThan(47);
  });

  it('a source pass raises the decoded dose rate', () => {
    vi.useFakeTimers({ now: Date.UTC(2024, 0, 1) });
    const { wire, readings } = wireToSession();
    const sim = createSafecastBgeigieSimulator(wire, {
      ...scenario,
      events: [{ at_s: 100, duration_s: 60, peak_usvh: 5, shape: 'step' }],
    });
    sim.start();
    vi.advanceTimersByTime(5 * scenario.tick_ms * 40);
    sim.stop();
    const peak = Math.max(...readings.map((r) => r.values.dose_rate as number));
    expect(peak).toBeGreaterThan(3);
    expect(readings[15]?.values.dose_rate as number).toBeLessThan(0.5);
  });
});
