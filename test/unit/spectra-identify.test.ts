import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../simulators/physics.ts';
import { identify } from '../../src/spectra/identify.ts';
import { isManMade, NUCLIDE_LIBRARY } from '../../src/spectra/library.ts';
import { readSpectrumFile } from '../../src/spectra/read.ts';
import type { Spectrum } from '../../src/spectra/spectrum.ts';
import { syntheticSpectrum, thin } from '../support/synthetic-spectrum.ts';

const real = (file: string): Spectrum => {
  const s = readSpectrumFile(readFileSync(`src/spectra/fixtures/${file}`, 'utf8')).spectra[0];
  if (!s) throw new Error(`${file} has no spectrum`);
  return s;
};
const manMadeIn = (s: Spectrum) => identify(s).nuclides.filter((n) => n.category !== 'NORM');

// True sources from the fixtures' README (file names, SampleInfo, the publishing project's test description).
const SOURCES = [
  { file: 'Cs137_b.xml', top: 'Cs-137', line: 661.7, category: 'industrial' },
  { file: 'Co60_a.xml', top: 'Co-60', line: 1332.5, category: 'industrial' },
  { file: 'Ba133_a.xml', top: 'Ba-133', line: 356, category: 'industrial' },
  { file: 'data_am241.xml', top: 'Am-241', line: 59.5, category: 'industrial' },
];

describe('identification of real RC-102 spectra', () => {
  it.each(SOURCES)('$file: top nuclide $top with its main line, nothing else man-made', ({ file, top, line, category }) => {
    const r = identify(real(file));
    expect(r.nuclides[0]).toMatchObject({ nuclide: top, category });
    expect(r.nuclides[0]?.confidence).toBeGreaterThan(0.8);
    expect(r.nuclides[0]?.peaks_kev).toContain(line);
    expect(r.nuclides.filter((n) => n.category !== 'NORM').map((n) => n.nuclide)).toEqual([top]);
    expect(r.calibration.ok).toBe(true);
  });

  it('the background-only spectrum gives no man-made nuclide', () => {
    expect(manMadeIn(real('bg.xml'))).toEqual([]);
  });

  it.each(SOURCES)('$file thinned to 10 % (binomial, seeded): right top nuclide in ≥ 95 of 100 draws', ({ file, top }) => {
    const spectrum = real(file);
    const random = seededRandom(20261202);
    let right = 0;
    for (let draw = 0; draw < 100; draw++) if (identify(thin(spectrum, 0.1, random)).nuclides[0]?.nuclide === top) right++;
    expect(right).toBeGreaterThanOrEqual(95);
  });

  it('is pure: same answer twice, input untouched', () => {
    const s = real('Cs137_b.xml');
    const before = JSON.stringify(s);
    expect(identify(s)).toEqual(identify(s));
    expect(JSON.stringify(s)).toBe(before);
  });
});

describe('identification of synthetic spectra (detector model, natural background included)', () => {
  const CASES: [string, string][] = [
    ['I-131', 'medical'],
    ['Tc-99m', 'medical'],
    ['Co-57', 'medical'],
    ['Tl-201', 'medical'],
    ['F-18', 'medical'],
    ['Na-22', 'industrial'],
    ['Ir-192', 'industrial'],
    ['Eu-152', 'industrial'],
    ['Cs-137', 'industrial'],
    ['Co-60', 'industrial'],
    ['U-235', 'SNM'],
    ['Th-232', 'NORM'],
    ['Ra-226', 'NORM'],
  ];
  it.each(CASES)('%s is the top nuclide (%s) in 5 of 5 seeds', (nuclide, category) => {
    for (let seed = 1; seed <= 5; seed++) {
      const r = identify(syntheticSpectrum({ sources: [{ nuclide, strength: 20_000 }], seed }));
      expect(r.nuclides[0], `seed ${seed}`).toMatchObject({ nuclide, category });
    }
  });

  it('Pu-239 (weak lines, a strong source) is identified as SNM', () => {
    const r = identify(syntheticSpectrum({ sources: [{ nuclide: 'Pu-239', strength: 6e8 }], seed: 7 }));
    expect(r.nuclides[0]).toMatchObject({ nuclide: 'Pu-239', category: 'SNM' });
  });

  it('natural uranium (glaze, ore without radium) is U-238 / NORM, never U-235 / SNM', () => {
    for (let seed = 1; seed <= 5; seed++) {
      const r = identify(syntheticSpectrum({ sources: [{ nuclide: 'U-238', strength: 200_000 }], seed }));
      expect(r.nuclides[0], `seed ${seed}`).toMatchObject({ nuclide: 'U-238', category: 'NORM' });
      expect(r.nuclides.filter((n) => n.category === 'SNM')).toEqual([]);
    }
  });

  it('mixtures: a weak Ba-133 next to a strong Cs-137 is still found (Cs-137 Ba K X-rays do not hide it)', () => {
    for (let seed = 1; seed <= 3; seed++) {
      const r = identify(
        syntheticSpectrum({
          sources: [
            { nuclide: 'Cs-137', strength: 40_000 },
            { nuclide: 'Ba-133', strength: 2_000 },
          ],
          seed,
        }),
      );
      expect(
        r.nuclides.filter((n) => n.category !== 'NORM').map((n) => n.nuclide),
        `seed ${seed}`,
      ).toEqual(['Cs-137', 'Ba-133']);
    }
  });

  it('mixtures: natural uranium next to Am-241 is U-238 / NORM, not U-235 / SNM (Am-241 masks 63 and 93 keV)', () => {
    for (let seed = 1; seed <= 3; seed++) {
      const r = identify(
        syntheticSpectrum({
          sources: [
            { nuclide: 'Am-241', strength: 40_000 },
            { nuclide: 'U-238', strength: 50_000 },
          ],
          seed,
        }),
      );
      const names = r.nuclides.map((n) => n.nuclide);
      expect(names[0], `seed ${seed}`).toBe('Am-241');
      expect(names, `seed ${seed}`).toContain('U-238');
      expect(
        r.nuclides.filter((n) => n.category === 'SNM'),
        `seed ${seed}`,
      ).toEqual([]);
    }
  });

  it('Na-22 is not also reported as F-18, nor its 511 keV Compton edge as Ir-192', () => {
    const names = identify(syntheticSpectrum({ sources: [{ nuclide: 'Na-22', strength: 20_000 }], seed: 3 })).nuclides.map(
      (n) => n.nuclide,
    );
    expect(names).toContain('Na-22');
    expect(names).not.toContain('F-18');
    expect(names).not.toContain('Ir-192');
  });

  it('background alone, weak to strong, never gives a man-made nuclide (40 draws)', () => {
    for (let seed = 1; seed <= 20; seed++)
      for (const background of [1, 10]) expect(manMadeIn(syntheticSpectrum({ sources: [], seed, background })), `seed ${seed}`).toEqual([]);
  });
});

