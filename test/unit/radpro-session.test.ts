import { afterEach, describe, expect, it, vi } from 'vitest';
import { radpro } from '../../devices/radpro/profile.ts';
import type { Reject } from '../../src/core/errors.ts';
import { type DeviceSession, parseSessionOptions } from '../../src/core/profile.ts';
import type { DecodedReading } from '../../src/core/reading.ts';

/**
 * The Rad Pro session against a scripted device: replies are split into awkward chunks and
 * arrive a few ms after each request, on fake timers.
 */

const DEVICE_TIME = 1_700_000_000;

type Script = Record<string, string | undefined>;

function scriptedDevice(script: Script, options: Record<string, unknown> = {}, chunk = 3) {
  const readings: DecodedReading[] = [];
  const rejects: Reject[] = [];
  const sent: string[] = [];
  let session: DeviceSession | undefined;
  const ctx: Parameters<typeof radpro.createSession>[0] = {
    now: () => Date.now(),
    async write(bytes) {
      const text = bytes.toString();
      sent.push(text);
      const reply = script[text.replace(/\r\n$/, '')];
      if (reply === undefined) return; // silent device
      const buf = Buffer.from(reply, 'latin1');
      for (let i = 0; i < buf.length; i += chunk) {
        const part = buf.subarray(i, i + chunk);
        setTimeout(() => session?.push(part), 2 + i);
      }
    },
    emit: (r) => readings.push(r),
    reject: (r) => rejects.push(r),
    options: parseSessionOptions(radpro, options),
    log: { debug() {}, info() {}, warn() {} },
  };
  session = radpro.createSession(ctx);
  return { session, readings, rejects, sent };
}

const healthy: Script = {
  'GET deviceId': 'OK FS2011 (STM32F051C8);Rad Pro 3.1.1/en;b5706d937087f975b5812810\r\n',
  'GET tubeRate': 'OK 142.857\r\n',
  'GET tubePulseCount': 'OK 1500\r\n',
  'GET deviceTime': `OK ${DEVICE_TIME}\r\n`,
  'GET deviceBatteryVoltage': 'OK 1.421\r\n',
  'GET tubeSensitivity': 'OK 153.800\r\n',
  'GET datalog': 'OK time,tubePulseCount;;1690000000,1542;1690000060,1618;1690000120,1693\r\n',
};

afterEach(() => {
  vi.useRealTimers();
});

describe('Rad Pro session', () => {
  it('polls the five values, read-only, and emits one reading per cycle', async () => {
    vi.useFakeTimers({ now: 1_800_000_000_000 });
    const { session, readings, rejects, sent } = scriptedDevice(healthy, { poll_interval_ms: 2000 });
    session.start?.();
    await vi.advanceTimersByTimeAsync(4_500);
    session.stop();
    expect(rejects).toEqual([]);
    expect(sent.slice(0, 6)).toEqual([
      'GET deviceId\r\n',
      'GET tubeRate\r\n',
      'GET tubePulseCount\r\n',
      'GET deviceTime\r\n',
      'GET deviceBatteryVoltage\r\n',
      'GET tubeSensitivity\r\n',
    ]);
    expect(sent.some((s) => !s.startsWith('GET '))).toBe(false);
    expect(readings).toHaveLength(3);
    expect(readings[0]).toEqual({
      ts: DEVICE_TIME * 1000,
      ts_source: 'device',
      quality: 'good',
      values: { cpm: 142.857, dose_rate: 142.857 / 153.8, pulse_count: 1500, battery_voltage: 1.421 },
    });
  });

  it('treats ERROR as unsupported: the reading goes out without that value', async () => {
    vi.useFakeTimers({ now: 0 });
    const { session, readings, rejects } = scriptedDevice({ ...healthy, 'GET deviceBatteryVoltage': 'ERROR\r\n' });
    session.start?.();
    await vi.advanceTimersByTimeAsync(500);
    session.stop();
    expect(rejects).toEqual([]);
    expect(readings[0]?.values).toEqual({ cpm: 142.857, dose_rate: 142.857 / 153.8, pulse_count: 1500 });
  });

  it('a silent device gives RS_ERR_DEVICE_TIMEOUT and the session recovers when it answers again', async () => {
    vi.useFakeTimers({ now: 0 });
    const script: Script = { ...healthy, 'GET tubeRate': undefined };
    const { session, readings, rejects } = scriptedDevice(script, { timeout_ms: 300, poll_interval_ms: 1000 });
    session.start?.();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(readings).toHaveLength(0);
    expect(rejects.map((r) => r.code)).toEqual(['RS_ERR_DEVICE_TIMEOUT']);
    expect(rejects[0]?.message).toBe('GET tubeRate: no reply within 300 ms');
    script['GET tubeRate'] = 'OK 10.000\r\n';
    await vi.advanceTimersByTimeAsync(1_500);
    session.stop();
    expect(readings.length).toBeGreaterThanOrEqual(1);
    expect(readings[0]?.values.cpm).toBe(10);
  });

  it('downloads the datalog with the reported sensitivity when asked, and SETs the clock only when asked', async () => {
    vi.useFakeTimers({ now: 1_800_000_000_000 });
    const { session, readings, sent } = scriptedDevice(
      { ...healthy, 'SET deviceTime 1800000000': 'OK\r\n' },
      { download_datalog: true, set_device_time: true },
      2,
    );
    session.start?.();
    await vi.advanceTimersByTimeAsync(1_000);
    session.stop();
    expect(sent.slice(0, 4)).toEqual(['GET deviceId\r\n', 'SET deviceTime 1800000000\r\n', 'GET tubeSensitivity\r\n', 'GET datalog\r\n']);
    expect(readings.slice(0, 3).map((r) => [r.ts / 1000, r.values.cpm])).toEqual([
      [1690000000, undefined],
      [1690000060, 76],
      [1690000120, 75],
    ]);
    expect(readings[1]?.values.dose_rate).toBeCloseTo(0.4941, 4);
  });

  it('garbage replies are rejects, not crashes; unsolicited bytes are dropped', async () => {
    vi.useFakeTimers({ now: 0 });
    const { session, readings, rejects } = scriptedDevice({ ...healthy, 'GET tubePulseCount': 'OK lots\r\n', 'GET deviceId': 'HELLO\r\n' });
    session.start?.();
    await vi.advanceTimersByTimeAsync(500);
    session.push(Buffer.from('OK 1\r\n'));
    session.stop();
    expect(rejects.map((r) => r.code)).toEqual(['RS_ERR_FRAME_SYNTAX', 'RS_ERR_FRAME_SYNTAX']);
    expect(rejects[0]?.message).toBe('not an OK/ERROR reply: "HELLO"');
    expect(rejects[1]?.message).toBe('GET tubePulseCount: not a number "lots"');
    expect(readings[0]?.values).not.toHaveProperty('pulse_count');
  });

  it('rejects bad options', () => {
    expect(radpro.optionsSchema?.safeParse({ poll_interval_ms: 10 }).success).toBe(false);
    expect(radpro.optionsSchema?.safeParse({ tube: 'M4011' }).success).toBe(false); // strict: unknown keys are errors
    expect(radpro.optionsSchema?.safeParse({ sensitivity: -1 }).success).toBe(false);
  });
});
