import { type Reject, reject } from '../../src/core/errors.ts';

/**
 * The spectrum virtual strings SPECTRUM (0x200, since the last reset) and SPEC_ACCUM (0x205),
 * README.md §4: `u32 duration s`, `f32 a0, a1, a2` (E keV = a0 + a1·ch + a2·ch²), then the counts,
 * in format 0 (u32 per channel) or format 1 (run-length groups of deltas), whichever the device's
 * CONFIGURATION names as `SpecFormatVersion`.
 *
 * The result has the field names of the canonical spectrum (src/spectra/spectrum.ts) so a later
 * stage can identify it; devices/ may not import src/spectra (docs/ARCHITECTURE.md), so the shape
 * is restated here rather than imported.
 */
export interface RadiacodeSpectrum {
  channels: number;
  counts: number[];
  /** Ascending polynomial coefficients [a0, a1, a2], keV. */
  calibration: number[];
  /** Seconds the spectrum has been accumulating (the device's only time for it). */
  live_time_s: number;
}

/** Most channels accepted (RadiaCode sends 1024); bounds the work a garbage frame can cause. */
const MAX_CHANNELS = 16_384;

/** Format 1: `u16` group headers (count = bits 4–15, width code = bits 0–3), then `count` values. */
function decodeCompressed(data: Buffer, at: number): number[] | Reject {
  const counts: number[] = [];
  let last = 0;
  while (at < data.length) {
    if (data.length - at < 2) return reject('RS_ERR_FRAME_TRUNCATED', 'spectrum: group header cut short', data.subarray(at));
    const header = data.readUInt16LE(at);
    at += 2;
    const n = header >> 4;
    const code = header & 0x0f;
    const width = [0, 1, 1, 2, 3, 4][code];
    if (width === undefined)
      return reject('RS_ERR_FRAME_SYNTAX', `spectrum: unknown value width code ${code}`, data.subarray(at - 2, at + 30));
    if (data.length - at < n * width)
      return reject('RS_ERR_FRAME_TRUNCATED', `spectrum: group of ${n} values cut short`, data.subarray(at - 2));
    if (counts.length + n > MAX_CHANNELS) return reject('RS_ERR_FRAME_OVERSIZE', `spectrum: more than ${MAX_CHANNELS} channels`);
    for (let i = 0; i < n; i++) {
      let v: number;
      if (code === 0) v = 0;
      else if (code === 1) v = data.readUInt8(at);
      else if (code === 2) v = last + data.readInt8(at);
      else if (code === 3) v = last + data.readInt16LE(at);
      else if (code === 4) v = last + data.readIntLE(at, 3);
      else v = last + data.readInt32LE(at);
      at += width;
      if (v < 0) return reject('RS_ERR_FRAME_RANGE', `spectrum: channel ${counts.length} decodes to ${v} counts`);
      counts.push(v);
      last = v;
    }
  }
  return counts;
}

/** Decodes one spectrum virtual string; `format` is the device's SpecFormatVersion (0 or 1). */
export function decodeSpectrum(data: Buffer, format: number): RadiacodeSpectrum | Reject {
  if (data.length < 16) return reject('RS_ERR_FRAME_TRUNCATED', `spectrum: ${data.length} bytes, header needs 16`, data);
  const duration = data.readUInt32LE(0);
  const calibration = [data.readFloatLE(4), data.readFloatLE(8), data.readFloatLE(12)].map((c) => Number(c.toPrecision(7)));
  if (!calibration.every(Number.isFinite))
    return reject('RS_ERR_FRAME_RANGE', `spectrum: calibration ${calibration.join(', ')}`, data.subarray(0, 16));
  let counts: number[] | Reject;
  if (format === 0) {
    if ((data.length - 16) % 4 !== 0)
      return reject('RS_ERR_FRAME_TRUNCATED', `spectrum: ${data.length - 16} count bytes is not whole u32s`);
    if ((data.length - 16) / 4 > MAX_CHANNELS) return reject('RS_ERR_FRAME_OVERSIZE', `spectrum: more than ${MAX_CHANNELS} channels`);
    counts = [];
    for (let at = 16; at < data.length; at += 4) counts.push(data.readUInt32LE(at));
  } else if (format === 1) counts = decodeCompressed(data, 16);
  else return reject('RS_ERR_FRAME_UNKNOWN', `spectrum: SpecFormatVersion ${format} is not 0 or 1`);
  if (!Array.isArray(counts)) return counts;
  return { channels: counts.length, counts, calibration, live_time_s: duration };
}

/** ENERGY_CALIB (virtual string 0x202): three f32 LE, a0 a1 a2. */
export function decodeEnergyCalibration(data: Buffer): number[] | Reject {
  if (data.length < 12) return reject('RS_ERR_FRAME_TRUNCATED', `energy calibration: ${data.length} bytes, need 12`, data);
  const c = [data.readFloatLE(0), data.readFloatLE(4), data.readFloatLE(8)].map((x) => Number(x.toPrecision(7)));
  return c.every(Number.isFinite) ? c : reject('RS_ERR_FRAME_RANGE', `energy calibration ${c.join(', ')}`, data);
}
