import { z } from 'zod';

/**
 * The canonical units. One unit per quantity: a device's own unit (mR/h, nSv/h, CPS
 * where CPM is meant…) is converted in its decoder, never later.
 */
export const UnitSchema = z.enum([
  'uSv/h', // dose rate
  'uSv', // accumulated dose
  'CPM', // counts per minute
  'CPS', // counts per second
  'counts', // a raw count over a stated window
  'channels', // how many channels (bins) a spectrum has
  'kV', // X-ray tube voltage
  'mA', // X-ray tube current
  'm/s', // belt speed
  'V', // battery / tube high voltage
  's', // durations (live time, counting window)
  '%', // fractions (battery level)
  'degC', // temperature
  'deg', // latitude / longitude, decimal degrees (WGS84; south and west negative)
  'bool', // on/off signals (beam, interlock closed, bag present)
  'enum', // short state words (mode, fault code)
]);
export type Unit = z.infer<typeof UnitSchema>;

/** Conversions the decoders share; each keeps the convention named in docs/protocols.md. */
export const convert = {
  /** 1 mR/h ≈ 10 µSv/h, the convention every hobby firmware uses. */
  mRhToUSvh: (mrh: number): number => mrh * 10,
  nSvhToUSvh: (nsvh: number): number => nsvh / 1000,
  /** sensitivity S is CPM per µSv/h, so µSv/h = CPM / S. */
  cpmToUSvh: (cpm: number, sensitivityCpmPerUSvh: number): number => cpm / sensitivityCpmPerUSvh,
} as const;
