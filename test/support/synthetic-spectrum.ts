import { poisson, seededRandom } from '../../simulators/physics.ts';
import { fwhmKeV, relativeEfficiency } from '../../src/spectra/detector.ts';
import { NUCLIDE_LIBRARY } from '../../src/spectra/library.ts';
import { energyAt, type Spectrum } from '../../src/spectra/spectrum.ts';

/**
 * Synthetic CsI(Tl) spectra from a simple detector model (docs/spectroscopy.md §5): Gaussian
 * full-energy peaks at 8 % FWHM at 662 keV scaled by √E, a flat Compton continuum up to each
 * line's Compton edge, a falling natural continuum with K-40, Ra-226 and Th-232 lines, Poisson
 * counts from a seeded PRNG. Calibration of a real RC-102 (fixtures/Cs137_b.xml).
 */

export const RC102_CALIBRATION = [-6.38159, 2.36593, 4.39819e-4];

export interface SyntheticSource {
  nuclide: string;
  /** Full-energy counts a 100 %-intensity line at ≤150 keV would give over the live time. */
  strength: number;
}

export interface SyntheticOptions {
  sources: SyntheticSource[];
  seed: number;
  /** Natural background scale (1 ≈ the real 300 s RC-102 background, about 1 600 counts). */
  background?: number;
  liveTime?: number;
}

/** Photofraction of a 1 cm³ CsI(Tl): most low-energy photons stop in the photopeak, few at 1.3 MeV. */
const photofraction = (e: number) => Math.min(0.9, 0.9 * (150 / e) ** 0.8);

export function syntheticSpectrum(opts: SyntheticOptions): Spectrum {
  const channels = 1024;
  const edges = Array.from({ length: channels + 1 }, (_, i) => energyAt(RC102_CALIBRATION, i));
  const mean = new Float64Array(channels);
  const addLine = (energy: number, counts: number) => {
    const sigma = fwhmKeV(energy) / 2.3548;
    for (let i = 0; i < channels; i++) {
      const a = edges[i] as number;
      const b = edges[i + 1] as number;
      if (b < energy - 6 * sigma || a > energy + 6 * sigma) continue;
      mean[i] = (mean[i] as number) + (counts * (erf((b - energy) / (sigma * Math.SQRT2)) - erf((a - energy) / (sigma * Math.SQRT2)))) / 2;
    }
    // Compton continuum: flat from 20 keV to the Compton edge, holding what the photopeak misses.
    const edge = energy * ((2 * energy) / 511 / (1 + (2 * energy) / 511));
    const compton = (counts * (1 - photofraction(energy))) / photofraction(energy);
    if (edge <= 25) return;
    for (let i = 0; i < channels; i++) {
      const a = Math.max(edges[i] as number, 20);
      const b = Math.min(edges[i + 1] as number, edge);
      if (b > a) mean[i] = (mean[i] as number) + (compton * (b - a)) / (edge - 20);
    }
  };
  const addNuclide = (name: string, strength: number) => {
    const n = NUCLIDE_LIBRARY.find((x) => x.name === name);
    if (!n) throw new Error(`no ${name} in the library`);
    for (const l of n.lines) addLine(l.energy, (strength * l.intensity * relativeEfficiency(l.energy)) / 100);
  };
  const live = opts.liveTime ?? 300;
  const bg = (opts.background ?? 1) * (live / 300);
  if (bg > 0) {
    // Natural continuum: most counts below 300 keV (scattered radiation from the room).
    for (let i = 0; i < channels; i++) {
      const e = ((edges[i] as number) + (edges[i + 1] as number)) / 2;
      if (e > 15) mean[i] = (mean[i] as number) + bg * (6 * Math.exp(-e / 120) + 0.15 * Math.exp(-e / 900));
    }
    addNuclide('K-40', bg * 400);
    addNuclide('Ra-226', bg * 120);
    addNuclide('Th-232', bg * 100);
  }
  for (const s of opts.sources) addNuclide(s.nuclide, s.strength);
  const random = seededRandom(opts.seed);
  return {
    channels,
    counts: Array.from(mean, (m) => poisson(m, random)),
    calibration: RC102_CALIBRATION,
    live_time_s: live,
    device: 'synthetic',
    ts: 0,
    measurement_class: 'Foreground',
  };
}

/** Binomial thinning: every count survives with probability `keep` (seeded, exact per count). */
export function thin(spectrum: Spectrum, keep: number, random: () => number): Spectrum {
  const counts = spectrum.counts.map((c) => {
    let k = 0;
    for (let i = 0; i < c; i++) if (random() < keep) k++;
    return k;
  });
  return { ...spectrum, counts, live_time_s: spectrum.live_time_s * keep };
}

/** Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7): enough for bin integrals of a Gaussian. */
function erf(x: number): number {
  const s = Math.sign(x);
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return s * y;
}
