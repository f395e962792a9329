import { z } from 'zod';
import type { DeviceProfile } from '../../src/core/profile.ts';
import { createRadiacodeSession } from './session.ts';

// Config keys are snake_case like every other key in the station config.
const OptionsSchema = z.strictObject({
  /** ms between DATA_BUF reads; the device logs a RealTimeData record about once a second. */
  poll_interval_ms: z.number().int().min(250).max(60_000).default(1_000),
  /** s between reads of the accumulated spectrum (summary channels); 0 turns spectrum reads off. */
  spectrum_interval_s: z.number().int().min(0).max(86_400).default(30),
  /** ms from a request until its whole reply must be in (RS_ERR_DEVICE_TIMEOUT). */
  timeout_ms: z.number().int().min(50).max(60_000).default(1_000),
});

/** RadiaCode 101/102/103 (and 110): CsI(Tl) scintillation spectrometer-dosimeter, 1024 channels. */
export const radiacode: DeviceProfile<z.output<typeof OptionsSchema>> = {
  id: 'radiacode',
  vendor: 'Radiacode',
  model: 'RadiaCode-101/102/103 (firmware ≥ 4.8)',
  kind: 'dosimeter',
  description:
    'CsI(Tl) spectrometer-dosimeter: length-prefixed request/response frames (USB bulk on the real device, a byte stream here); DATA_BUF and spectrum reads.',
  // The real device is a USB bulk device, not a serial port (README.md §1): the baud rate only
  // matters for the simulator's pty and any USB-to-stream bridge.
  link: { type: 'serial', baudRate: 115200, dataBits: 8, parity: 'none', stopBits: 1 },
  channels: [
    { key: 'cps', unit: 'CPS', label: 'count rate (RealTimeData)', min: 0, max: 1e6 },
    // The device sends an f32 with no fixed step; 0.01 µSv/h is the step radscreen shows (docs/console.md).
    { key: 'dose_rate', unit: 'uSv/h', label: 'ambient dose rate (RealTimeData × 10 000)', min: 0, max: 1e5, resolution: 0.01 },
    { key: 'dose', unit: 'uSv', label: 'accumulated dose since the last reset (RareData × 10 000)', min: 0 },
    { key: 'temperature', unit: 'degC', label: 'detector temperature (RareData)', min: -40, max: 85 },
    { key: 'battery_level', unit: '%', label: 'battery charge (RareData)', min: 0, max: 100 },
    { key: 'spectrum_counts', unit: 'counts', label: 'total counts of the spectrum since its reset', min: 0 },
    { key: 'spectrum_live_time', unit: 's', label: 'accumulation time of that spectrum', min: 0 },
    { key: 'spectrum_channels', unit: 'channels', label: 'channels of that spectrum', min: 0, max: 16_384 },
  ],
  measurement: 'radiation',
  staleAfterMs: 10_000,
  optionsSchema: OptionsSchema,
  createSession(ctx) {
    const o = ctx.options;
    return createRadiacodeSession(ctx, {
      pollIntervalMs: o.poll_interval_ms,
      spectrumIntervalMs: o.spectrum_interval_s * 1000,
      timeoutMs: o.timeout_ms,
    });
  },
};
