import { reject } from '../../src/core/errors.ts';
import type { LineResult } from '../../src/sessions/line-session.ts';

/**
 * MightyOhm Geiger kit, firmware 1.00 (docs/protocols.md §4):
 * `CPS, <cps>, CPM, <cpm>, uSv/hr, <int>.<frac2>, <SLOW|FAST|INST>` once a second.
 */
const LINE = /^CPS, (\d{1,5}), CPM, (\d{1,7}), uSv\/hr, (\d{1,6})\.(\d{2}), (SLOW|FAST|INST)$/;

/** Banners of firmware 1.00 and its forks, and `#` comment lines: not data, not errors. */
const BANNER = /^(mightyohm\.com Geiger Counter|http:\/\/mightyohm\.com|LVA Geiger Counter|#)/;

/** The firmware's fixed SCALE_FACTOR: µSv/h = floor(CPM × 57 / 100) / 100 (S ≈ 175.4). */
export const FIRMWARE_SENSITIVITY = 10_000 / 57;

/** The first 60 lines after power-on ramp up (the CPM ring is still filling): suspect. */
export const WARMUP_LINES = 60;

export interface MightyOhmState {
  /** Lines decoded since this session began. */
  lines: number;
}

/**
 * Decodes one line. `sensitivity` (CPM per µSv/h), when configured, replaces the firmware's
 * fixed conversion; otherwise the device's printed dose rate is kept as it is.
 */
export function decodeMightyOhmLine(line: string, receivedAt: number, state: MightyOhmState, sensitivity?: number): LineResult {
  const m = LINE.exec(line);
  if (!m) {
    if (BANNER.test(line)) return { ignored: line };
    if (line.startsWith('CPS'))
      return {
        reject: reject('RS_ERR_FRAME_SYNTAX', `malformed data line: ${JSON.stringify(line.slice(0, 80))}`, Buffer.from(line, 'latin1')),
      };
    return {
      reject: reject('RS_ERR_FRAME_UNKNOWN', `not a MightyOhm line: ${JSON.stringify(line.slice(0, 80))}`, Buffer.from(line, 'latin1')),
    };
  }
  const [, cpsText, cpmText, intText, fracText, mode] = m as unknown as [string, string, string, string, string, string];
  const cps = Number(cpsText);
  const cpm = Number(cpmText);
  if (cps > 65535) return { reject: reject('RS_ERR_FRAME_RANGE', `CPS ${cps} exceeds the firmware's 16-bit counter`) };
  const printed = Number(intText) + Number(fracText) / 100;
  const doseRate = sensitivity ? cpm / sensitivity : printed;
  state.lines += 1;
  return {
    readings: [
      {
        ts: receivedAt,
        ts_source: 'agent',
        values: { cps, cpm, dose_rate: doseRate, mode },
        quality: state.lines <= WARMUP_LINES && mode === 'SLOW' ? 'suspect' : 'good',
      },
    ],
  };
}
