import type { DeviceSimulator, DoseScenario, SimulatorWire } from '../src/core/simulator.ts';
import { doseRateAt, poisson, seededRandom } from './physics.ts';

/**
 * Rad Pro 3.1.1 on the "Rad Pro simulator" hardware (M4011 tube), from docs/protocols.md §2.2–2.6:
 * a request ends at `\r`, or at `\n` not preceded by `\r`; bytes below 0x20 are dropped; the
 * receive buffer holds 63 characters and silently truncates; keywords are case-sensitive;
 * replies are `OK`, `OK <value>` or `ERROR`, each with `\r\n`. `tick_ms` is one device second:
 * pulses arrive each tick, the datalog records every 60 ticks.
 */

/** Rad Pro's simulated M4011 sensitivity for Cs-137, CPM per µSv/h (§2.5). */
export const M4011_SENSITIVITY = 108.345;
const LOG_INTERVAL_S = 60;
const RATE_WINDOW_S = 60;
const RX_BUFFER_CHARS = 63;
const DEVICE_ID = 'Rad Pro simulator;Rad Pro 3.1.1/en;b5706d937087f975b5812810';

/** Fixed decimals rounded half-up, leading `-` for negatives, never exponent notation (firmware rule). */
export function formatFixed(x: number, decimals: number): string {
  const scale = 10 ** decimals;
  const scaled = Math.floor(Math.abs(x) * scale + 0.5);
  const whole = Math.floor(scaled / scale);
  const frac = decimals > 0 ? `.${String(scaled % scale).padStart(decimals, '0')}` : '';
  return `${x < 0 && scaled > 0 ? '-' : ''}${whole}${frac}`;
}

interface LogRecord {
  time: number;
  count: number;
  /** True for the first record of a logging session. */
  sessionStart: boolean;
}

export function createRadproSimulator(wire: SimulatorWire, scenario: DoseScenario): DeviceSimulator {
  const random = seededRandom(scenario.seed);
  const window: number[] = [];
  const log: LogRecord[] = [];
  let rx = '';
  let lastWasCr = false;
  let timer: NodeJS.Timeout | undefined;
  let seconds = 0;
  let deviceTime = 0;
  let timeZone = 1;
  let power = 1;
  let pulseCount = 0;
  let nextSessionStart = true;

  const u32 = (n: number) => n >>> 0;
  const tubeRate = () => (window.length === 0 ? 0 : (window.reduce((a, b) => a + b, 0) * 60) / window.length);

  function tick(): void {
    seconds += 1;
    deviceTime = u32(deviceTime + 1);
    const pulses = poisson((doseRateAt(scenario, seconds) * M4011_SENSITIVITY) / 60, random);
    pulseCount = u32(pulseCount + pulses);
    window.push(pulses);
    if (window.length > RATE_WINDOW_S) window.shift();
    if (seconds % LOG_INTERVAL_S === 0) writeLogRecord();
  }

  function writeLogRecord(): void {
    log.push({ time: deviceTime, count: pulseCount, sessionStart: nextSessionStart });
    nextSessionStart = false;
  }

  /** An earlier logging session, so a datalog download has two sessions to separate. */
  function seedHistory(start: number): void {
    let count = 1000 + Math.floor(random() * 1000);
    for (let i = 0; i < 5; i += 1) {
      count += poisson(scenario.background_usvh * M4011_SENSITIVITY, random);
      log.push({ time: start - 3600 + i * LOG_INTERVAL_S, count, sessionStart: i === 0 });
    }
    pulseCount = count + 17; // pulses counted while not logging
  }

  function datalog(args: string[]): string | undefined {
    const nums = args.map((a) => (/^\d{1,10}$/.test(a) ? Number(a) : Number.NaN));
    if (nums.some((n) => Number.isNaN(n))) return undefined;
    const [from = 0, to = 0xffff_ffff, max = 0xffff_ffff] = nums;
    let out = 'OK time,tubePulseCount';
    let n = 0;
    for (const r of log) {
      if (r.time < from || r.time > to || n >= max) continue;
      out += `${r.sessionStart ? ';' : ''};${r.time},${r.count}`;
      n += 1;
    }
    return out;
  }

  const getters: Record<string, () => string> = {
    deviceId: () => DEVICE_ID,
    devicePower: () => String(power),
    deviceBatteryVoltage: () => formatFixed(1.421 - seconds * 1e-6, 3),
    deviceTime: () => String(deviceTime),
    deviceTimeZone: () => formatFixed(timeZone, 1),
    tubeType: () => 'M4011',
    tubeTime: () => String(16000 + seconds),
    tubePulseCount: () => String(pulseCount),
    tubeRate: () => formatFixed(tubeRate(), 3),
    tubeSensitivity: () => formatFixed(M4011_SENSITIVITY, 3),
    tubeDeadTime: () => formatFixed(0.000242, 7),
    tubeDeadTimeCompensation: () => formatFixed(0, 7),
  };

  /** One request line in, the reply without CRLF out; undefined means ERROR. */
  function answer(line: string): string | undefined {
    const [verb, key, ...args] = line.split(' ').filter((t) => t !== '');
    if (verb === 'GET' && key === 'datalog') return datalog(args);
    if (verb === 'GET' && key !== undefined && args.length === 0) {
      const get = getters[key];
      return get ? `OK ${get()}` : undefined;
    }
    if (verb === 'RESET' && key === 'datalog' && args.length === 0) {
      log.length = 0;
      nextSessionStart = true;
      return 'OK';
    }
    if (verb === 'SET' && args.length === 1) return set(key, args[0] as string);
    return undefined;
  }

  function set(key: string | undefined, value: string): string | undefined {
    if (key === 'deviceTime' && /^\d{1,10}$/.test(value) && Number(value) <= 0xffff_ffff) {
      deviceTime = Number(value);
      nextSessionStart = true; // the firmware marks a time change in the datalog
      return 'OK';
    }
    if (key === 'deviceTimeZone' && /^-?\d+(\.\d+)?$/.test(value) && Math.abs(Number(value)) <= 14) {
      timeZone = Number(value);
      return 'OK';
    }
    if (key === 'devicePower' && (value === '0' || value === '1')) {
      power = Number(value);
      return 'OK';
    }
    if (key === 'tubePulseCount' && /^\d{1,10}$/.test(value) && Number(value) <= 0xffff_ffff) {
      pulseCount = Number(value);
      return 'OK';
    }
    return undefined;
  }

  function receive(chunk: Buffer): void {
    for (const byte of chunk) {
      const crlfTail = byte === 0x0a && lastWasCr;
      lastWasCr = byte === 0x0d;
      if (byte === 0x0d || (byte === 0x0a && !crlfTail)) {
        const reply = answer(rx);
        rx = '';
        wire.write(Buffer.from(`${reply ?? 'ERROR'}\r\n`, 'latin1'));
      } else if (byte >= 0x20 && rx.length < RX_BUFFER_CHARS) rx += String.fromCharCode(byte);
    }
  }

  return {
    start() {
      if (timer) return;
      deviceTime = Math.floor(Date.now() / 1000);
      seedHistory(deviceTime);
      wire.onData(receive);
      timer = setInterval(tick, scenario.tick_ms);
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}
