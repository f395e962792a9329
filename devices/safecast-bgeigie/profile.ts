import { z } from 'zod';
import type { DeviceProfile } from '../../src/core/profile.ts';
import { createLineSession } from '../../src/sessions/line-session.ts';
import { type BgeigieLogState, decodeBgeigieLog, decodeBgeigieRawLine, LND7317_SENSITIVITY } from './decode.ts';

const OptionsSchema = z.strictObject({
  /** CPM per µSv/h for the LND 7317; default 334 (Safecast). The Safecast API uses 330, CzechRad 328.5. */
  sensitivity: z.number().positive().optional(),
});

/** Safecast bGeigie Nano/Zen (and Mini, classic, NX, CzechRad) streaming one sentence every 5 s. */
export const safecastBgeigie: DeviceProfile<z.output<typeof OptionsSchema>> = {
  id: 'safecast-bgeigie',
  vendor: 'Safecast',
  model: 'bGeigie Nano / Zen / Mini / NX (and CzechRad)',
  kind: 'survey_meter',
  description: 'LND 7317 GPS survey meter: one $BNRDD-style NMEA sentence every 5 s at 9600 8N1; output only.',
  link: { type: 'serial', baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1 },
  channels: [
    { key: 'cpm', unit: 'CPM', label: 'counts in the last 60 s (twelve 5-s bins)', min: 0 },
    { key: 'counts_5s', unit: 'counts', label: 'counts in the newest 5-s bin', min: 0 },
    { key: 'total_counts', unit: 'counts', label: 'counts since power-on', min: 0 },
    // Derived from whole CPM: one count per minute is under 0.01 µSv/h at any GM sensitivity here.
    { key: 'dose_rate', unit: 'uSv/h', label: 'ambient dose rate (CPM / sensitivity)', min: 0, resolution: 0.01 },
    { key: 'latitude', unit: 'deg', label: 'GPS latitude, south negative', min: -90, max: 90 },
    { key: 'longitude', unit: 'deg', label: 'GPS longitude, west negative', min: -180, max: 180 },
    { key: 'gps_valid', unit: 'bool', type: 'boolean', label: 'GPS fix valid (A) or void (V)' },
    { key: 'dead_time_compensated', unit: 'bool', type: 'boolean', label: 'CPM dead-time compensated (log header deadtime=on)' },
  ],
  measurement: 'radiation',
  // One sentence every 5 s: three missed sentences is a silent device.
  staleAfterMs: 15_000,
  defaultSensitivity: LND7317_SENSITIVITY,
  optionsSchema: OptionsSchema,
  decodeFile(bytes, options) {
    // An SD-card log: `# NEW LOG` blocks, dead-time headers, power-loss truncation.
    return decodeBgeigieLog(bytes, { sensitivity: options.sensitivity ?? LND7317_SENSITIVITY });
  },
  createSession(ctx) {
    const state: BgeigieLogState = {};
    const sensitivity = ctx.options.sensitivity ?? LND7317_SENSITIVITY;
    return createLineSession(ctx, {
      delimiter: '\n',
      maxLineBytes: 256,
      decodeLine(line) {
        const results = decodeBgeigieRawLine(line, state, { sensitivity });
        // The line session takes one result per line; a fused line yields several, so all but
        // the last go straight to the context, in order.
        for (const r of results.slice(0, -1)) {
          if ('readings' in r) for (const reading of r.readings) ctx.emit(reading);
          else if ('reject' in r) ctx.reject(r.reject);
        }
        return results.at(-1) ?? { ignored: line };
      },
    });
  },
};
