import { afterEach, describe, expect, it, vi } from 'vitest';
import { decodeRadproDatalog } from '../../devices/radpro/datalog.ts';
import { radpro } from '../../devices/radpro/profile.ts';
import { createRadproSimulator, formatFixed } from '../../simulators/radpro.ts';
import type { Reject } from '../../src/core/errors.ts';
import { parseSessionOptions } from '../../src/core/profile.ts';
import type { DecodedReading } from '../../src/core/reading.ts';
import type { DoseScenario } from '../../src/core/simulator.ts';

/** Parity: the Rad Pro simulator (written from docs/protocols.md §2) against the real session, in-process. */

const scenario: DoseScenario = { background_usvh: 0.15, events: [], seed: 11, tick_ms: 1000 };
const START = Date.UTC(2025, 5, 1, 8, 0, 0);

/** A simulator with a test-side handle on its wire: `send` plays the agent, replies collect in `out`. */
function simulatorOnly(s: DoseScenario = scenario) {
  let listener: (chunk: Buffer) => void = () => {};
  let out = '';
  const sim = createRadproSimulator(
    {
      write: (b) => {
        out += b.toString('latin1');
      },
      onData: (l) => {
        listener = l;
      },
    },
    s,
  );
  sim.start();
  return {
    sim,
    send(text: string) {
      out = '';
      listener(Buffer.from(text, 'latin1'));
      return out;
    },
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('Rad Pro simulator line discipline (§2.2, §2.6)', () => {
  it('answers at \\r, \\n or \\r\\n, once; drops control bytes; ERROR for unknown and bad SET', () => {
    vi.useFakeTimers({ now: START });
    const { sim, send } = simulatorOnly();
    expect(send('GET tubeSensitivity\r\n')).toBe('OK 108.345\r\n');
    expect(send('GET tubeType\r')).toBe('OK M4011\r\n');
    expect(send('GET deviceTime\n')).toBe(`OK ${START / 1000}\r\n`);
    expect(send('GET tube\x01Type\r\n')).toBe('OK M4011\r\n');
    expect(send('get tubeType\r\n')).toBe('ERROR\r\n');
    expect(send('GET nothing\r\n')).toBe('ERROR\r\n');
    expect(send('SET devicePower 2\r\n')).toBe('ERROR\r\n');
    expect(send('SET deviceTimeZone -5.0\r\nGET deviceTimeZone\r\n')).toBe('OK\r\nOK -5.0\r\n');
    // 63 characters survive and the rest is dropped silently: the trailing `x` never reaches the parser.
    const tz = `SET deviceTimeZone 2.${'0'.repeat(42)}`;
    expect(tz).toHaveLength(63);
    expect(send(`${tz}x\r\n`)).toBe('OK\r\n');
    expect(send(`${tz.slice(0, 62)}x\r\n`)).toBe('ERROR\r\n');
    expect(send('GET deviceTimeZone\r\n')).toBe('OK 2.0\r\n');
    sim.stop();
  });

  it('formats numbers like the firmware: half-up, fixed decimals, no exponent', () => {
    expect(formatFixed(142.8565, 3)).toBe('142.857');
    expect(formatFixed(0.000242, 7)).toBe('0.0002420');
    expect(formatFixed(-5, 1)).toBe('-5.0');
    expect(formatFixed(1e-9, 3)).toBe('0.000');
  });

  it('datalog: two sessions separated by ;;, cumulative counts, start/end/max filters', () => {
    vi.useFakeTimers({ now: START });
    const { sim, send } = simulatorOnly();
    vi.advanceTimersByTime(180_000);
    const all = send('GET datalog\r\n').replace(/\r\n$/, '');
    expect(all.startsWith('OK time,tubePulseCount;;')).toBe(true);
    expect(all.split(';;')).toHaveLength(3); // header + 2 sessions
    const decoded = decodeRadproDatalog(all, 108.345);
    expect(decoded.rejects).toEqual([]);
    expect(decoded.readings).toHaveLength(8);
    expect(decoded.readings.slice(-3).map((r) => r.ts / 1000 - START / 1000)).toEqual([60, 120, 180]);
    const since = send(`GET datalog ${START / 1000 + 100}\r\n`).replace(/\r\n$/, '');
    expect(since.split(';').slice(1)).toHaveLength(1 /* 120 */ + 1 /* 180 */);
    expect(send('GET datalog 0 4294967295 2\r\n').split(';')).toHaveLength(4); // header, '', 2 records
    sim.stop();
  });
});

describe('Rad Pro simulator ↔ session parity', () => {
  it('poll readings and the datalog agree with the simulated physics', async () => {
    vi.useFakeTimers({ now: START });
    const readings: DecodedReading[] = [];
    const rejects: Reject[] = [];
    let toDevice: (chunk: Buffer) => void = () => {};
    const session = radpro.createSession({
      now: () => Date.now(),
      // Replies come back on a later turn, as from a port.
      write: async (b) => void setTimeout(() => toDevice(Buffer.from(b)), 1),
      emit: (r) => readings.push(r),
      reject: (r) => rejects.push(r),
      options: parseSessionOptions(radpro, { poll_interval_ms: 5_000, download_datalog: true }),
      log: { debug() {}, info() {}, warn() {} },
    });
    const sim = createRadproSimulator(
      { write: (b) => setTimeout(() => session.push(b), 1), onData: (l) => (toDevice = l) },
      { ...scenario, events: [{ at_s: 120, duration_s: 120, peak_usvh: 10, shape: 'step' }] },
    );
    sim.start();
    session.start?.();
    await vi.advanceTimersByTimeAsync(300_000);
    session.stop();
    sim.stop();
    expect(rejects).toEqual([]);
    const history = readings.filter((r) => r.ts < START);
    expect(history).toHaveLength(5); // the seeded earlier session
    expect(history[0]?.values).not.toHaveProperty('cpm');
    const live = readings.filter((r) => r.ts >= START);
    expect(live.length).toBeGreaterThanOrEqual(55);
    for (const r of live) {
      expect(r.ts_source).toBe('device');
      expect(r.values.dose_rate).toBeCloseTo((r.values.cpm as number) / 108.345, 9);
      expect(r.values.battery_voltage).toBeCloseTo(1.421, 2);
    }
    const pulses = live.map((r) => r.values.pulse_count as number);
    expect(pulses.every((p, i) => i === 0 || p >= (pulses[i - 1] as number))).toBe(true);
    // Background 0.15 µSv/h before the step; 10 µSv/h well inside it (60-s rate window filled).
    const before = live.filter((r) => r.ts - START < 110_000);
    const during = live.filter((r) => r.ts - START > 190_000 && r.ts - START < 235_000);
    expect(Math.max(...before.map((r) => r.values.dose_rate as number))).toBeLessThan(1);
    expect(Math.min(...during.map((r) => r.values.dose_rate as number))).toBeGreaterThan(7);
  });
});
