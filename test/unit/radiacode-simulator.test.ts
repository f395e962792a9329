import { describe, expect, it } from 'vitest';
import { createRadiacodeSession } from '../../devices/radiacode/session.ts';
import type { RadiacodeSpectrum } from '../../devices/radiacode/spectrum.ts';
import { createRadiacodeSimulator } from '../../simulators/radiacode.ts';
import type { DecodedReading } from '../../src/core/reading.ts';
import { identify } from '../../src/spectra/identify.ts';
import { device, manualClock } from '../support/radiacode-device.ts';

/**
 * The RadiaCode simulator's bytes through the family's decoders and session, and its spectra
 * through radscreen's identification: the physics model must make spectra a real RC-102 would,
 * at least as far as identification can tell. Device seconds are ticked by hand (a clock whose
 * interval the test fires), so nothing here depends on the wall clock.
 */

const top = (s: RadiacodeSpectrum) => identify(s).nuclides;
const MAN_MADE = (c: string) => c !== 'NORM';

describe('RadiaCode simulator → decoder → identification', () => {
  it.each([
    ['Cs-137', 'industrial', 0.3],
    ['I-131', 'medical', 0.3],
    ['Co-60', 'industrial', 0.3],
    ['Am-241', 'industrial', 0.3],
    ['Tc-99m', 'medical', 0.3],
  ] as const)(
    'a parcel with %s is identified as such, category %s (%s µSv/h over 0.1 background, 600 s, 3 seeds)',
    (nuclide, category, usvh) => {
      for (const seed of [1, 2, 3]) {
        const d = device({ background_usvh: 0.1, seed, events: [{ at_s: 0, duration_s: 1e6, peak_usvh: usvh, shape: 'step' }] }, nuclide);
        d.advance(600);
        const s = d.spectrum();
        expect(s.channels).toBe(1024);
        expect(s.live_time_s).toBe(600);
        const found = top(s);
        expect(found[0]?.nuclide, `seed ${seed}: ${JSON.stringify(found.map((f) => f.nuclide))}`).toBe(nuclide);
        expect(found[0]?.category).toBe(category);
      }
    },
  );

  // Defect found with this simulator: radium's 351.9 keV line took I-131's 364.5 keV peak (NORM goes
  // first), and I-131's 637 keV peak then passed for Cs-137: a medical parcel reported industrial.
  it('a weak I-131 parcel (0.3 and 0.5 µSv/h) is medical and never industrial, with or without a background, 5 seeds', () => {
    for (const usvh of [0.3, 0.5])
      for (let seed = 1; seed <= 5; seed++) {
        const fg = device({ background_usvh: 0.1, seed, events: [{ at_s: 0, duration_s: 1e6, peak_usvh: usvh, shape: 'step' }] }, 'I-131');
        fg.advance(600);
        const bg = device({ background_usvh: 0.1, seed: seed + 100, events: [] });
        bg.advance(1800);
        const spectrum = fg.spectrum();
        for (const found of [top(spectrum), identify(spectrum, { background: bg.spectrum() }).nuclides]) {
          const names = JSON.stringify(found.map((n) => n.nuclide));
          expect(found[0]?.nuclide, `${usvh} µSv/h seed ${seed}: ${names}`).toBe('I-131');
          expect(
            found.filter((n) => n.category !== 'NORM' && n.nuclide !== 'I-131'),
            names,
          ).toEqual([]);
        }
      }
  });

  it('background alone (10 seeds, 600 s) never gives a man-made nuclide', () => {
    for (let seed = 10; seed < 20; seed++) {
      const d = device({ background_usvh: 0.1, seed, events: [] });
      d.advance(600);
      const s = d.spectrum();
      const total = s.counts.reduce((a, b) => a + b, 0);
      expect(total / 600).toBeGreaterThan(3); // 3–6 cps, docs/protocols.md §5.6
      expect(total / 600).toBeLessThan(7);
      expect(top(s).filter((n) => MAN_MADE(n.category))).toEqual([]);
    }
  });

  it('background alone at other live times and levels (60 s ×20, 3600 s ×4, 0.3 µSv/h 600 s ×10) never gives a man-made nuclide', () => {
    const cases: [number, number, number][] = [
      ...Array.from({ length: 20 }, (_, i): [number, number, number] => [60, 0.1, 200 + i]),
      ...Array.from({ length: 4 }, (_, i): [number, number, number] => [3600, 0.1, 300 + i]),
      ...Array.from({ length: 10 }, (_, i): [number, number, number] => [600, 0.3, 400 + i]),
    ];
    for (const [seconds, usvh, seed] of cases) {
      const d = device({ background_usvh: usvh, seed, events: [] });
      d.advance(seconds);
      const found = top(d.spectrum()).filter((n) => MAN_MADE(n.category));
      expect(found, `${seconds} s at ${usvh} µSv/h, seed ${seed}`).toEqual([]);
    }
  });

  it('the spectrum starts over after resetSpectrum', () => {
    const d = device({ background_usvh: 0.1, seed: 5, events: [] });
    d.advance(30);
    d.sim.resetSpectrum();
    d.advance(5);
    expect(d.spectrum().live_time_s).toBe(5);
  });
});

