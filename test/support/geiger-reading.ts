import type { Reading, Source } from '../../src/core/reading.ts';

/** A MightyOhm Geiger reading at `doseRate` µSv/h, stamped now: CPM from the M4011 tube's 175.4 CPM per µSv/h. */
export function geigerReading(station: string, device: string, doseRate: number, source: Source = 'simulated'): Reading {
  return {
    station,
    device,
    profile: 'mightyohm-geiger',
    kind: 'dosimeter',
    ts: Date.now(),
    ts_source: 'agent',
    values: { cps: Math.round((doseRate * 175.4) / 60), cpm: Math.round(doseRate * 175.4), dose_rate: doseRate, mode: 'SLOW' },
    quality: 'good',
    source,
  };
}
