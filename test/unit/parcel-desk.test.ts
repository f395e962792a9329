import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Reading } from '../../src/core/reading.ts';
import { openParcelStore } from '../../src/parcels/store.ts';
import { createParcelDesk, type ParcelDesk } from '../../src/server/parcel-desk.ts';
import { device } from '../support/radiacode-device.ts';

/**
 * The server's parcel desk (src/server/parcel-desk.ts): RadiaCode spectra arrive as running totals
 * (from the simulator through its real bytes and decoder), the desk turns them into increments,
 * keeps the tunnel-empty ones as background, and holds a parcel's close until the spectrum that
 * covers its exit has come.
 */

const T0 = 1_700_000_000_000;
const silent = { debug() {}, info() {}, warn() {} };
const reading = (dev: string, ts: number, values: Reading['values']): Reading =>
  ({
    v: 1,
    station: 's1',
    device: dev,
    profile: 'x',
    kind: 'spectrometer',
    ts,
    ts_source: 'agent',
    values,
    quality: 'good',
    source: 'simulated',
    seq: 0,
  }) as unknown as Reading;

/** A running-total spectrum message of rc1 with every one of its 16 channels at `fill` counts. */
const flatSpectrum = (o: { ts: number; live: number; fill: number; calibration: number[] }) => ({
  v: 1 as const,
  station: 's1',
  device: 'rc1',
  spectrum: {
    channels: 16,
    counts: new Array(16).fill(o.fill),
    calibration: o.calibration,
    live_time_s: o.live,
    device: 'rc1',
    ts: o.ts,
    measurement_class: 'Foreground' as const,
  },
});

let desk: ParcelDesk | undefined;
afterEach(() => desk?.close());

/** 600 s of background, a parcel carrying `nuclide` for 10 s (bag seconds 600–610), 20 s after. */
function pass(nuclide: 'I-131' | 'Cs-137', seed: number) {
  desk = createParcelDesk({ chute: ['rc1'], settle_s: 30, log: silent });
  const rc = device({ background_usvh: 0.1, seed, events: [{ at_s: 601, duration_s: 10, peak_usvh: 5, shape: 'step' }] }, nuclide);
  let before = 0;
  for (let s = 1; s <= 630; s++) {
    rc.advance(1);
    const t = T0 + s * 1000;
    if (s === 600) desk.observe(reading('scanner', t, { bag_present: true }));
    if (s === 610) desk.observe(reading('scanner', t, { bag_present: false }));
    const total = rc.spectrum();
    const counts = total.counts.reduce((a, b) => a + b, 0);
    desk.observe(reading('rc1', t, { cps: counts - before }));
    before = counts;
    // A spectrum every 3 s, as a RadiaCode polled with spectrum_interval_s: 3 would send it.
    if (s % 3 === 0)
      desk.spectrum({
        v: 1,
        station: 's1',
        device: 'rc1',
        spectrum: { ...total, device: 'rc1', ts: t - total.live_time_s * 1000, measurement_class: 'Foreground' },
      });
  }
  return desk.list();
}

describe('parcel desk', () => {
  it.each([
    ['I-131', 'nuisance', 'medical'],
    ['Cs-137', 'alarm', 'industrial'],
  ] as const)('a %s parcel is a %s, category %s, from increments of running-total spectra', (nuclide, verdict, category) => {
    const [rec, ...more] = pass(nuclide, 7);
    expect(more).toEqual([]);
    expect(rec?.identification?.nuclides[0]?.nuclide).toBe(nuclide);
    expect(rec?.verdict).toBe(verdict);
    expect(rec?.category).toBe(category);
    expect([rec?.opened_at, rec?.closed_at]).toEqual([T0 + 600_000, T0 + 610_000]);
  });

  it('holds the close until a spectrum read after the exit arrives, then replays the readings that waited', () => {
    desk = createParcelDesk({ chute: ['rc1'], settle_s: 30, log: silent });
    const spectrum = (ts: number, live: number, fill: number) => flatSpectrum({ ts, live, fill, calibration: [0, 30] });
    desk.spectrum(spectrum(T0, 10, 1));
    desk.observe(reading('scanner', T0 + 11_000, { bag_present: true }));
    desk.observe(reading('scanner', T0 + 12_000, { bag_present: false }));
    desk.observe(reading('scanner', T0 + 13_000, { bag_present: true }));
    expect(desk.list()).toEqual([]);
    desk.spectrum(spectrum(T0, 11, 2)); // read at T0 + 11 s: before the exit, still held
    expect(desk.list()).toEqual([]);
    desk.spectrum(spectrum(T0, 13, 3)); // read at T0 + 13 s: covers the exit
    expect(desk.list().map((r) => [r.opened_at, r.closed_at])).toEqual([[T0 + 11_000, T0 + 12_000]]);
    // The reading that waited behind the close opened the next parcel.
    desk.observe(reading('scanner', T0 + 14_000, { bag_present: false }));
    desk.spectrum(spectrum(T0, 15, 4));
    expect(desk.list()).toHaveLength(2);
  });

  it('keeps a parcel whose spectrum cannot be identified (implausible calibration), with the reason', () => {
    desk = createParcelDesk({ chute: ['rc1'], settle_s: 30, log: silent });
    // An energy scale of 3 keV a channel over 16 channels: refused as implausible by the identifier.
    const spectrum = (live: number, fill: number) => flatSpectrum({ ts: T0, live, fill, calibration: [0, 3] });
    desk.spectrum(spectrum(10, 1));
    desk.observe(reading('scanner', T0 + 10_500, { bag_present: true }));
    desk.spectrum(spectrum(11, 2));
    desk.observe(reading('scanner', T0 + 11_500, { bag_present: false }));
    desk.spectrum(spectrum(12, 3));
    const [rec] = desk.list();
    expect(rec?.identification).toBeUndefined();
    expect(rec?.identification_error).toMatch(/^RS_ERR_CALIBRATION_IMPLAUSIBLE: /);
  });

  it('stores records, and a desk on the same store starts with them (a server restart keeps the history)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'radscreen-parcels-'));
    const path = join(dir, 'parcels.sqlite');
    try {
      let store = openParcelStore(path);
      // settle_s 0: no spectrometer speaks here, so the held close is released by its timer at once.
      const first = createParcelDesk({ chute: ['rc1'], settle_s: 0, log: silent, store });
      // A zero background: the parcel's significance is infinite, which JSON cannot hold.
      first.observe(reading('scanner', T0, { bag_present: true }));
      first.observe(reading('rc1', T0 + 1000, { cps: 50 }));
      first.observe(reading('scanner', T0 + 2000, { bag_present: false }));
      await new Promise((r) => setTimeout(r, 20));
      expect(first.list()).toHaveLength(1);
      first.close();
      store.close();

      store = openParcelStore(path);
      desk = createParcelDesk({ chute: ['rc1'], log: silent, store });
      const [rec] = desk.list();
      expect(rec?.id).toBe(first.list()[0]?.id);
      expect(rec?.verdict).toBe('alarm');
      expect(rec?.devices.rc1?.significance).toBe(Number.POSITIVE_INFINITY);
      store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
