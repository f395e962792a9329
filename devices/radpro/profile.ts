import { z } from 'zod';
import type { DeviceProfile } from '../../src/core/profile.ts';
import { decodeRadproDatalog } from './datalog.ts';
import { createRadproSession } from './session.ts';

// Config keys are snake_case like every other key in the station config.
const OptionsSchema = z.strictObject({
  /** ms between poll cycles (tubeRate updates once a second on the device). */
  poll_interval_ms: z.number().int().min(250).max(3_600_000).default(2_000),
  /** ms from a request until its reply line must be complete (RS_ERR_DEVICE_TIMEOUT). */
  timeout_ms: z.number().int().min(50).max(60_000).default(1_000),
  /** ms allowed for the whole datalog reply (at 115200 baud roughly 1 s per 600 records). */
  datalog_timeout_ms: z.number().int().min(1_000).max(3_600_000).default(300_000),
  /** Download the datalog once when the port opens. */
  download_datalog: z.boolean().default(false),
  /** With download_datalog: only records from this UNIX second on. */
  datalog_since: z.number().int().nonnegative().max(0xffff_ffff).optional(),
  /** Write the agent's clock to the device at start. Off by default: the agent is read-only. */
  set_device_time: z.boolean().default(false),
  /**
   * CPM per µSv/h for a stored datalog (`decode --stored`), where no device is there to ask;
   * live sessions always use the sensitivity the device reports.
   */
  sensitivity: z.number().positive().optional(),
});

/** Any dosimeter running Rad Pro 2.x/3.x firmware (FS2011, FS-600/1000/5000, GC-01/03, GMC-800, …). */
export const radpro: DeviceProfile<z.output<typeof OptionsSchema>> = {
  id: 'radpro',
  vendor: 'Gissio',
  model: 'Rad Pro firmware 2.x/3.x (FS2011, Bosean FS-x, FNIRSI GC-0x, GQ GMC-800)',
  kind: 'dosimeter',
  description: 'GM dosimeter polled with ASCII GET/OK requests at 115200 8N1; optional datalog download.',
  link: { type: 'serial', baudRate: 115200, dataBits: 8, parity: 'none', stopBits: 1 },
  channels: [
    { key: 'cpm', unit: 'CPM', label: 'tube rate (live: GET tubeRate; datalog: Δcount × 60 / Δt)', min: 0 },
    // Derived from whole CPM: one count per minute is under 0.01 µSv/h at any GM sensitivity here.
    { key: 'dose_rate', unit: 'uSv/h', label: 'ambient dose rate (CPM / the sensitivity the device reports)', min: 0, resolution: 0.01 },
    { key: 'pulse_count', unit: 'counts', label: 'lifetime tube pulse count (wraps at 2^32)', min: 0, max: 0xffff_ffff },
    { key: 'battery_voltage', unit: 'V', label: 'battery voltage (all cells)', min: 0, max: 20 },
  ],
  measurement: 'radiation',
  staleAfterMs: 10_000,
  // No battery_low_v default: the firmware runs on one-cell (1.2–1.5 V), two-cell and Li-ion (3.7 V)
  // hardware and reports the voltage of all cells, so only the station knows its cut-off
  // (alarms.devices.<id>.battery_low_v). A wrong default would alarm all shift or never.
  // No default: the dose rate always uses GET tubeSensitivity (Rad Pro M4011 simulated value is 108.345).
  optionsSchema: OptionsSchema,
  createSession(ctx) {
    const o = ctx.options;
    return createRadproSession(ctx, {
      pollIntervalMs: o.poll_interval_ms,
      timeoutMs: o.timeout_ms,
      datalogTimeoutMs: o.datalog_timeout_ms,
      downloadDatalog: o.download_datalog,
      datalogSince: o.datalog_since,
      setDeviceTime: o.set_device_time,
    });
  },
  decodeFile(bytes, options) {
    // A saved `GET datalog` reply: `OK time,tubePulseCount;…` on one line.
    return decodeRadproDatalog(bytes.toString('latin1').trim(), options.sensitivity);
  },
};
