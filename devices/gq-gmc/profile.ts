import { z } from 'zod';
import type { DeviceProfile } from '../../src/core/profile.ts';
import { isTimeZone } from './decode-clock.ts';
import { decodeHistory, historyToReadings } from './decode-history.ts';
import { M4011_SENSITIVITY, SERIES } from './models.ts';
import { createGqGmcSession, type GqGmcOptions } from './session.ts';

/** The zone the agent host runs in: where a station's GQ unit usually has its clock set. */
function hostTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** Per-device options of a GQ GMC entry in the station config. */
export const GqGmcOptionsSchema = z.strictObject({
  /** Protocol series; `auto` reads it from `<GETVER>>` and retries until the unit answers. */
  model: z.enum(['auto', ...SERIES]).default('auto'),
  /** `poll` asks GETCPM/GETCPS; `heartbeat` switches the unit to its once-a-second CPS stream. */
  mode: z.enum(['poll', 'heartbeat']).default('poll'),
  /** Seconds between polls; at most 10 so the profile's 15 s staleness window holds. */
  poll_interval_s: z.number().min(0.2).max(10).default(1),
  /** ms one request may take before it is rejected with RS_ERR_DEVICE_TIMEOUT (GeigerLog: 300–1000). */
  request_timeout_ms: z.number().int().min(50).max(10_000).default(1000),
  /** IANA zone of the device's clock (GQ clocks have none); defaults to the agent host's zone. */
  timezone: z.string().refine(isTimeZone, 'expected an IANA time-zone name such as Europe/Berlin or UTC').default(hostTimeZone),
  /**
   * CPM per µSv/h, used when the unit's GETCFG holds no usable calibration points; the model's
   * factory value (docs/protocols.md §1.8) applies when this is unset too.
   */
  sensitivity: z.number().positive().max(100_000).optional(),
});

/** GQ Electronics GMC-300/320/500/600/800 over USB serial (GQ-RFC1201 / GQ-RFC1801). */
export const gqGmc: DeviceProfile<GqGmcOptions> = {
  id: 'gq-gmc',
  vendor: 'GQ Electronics',
  model: 'GMC-300/320/500/600/800',
  kind: 'dosimeter',
  description: 'GQ GMC Geiger counters: binary request/response (<GETCPM>> …) or heartbeat CPS stream at 115200 8N1.',
  // 115200 is the factory default of the 300 Plus fw 4.xx, 320, 500, 600 and 800; old 300s and
  // the 300S/320S run at 57600, and any unit may have been set otherwise: config overrides it.
  link: { type: 'serial', baudRate: 115200, dataBits: 8, parity: 'none', stopBits: 1 },
  channels: [
    { key: 'cpm', unit: 'CPM', label: 'counts in the last minute (device, or the sum of 60 heartbeats)', min: 0, max: 4_294_967_295 },
    { key: 'cps', unit: 'CPS', label: 'counts in the last second (14 bits on the 300 series)', min: 0, max: 4_294_967_295 },
    // Derived from whole CPM: one count per minute is under 0.01 µSv/h at any GM sensitivity here.
    { key: 'dose_rate', unit: 'uSv/h', label: 'ambient dose rate from CPM and the calibration in use', min: 0, resolution: 0.01 },
    { key: 'battery_voltage', unit: 'V', label: 'battery voltage (GETVOLT; none on the GMC-800)', min: 0, max: 25.5 },
    { key: 'clock_offset', unit: 's', label: 'device clock minus agent clock, device zone applied' },
  ],
  measurement: 'radiation',
  staleAfterMs: 15_000,
  defaultSensitivity: M4011_SENSITIVITY,
  // One Li-ion cell: 3.5 V leaves about 10 % of charge.
  alarmDefaults: { battery_low_v: 3.5 },
  optionsSchema: GqGmcOptionsSchema,
  createSession(ctx) {
    return createGqGmcSession(ctx, ctx.options);
  },
  decodeFile(bytes, options) {
    // A history flash dump (`<SPIR…>>` bytes, or GeigerLog's .bin) stamped by the device clock.
    const sensitivity = options.sensitivity ?? M4011_SENSITIVITY;
    const history = decodeHistory(bytes, { timeZone: options.timezone });
    return { readings: historyToReadings(history.samples, (cpm) => cpm / sensitivity), rejects: history.rejects };
  },
};
