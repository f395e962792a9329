import { describe, expect, it } from 'vitest';
import { createParcelTracker, type ParcelRecord } from '../../src/parcels/tracker.ts';
import { device } from '../support/radiacode-device.ts';

/**
 * The parcel record's core (src/parcels/tracker.ts): light-barrier edges open and close a record,
 * the chute's count rates are judged against the background frozen at entry, and a spectrum of
 * the occupancy decides the category. Spectra come from the RadiaCode simulator through its
 * real bytes and decoder.
 */

const T0 = 1_700_000_000_000;

/** Feeds a scenario second by second: background, then a parcel of `parcelS` seconds at `parcelCps`. */
function run(tracker: ReturnType<typeof createParcelTracker>, parcelCps: number, parcelS = 10, withSpectrum?: () => void) {
  let t = T0;
  const records: ParcelRecord[] = [];
  const feed = (values: Record<string, number | boolean>, dev: string) => {
    const r = tracker.observe({ device: dev, ts: t, values });
    if (r) records.push(r);
  };
  for (let s = 0; s < 120; s++, t += 1000) feed({ cps: s % 2 === 0 ? 4 : 6, dose_rate: 0.1 }, 'rc1');
  feed({ bag_present: true }, 'scanner');
  for (let s = 0; s < parcelS; s++) {
    t += 1000;
    feed({ cps: parcelCps, dose_rate: parcelCps / 50 }, 'rc1');
  }
  withSpectrum?.();
  t += 1000;
  feed({ bag_present: false }, 'scanner');
  return records;
}

describe('parcel record core', () => {
  it('a parcel at background is clear; the background was frozen at entry, not learnt from the parcel', () => {
    const tracker = createParcelTracker({ chute: ['rc1'] });
    const [rec] = run(tracker, 5);
    expect(rec?.verdict).toBe('clear');
    expect(rec?.devices.rc1?.background_cps).toBeCloseTo(5, 0);
    expect(rec?.devices.rc1?.gross_counts).toBe(50);
    expect(rec?.closed_at).toBe((rec?.opened_at as number) + 11_000);
    expect(tracker.open).toBe(0);
  });

  it('raised counts with no spectrum are an alarm without a category', () => {
    const [rec] = run(createParcelTracker({ chute: ['rc1'] }), 30);
    expect(rec?.devices.rc1?.net_counts).toBeGreaterThan(200);
    expect(rec?.devices.rc1?.significance).toBeGreaterThan(20);
    expect(rec?.verdict).toBe('alarm');
    expect(rec?.category).toBeUndefined();
  });

  it.each([
    ['I-131', 'nuisance', 'medical'],
    ['Cs-137', 'alarm', 'industrial'],
  ] as const)('a %s parcel with its spectrum is a %s, category %s', (nuclide, verdict, category) => {
    const tracker = createParcelTracker({ chute: ['rc1'] });
    const bg = device({ background_usvh: 0.1, seed: 40, events: [] });
    bg.advance(1800);
    tracker.setBackgroundSpectrum(bg.spectrum());
    const parcel = device({ background_usvh: 0.1, seed: 41, events: [{ at_s: 0, duration_s: 1e6, peak_usvh: 1, shape: 'step' }] }, nuclide);
    parcel.advance(120);
    const [rec] = run(tracker, 35, 10, () => tracker.addSpectrum(parcel.spectrum()));
    expect(rec?.identification?.nuclides[0]?.nuclide).toBe(nuclide);
    expect(rec?.verdict).toBe(verdict);
    expect(rec?.category).toBe(category);
  });

  it('refuses to add spectra of another channel count to the same parcel (RS_ERR_SPECTRUM_INVALID)', () => {
    const tracker = createParcelTracker({ chute: ['rc1'] });
    tracker.observe({ device: 'scanner', ts: T0, values: { bag_present: true } });
    tracker.addSpectrum({ counts: new Array(1024).fill(1), calibration: [0, 3], live_time_s: 10 });
    expect(() => tracker.addSpectrum({ counts: new Array(512).fill(1), calibration: [0, 6], live_time_s: 10 })).toThrow(
      expect.objectContaining({ code: 'RS_ERR_SPECTRUM_INVALID' }),
    );
  });
});