describe('RadiaCode simulator ↔ session (in-process wire)', () => {
  it('gives cps and dose_rate that follow the scenario, accumulated dose, and the spectrum summary', async () => {
    const { clock, advance } = manualClock();
    const readings: DecodedReading[] = [];
    const rejects: string[] = [];
    const spectra: RadiacodeSpectrum[] = [];
    let toDevice: (b: Buffer) => void = () => {};
    let session: ReturnType<typeof createRadiacodeSession> | undefined;
    const sim = createRadiacodeSimulator(
      {
        write: (b) => void setImmediate(() => session?.push(b)),
        onData: (l) => {
          toDevice = l;
        },
      },
      { background_usvh: 0.1, seed: 9, tick_ms: 1000, clock, events: [{ at_s: 100, duration_s: 1e6, peak_usvh: 1.9, shape: 'step' }] },
    );
    session = createRadiacodeSession(
      {
        now: () => Date.now(), // only spaces the spectrum reads; the device's time is the manual clock
        write: async (b) => toDevice(Buffer.from(b)),
        emit: (r) => void readings.push(r),
        reject: (r) => void rejects.push(r.code),
        options: {},
        log: { debug() {}, info() {}, warn() {} },
      },
      { pollIntervalMs: 5, spectrumIntervalMs: 1, timeoutMs: 1000, onSpectrum: (s) => void spectra.push(s) },
    );
    sim.start();
    advance(99); // background only
    session.start?.();
    for (let i = 0; i < 400 && spectra.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    const background = readings.filter((r) => r.values.cps !== undefined);
    advance(200); // source on from second 100
    const before = spectra.length;
    for (let i = 0; i < 400 && spectra.length === before; i++) await new Promise((r) => setTimeout(r, 5));
    session.stop();
    sim.stop();
    expect(rejects).toEqual([]);
    const mean = (rs: DecodedReading[], k: string) => rs.reduce((a, r) => a + (r.values[k] as number), 0) / rs.length;
    expect(background.length).toBe(99);
    expect(mean(background, 'cps')).toBeGreaterThan(4);
    expect(mean(background, 'cps')).toBeLessThan(6);
    expect(mean(background, 'dose_rate')).toBeCloseTo(0.1, 1);
    const source = readings.filter((r) => r.values.cps !== undefined).slice(-150);
    expect(mean(source, 'dose_rate')).toBeGreaterThan(1.8);
    expect(mean(source, 'dose_rate')).toBeLessThan(2.2);
    const doses = readings.filter((r) => r.values.dose !== undefined).map((r) => r.values.dose as number);
    expect(doses.length).toBeGreaterThanOrEqual(29);
    expect(doses).toEqual([...doses].sort((a, b) => a - b));
    const summary = readings.filter((r) => r.values.spectrum_counts !== undefined).at(-1);
    const last = spectra.at(-1) as RadiacodeSpectrum;
    expect(summary?.values).toEqual({
      spectrum_counts: last.counts.reduce((a, b) => a + b, 0),
      spectrum_live_time: 299,
      spectrum_channels: 1024,
    });
    expect(top(last)[0]?.nuclide).toBe('Cs-137');
  });
});
