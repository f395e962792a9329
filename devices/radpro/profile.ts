import { z } from 'zod';
import type { DeviceProfile } from '../../src/core/profile.ts';
import { createRadproSession } from './session.ts';

const OptionsSchema = z.strictObject({
  /** ms between poll cycles (tubeRate updates once a second on the device). */
  pollIntervalMs: z.number().int().min(250).max(3_600_000).default(2_000),
  /** ms from a request until its reply line must be complete (RS_ERR_DEVICE_TIMEOUT). */
  timeoutMs: z.number().int().min(50).max(60_000).default(1_000),
  /** ms allowed for the whole datalog reply (at 115200 baud roughly 1 s per 600 records). */
  datalogTimeoutMs: z.number().int().min(1_000).max(3_600_000).default(300_000),
  /** Download the datalog once when the port opens. */
  downloadDatalog: z.boolean().default(false),
  /** With downloadDatalog: only records from this UNIX second on. */
  datalogSince: z.number().int().nonnegative().max(0xffff_ffff).optional(),
  /** Write the agent's clock to the device at start. Off by default: the agent is read-only. */
  setDeviceTime: z.boolean().default(false),
});

/** Any dosimeter running Rad Pro 2.x/3.x firmware (FS2011, FS-600/1000/5000, GC-01/03, GMC-800, …). */
export const radpro: DeviceProfile = {
  id: 'radpro',
  vendor: 'Gissio',
  model: 'Rad Pro firmware 2.x/3.x (FS2011, Bosean FS-x, FNIRSI GC-0x, GQ GMC-800)',
  kind: 'dosimeter',
  description: 'GM dosimeter polled with ASCII GET/OK requests at 115200 8N1; optional datalog download.',
  link: { type: 'serial', baudRate: 115200, dataBits: 8, parity: 'none', stopBits: 1 },
  channels: [
    { key: 'cpm', unit: 'CPM', label: 'tube rate (live: GET tubeRate; datalog: Δcount × 60 / Δt)', min: 0 },
    { key: 'dose_rate', unit: 'uSv/h', label: 'ambient dose rate (CPM / the sensitivity the device reports)', min: 0 },
    { key: 'pulse_count', unit: 'counts', label: 'lifetime tube pulse count (wraps at 2^32)', min: 0, max: 0xffff_ffff },
    { key: 'battery_voltage', unit: 'V', label: 'battery voltage (all cells)', min: 0, max: 20 },
  ],
  measurement: 'radiation',
  staleAfterMs: 10_000,
  // No default: the dose rate always uses GET tubeSensitivity (Rad Pro M4011 simulated value is 108.345).
  optionsSchema: OptionsSchema,
  createSession(ctx) {
    const o = OptionsSchema.parse(ctx.options);
    return createRadproSession(ctx, o);
  },
};
