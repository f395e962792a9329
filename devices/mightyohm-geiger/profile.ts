import { z } from 'zod';
import type { DeviceProfile } from '../../src/core/profile.ts';
import { createLineSession } from '../../src/sessions/line-session.ts';
import { decodeMightyOhmLine, FIRMWARE_SENSITIVITY, type MightyOhmState } from './decode.ts';

const OptionsSchema = z.strictObject({
  /** CPM per µSv/h for the fitted tube; unset keeps the firmware's own SBM-20 conversion. */
  sensitivity: z.number().positive().optional(),
});

export const mightyohmGeiger: DeviceProfile<z.output<typeof OptionsSchema>> = {
  id: 'mightyohm-geiger',
  vendor: 'MightyOhm',
  model: 'Geiger Counter Kit (firmware 1.00)',
  kind: 'dosimeter',
  description: 'SBM-20 kit streaming one ASCII line per second at 9600 8N1; output only.',
  link: { type: 'serial', baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 },
  channels: [
    { key: 'cps', unit: 'CPS', label: 'counts in the last second', min: 0, max: 65535 },
    { key: 'cpm', unit: 'CPM', label: 'counts per minute (60 s ring, or FAST/INST estimate)', min: 0 },
    // The firmware prints the dose rate with two decimals (README.md, line format).
    { key: 'dose_rate', unit: 'uSv/h', label: 'ambient dose rate', min: 0, resolution: 0.01 },
    { key: 'mode', unit: 'enum', type: 'enum', label: 'firmware averaging mode', values: ['SLOW', 'FAST', 'INST'] },
  ],
  measurement: 'radiation',
  staleAfterMs: 5_000,
  defaultSensitivity: FIRMWARE_SENSITIVITY,
  optionsSchema: OptionsSchema,
  createSession(ctx) {
    const state: MightyOhmState = { lines: 0 };
    const sensitivity = ctx.options.sensitivity;
    return createLineSession(ctx, {
      delimiter: '\n',
      maxLineBytes: 128,
      decodeLine: (line) => decodeMightyOhmLine(line, ctx.now(), state, sensitivity),
    });
  },
};
