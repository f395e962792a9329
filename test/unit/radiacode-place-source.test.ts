import { describe, expect, it } from 'vitest';
import { radiacodeControlApi } from '../../simulators/radiacode.ts';
import { identify } from '../../src/spectra/identify.ts';
import { device } from '../support/radiacode-device.ts';

/** The RadiaCode simulator's placeSource/removeSource controls (a parcel held by the detector). */
describe('RadiaCode simulator: placed source', () => {
  it('a placed I-131 source shows in the spectrum and counts, and stops adding once removed', () => {
    const rc = device({ background_usvh: 0.1, seed: 5, events: [] });
    rc.advance(60);
    const before = rc.spectrum().counts.reduce((a, b) => a + b, 0);
    rc.sim.placeSource('I-131', 5);
    rc.advance(60);
    const during = rc.spectrum();
    const added = during.counts.reduce((a, b) => a + b, 0) - before;
    // 5 µSv/h × 30 cps per µSv/h for 60 s, plus the background's 5 cps: about 9,300 counts.
    expect(added).toBeGreaterThan(8000);
    expect(identify(during).nuclides.map((n) => n.nuclide)).toContain('I-131');
    rc.sim.removeSource();
    rc.advance(60);
    const after = rc.spectrum().counts.reduce((a, b) => a + b, 0) - during.counts.reduce((a, b) => a + b, 0);
    expect(after).toBeLessThan(600);
  });

  it('the controls are declared for scenarios, with their arguments checked', () => {
    expect(radiacodeControlApi.placeSource.safeParse(['Cs-137', 2]).success).toBe(true);
    expect(radiacodeControlApi.placeSource.safeParse(['Pu-239', 2]).success).toBe(false);
    expect(radiacodeControlApi.removeSource.safeParse([]).success).toBe(true);
  });
});
