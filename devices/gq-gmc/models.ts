/**
 * GQ GMC model facts (docs/protocols.md §1.1, §1.3, §1.8): which protocol generation a unit speaks
 * decides every reply width, so the session picks one of these before polling counts.
 */

/** The `model` option's values: a series, or `auto` to read it from `<GETVER>>`. */
export const SERIES = ['300', '320', '500', '600', '800'] as const;
export type Series = (typeof SERIES)[number];

export interface ModelInfo {
  series: Series;
  /** GQ-RFC1201 (300/320: 2-byte counts, 14-bit CPS) or GQ-RFC1801 (500/600/800: 4-byte counts). */
  rfc: 'RFC1201' | 'RFC1801';
  /** Width of GETCPM/GETCPS/heartbeat replies in bytes. */
  countBytes: 2 | 4;
  /** 300-series CPS and heartbeat: bits 14/15 are reserved, keep the low 14 bits. */
  cpsMask: number;
  /** GETVOLT reply: 1 byte volts×10, 5 bytes ASCII `4.0v\0`, or not supported. */
  voltage: 'byte' | 'ascii' | 'none';
  /** GETCFG block length in bytes; its floats are little-endian on 256-byte blocks, big-endian on 512. */
  cfgBytes: 256 | 512;
  /** Factory sensitivity in CPM per µSv/h (§1.8). */
  defaultSensitivity: number;
}

/** GQ's factor 0.0065 µSv/h per CPM for the M4011 tube, as a sensitivity (≈153.85 CPM per µSv/h). */
export const M4011_SENSITIVITY = 1 / 0.0065;

const RFC1201 = { rfc: 'RFC1201', countBytes: 2, cpsMask: 0x3fff, voltage: 'byte', cfgBytes: 256 } as const;
const RFC1801 = { rfc: 'RFC1801', countBytes: 4, cpsMask: 0xffffffff, voltage: 'ascii', cfgBytes: 512 } as const;

const BY_SERIES: Record<Series, ModelInfo> = {
  '300': { series: '300', ...RFC1201, defaultSensitivity: M4011_SENSITIVITY },
  '320': { series: '320', ...RFC1201, defaultSensitivity: M4011_SENSITIVITY },
  '500': { series: '500', ...RFC1801, defaultSensitivity: M4011_SENSITIVITY },
  // LND 7317 pancake: sources say 348–379 (UNCERTAIN); 354 is GQ's own fw 2.52 factory table.
  '600': { series: '600', ...RFC1801, defaultSensitivity: 354 },
  // GETVOLT is not supported on the 800 (GeigerLog); its factory table is 153.8 throughout.
  '800': { series: '800', ...RFC1801, voltage: 'none', defaultSensitivity: 153.8 },
};

/**
 * The model facts for a series and, when known, the model name from GETVER, which refines
 * what the series alone cannot say (300S/320S tubes, the 510's one-byte GETVOLT).
 */
export function describeModel(series: Series, modelName?: string): ModelInfo {
  const base = BY_SERIES[series];
  if (modelName === undefined) return base;
  if (/^GMC-3[02]0S/.test(modelName)) return { ...base, defaultSensitivity: 161.5 };
  if (/^GMC-510/.test(modelName)) return { ...base, voltage: 'byte' };
  return base;
}

/** The series a GETVER model name belongs to (`GMC-280` speaks RFC1201 like the 300), if any. */
export function seriesOf(modelName: string): Series | undefined {
  const digits = /^GMC-(\d{3})/.exec(modelName)?.[1];
  switch (digits) {
    case '280':
    case '300':
      return '300';
    case '320':
      return '320';
    case '500':
    case '510':
      return '500';
    case '600':
      return '600';
    case '800':
      return '800';
    default:
      return undefined;
  }
}
