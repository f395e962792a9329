import type { Reject } from '../../src/core/errors.ts';
import { reject } from '../../src/core/errors.ts';
import type { DecodedReading } from '../../src/core/reading.ts';
import { convert } from '../../src/core/units.ts';
import type { LineResult } from '../../src/sessions/line-session.ts';

/**
 * Rad Pro replies (docs/protocols.md §2.2–2.3): `OK`, `OK <value>` or `ERROR`, one line each.
 * Pure: the session decides what was asked; these functions only read what came back.
 */

/** `ERROR` means "unsupported here" (older firmware, other hardware); it is not a fault. */
export type RadproReply = { ok: true; value: string } | { ok: false } | { reject: Reject };

/** A device clock before this is an unset RTC (Rad Pro resets to its build date on some boards). */
export const EARLIEST_PLAUSIBLE_DEVICE_TIME_S = Date.UTC(2020, 0, 1) / 1000;

const NUMBER = /^-?\d+(\.\d+)?$/;
const UINT32 = /^\d{1,10}$/;

/** Reads one reply line (without its CRLF). Anything but `OK…`/`ERROR` is RS_ERR_FRAME_SYNTAX. */
export function parseRadproReply(line: string): RadproReply {
  if (line === 'ERROR') return { ok: false };
  if (line === 'OK') return { ok: true, value: '' };
  if (line.startsWith('OK ')) return { ok: true, value: line.slice(3) };
  return {
    reject: reject('RS_ERR_FRAME_SYNTAX', `not an OK/ERROR reply: ${JSON.stringify(line.slice(0, 80))}`, Buffer.from(line, 'latin1')),
  };
}

/** A fixed-decimal number as Rad Pro prints it (`%.3f`…, never exponent notation), or undefined. */
export function parseRadproNumber(value: string): number | undefined {
  return NUMBER.test(value) ? Number(value) : undefined;
}

/** An unsigned 32-bit integer (`tubePulseCount`, `deviceTime`), or undefined. */
export function parseRadproUint32(value: string): number | undefined {
  if (!UINT32.test(value)) return undefined;
  const n = Number(value);
  return n <= 0xffff_ffff ? n : undefined;
}

/** What one poll cycle read from the device; undefined where the device said ERROR or nothing. */
export interface RadproSample {
  /** `GET tubeRate`: instantaneous rate, CPM. */
  tubeRate: number;
  /** `GET tubePulseCount`: lifetime pulses, wraps at 2^32. */
  pulseCount?: number | undefined;
  /** `GET deviceTime`: device RTC, UNIX seconds. */
  deviceTime?: number | undefined;
  /** `GET deviceBatteryVoltage`: volts (all cells). */
  batteryVoltage?: number | undefined;
  /** `GET tubeSensitivity`: CPM per µSv/h, source correction included. */
  sensitivity?: number | undefined;
}

/**
 * One poll cycle into one reading. `ts` is the device clock when it reports a plausible one,
 * else `receivedAt` (agent time). Without a sensitivity there is no dose rate: we never guess
 * one from the tube name (the 3.1.1 firmware even reports shifted names).
 *
 * Channels: `cpm` CPM, `dose_rate` µSv/h, `pulse_count` counts, `battery_voltage` V.
 */
export function composeRadproReading(sample: RadproSample, receivedAt: number): LineResult {
  if (!(sample.tubeRate >= 0)) return { reject: reject('RS_ERR_FRAME_RANGE', `tube rate ${sample.tubeRate} CPM is negative`) };
  const values: DecodedReading['values'] = { cpm: sample.tubeRate };
  if (sample.sensitivity !== undefined) values.dose_rate = convert.cpmToUSvh(sample.tubeRate, sample.sensitivity);
  if (sample.pulseCount !== undefined) values.pulse_count = sample.pulseCount;
  if (sample.batteryVoltage !== undefined) values.battery_voltage = sample.batteryVoltage;
  const deviceClock = sample.deviceTime !== undefined && sample.deviceTime >= EARLIEST_PLAUSIBLE_DEVICE_TIME_S;
  return {
    readings: [
      {
        ts: deviceClock ? (sample.deviceTime as number) * 1000 : receivedAt,
        ts_source: deviceClock ? 'device' : 'agent',
        values,
        quality: 'good',
      },
    ],
  };
}