describe('background subtraction (same instrument, scaled by live time)', () => {
  it('real spectra minus the real 1800 s background: same top nuclides; background minus itself has no peak', () => {
    const bg = real('bg.xml');
    for (const { file, top } of SOURCES.slice(0, 3)) expect(identify(real(file), { background: bg }).nuclides[0]?.nuclide, file).toBe(top);
    expect(identify(bg, { background: bg }).peaks).toEqual([]);
  });

  it('a weak I-131 under strong natural background is I-131 once the background is subtracted (Ra-226 without)', () => {
    for (let seed = 1; seed <= 5; seed++) {
      const fg = syntheticSpectrum({ sources: [{ nuclide: 'I-131', strength: 3_000 }], seed, background: 10 });
      const bg = syntheticSpectrum({ sources: [], seed: seed + 100, background: 10, liveTime: 3_000 });
      expect(
        identify(fg, { background: bg }).nuclides.map((n) => n.nuclide),
        `seed ${seed}`,
      ).toEqual(['I-131']);
    }
  });

  it('refuses a background from another calibration or without live time (RS_ERR_SPECTRUM_INVALID)', () => {
    const cs = real('Cs137_b.xml');
    expect(() => identify(cs, { background: real('data_am241.xml') })).toThrow(/calibration differs by more than 2 %/);
    expect(() => identify({ counts: cs.counts, calibration: cs.calibration }, { background: real('bg.xml') })).toThrow(
      expect.objectContaining({ code: 'RS_ERR_SPECTRUM_INVALID' }),
    );
    expect(() => identify(cs, { background: { ...real('bg.xml'), counts: new Array(512).fill(1) } })).toThrow(/512 channels/);
  });
});

describe('library and calibration check', () => {
  it('covers the required nuclides, each with a category', () => {
    const names = NUCLIDE_LIBRARY.map((n) => n.name);
    for (const n of [
      'Am-241',
      'Ba-133',
      'Co-57',
      'Co-60',
      'Cs-137',
      'Eu-152',
      'I-131',
      'Ir-192',
      'K-40',
      'Na-22',
      'Ra-226',
      'Th-232',
      'Tc-99m',
      'Tl-201',
      'F-18',
      'U-235',
      'Pu-239',
    ])
      expect(names).toContain(n);
    expect(
      NUCLIDE_LIBRARY.filter((n) => !isManMade(n))
        .map((n) => n.name)
        .sort(),
    ).toEqual(['K-40', 'Ra-226', 'Th-232', 'U-238']);
  });

  it('refuses a calibration that does not increase or covers no gamma range (RS_ERR_CALIBRATION_IMPLAUSIBLE)', () => {
    const s = real('Cs137_b.xml');
    for (const calibration of [
      [0, -2.4],
      [0, 0.01],
      [5000, 2.4],
      [0, 3, -0.01],
    ])
      expect(() => identify({ ...s, calibration })).toThrow(expect.objectContaining({ code: 'RS_ERR_CALIBRATION_IMPLAUSIBLE' }));
  });

  it('reports the calibration offset of the supporting peaks and flags a drifted one', () => {
    const s = real('Cs137_b.xml');
    expect(Math.abs(identify(s).calibration.offset_percent ?? 99)).toBeLessThan(2);
    // 4 % gain drift: 662 keV still inside the match window, flagged by the check.
    const drifted = identify({ ...s, calibration: s.calibration.map((c) => c * 1.04) });
    expect(drifted.nuclides[0]?.nuclide).toBe('Cs-137');
    expect(drifted.calibration.offset_percent).toBeGreaterThan(2);
    expect(drifted.calibration.ok).toBe(false);
  });
});
