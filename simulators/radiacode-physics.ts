import { poisson } from './physics.ts';

/**
 * The gamma physics behind the RadiaCode simulator: what a 1 cm³ CsI(Tl) crystal records from
 * natural background plus one source. Written for the simulator (simulators/ may not import
 * src/spectra, docs/ARCHITECTURE.md); the same detector facts as docs/spectroscopy.md §3.1.
 *
 * Line energies (keV) and intensities (photons per 100 decays): NNDC NuDat 3 decay radiation
 * (https://www.nndc.bnl.gov/nudat3/), rounded; chain members carry the branching of the chain.
 */
const LINES: Readonly<Record<string, readonly (readonly [number, number])[]>> = {
  'Cs-137': [
    [661.66, 85.1],
    [32.2, 5.6],
    [36.4, 1.3],
  ],
  'I-131': [
    [364.49, 81.5],
    [636.99, 7.16],
    [284.31, 6.12],
    [722.91, 1.77],
    [80.19, 2.62],
  ],
  'Co-60': [
    [1173.23, 99.85],
    [1332.49, 99.98],
  ],
  'Am-241': [[59.54, 35.9]],
  'Tc-99m': [[140.51, 89.0]],
  'Ba-133': [
    [356.01, 62.05],
    [81.0, 33.3],
    [302.85, 18.3],
    [383.85, 8.94],
    [276.4, 7.16],
    [31.0, 97],
  ],
  'Co-57': [
    [122.06, 85.6],
    [136.47, 10.7],
  ],
  'Na-22': [
    [511.0, 180.7],
    [1274.54, 99.94],
  ],
  'K-40': [[1460.82, 10.66]],
  'Ra-226': [
    [609.31, 45.5],
    [351.93, 35.6],
    [295.22, 18.4],
    [1764.49, 15.3],
    [1120.29, 14.9],
    [242.0, 7.3],
    [1238.1, 5.8],
  ],
  'Th-232': [
    [238.63, 43.6],
    [583.19, 30.4],
    [911.2, 25.8],
    [2614.51, 35.8],
    [968.97, 15.8],
    [338.32, 11.3],
    [727.33, 6.7],
  ],
};

/** Nuclides a scenario may put in the parcel. */
export const SOURCE_NUCLIDES = ['Cs-137', 'I-131', 'Co-60', 'Am-241', 'Tc-99m', 'Ba-133', 'Co-57', 'Na-22', 'Ra-226', 'Th-232'] as const;
export type SourceNuclide = (typeof SOURCE_NUCLIDES)[number];

/** Energy calibration of a real RC-102 (E keV = a0 + a1·ch + a2·ch²), from the Cs-137 export in src/spectra/fixtures. */
export const RC102_CALIBRATION = [-6.38159, 2.36593, 4.39819e-4] as const;
export const CHANNELS = 1024;

/**
 * Count rate per µSv/h: a source seen at 1 µSv/h gives 30 cps (RadiaCode-102 data sheet, Cs-137);
 * natural background gives more per µSv/h because its spectrum is softer: 50 cps per µSv/h puts
 * 0.1 µSv/h at 5 cps, inside the 3–6 cps users report (docs/protocols.md §5.6).
 */
export const SOURCE_CPS_PER_USVH = 30;
export const BACKGROUND_CPS_PER_USVH = 50;

const energyAt = (ch: number) => RC102_CALIBRATION[0] + RC102_CALIBRATION[1] * ch + RC102_CALIBRATION[2] * ch * ch;
/** FWHM 8 % at 662 keV, scaling with √E (counting statistics of the scintillation light). */
const fwhmKeV = (e: number) => 0.08 * 662 * Math.sqrt(e / 662);
/** Full-energy efficiency relative to low energies: a 1 cm³ crystal stops fewer hard photons. */
const efficiency = (e: number) => (e <= 150 ? 1 : (150 / e) ** 1.5);
/** Share of the interacting photons that deposit all their energy; the rest Compton-scatter out. */
const photofraction = (e: number) => Math.min(0.9, 0.9 * (150 / e) ** 0.8);

/** Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7): enough for a bin integral of a Gaussian. */
function erf(x: number): number {
  const t = 1 / (1 + 0.3275911 * Math.abs(x));
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-x * x);
  return Math.sign(x) * y;
}

const EDGES = Array.from({ length: CHANNELS + 1 }, (_, i) => energyAt(i));

/** Adds one line's response: a Gaussian photopeak, a flat Compton continuum up to the edge, a backscatter hump. */
function addLine(shape: Float64Array, energy: number, weight: number): void {
  const pf = photofraction(energy);
  const sigma = fwhmKeV(energy) / 2.3548;
  const gauss = (centre: number, s: number, area: number) => {
    for (let i = 0; i < CHANNELS; i++) {
      const a = EDGES[i] as number;
      const b = EDGES[i + 1] as number;
      if (b < centre - 6 * s || a > centre + 6 * s) continue;
      shape[i] = (shape[i] as number) + (area * (erf((b - centre) / (s * Math.SQRT2)) - erf((a - centre) / (s * Math.SQRT2)))) / 2;
    }
  };
  gauss(energy, sigma, weight * pf);
  const edge = (energy * (2 * energy)) / 511 / (1 + (2 * energy) / 511);
  if (edge <= 25) return;
  const compton = weight * (1 - pf);
  for (let i = 0; i < CHANNELS; i++) {
    const a = Math.max(EDGES[i] as number, 20);
    const b = Math.min(EDGES[i + 1] as number, edge);
    if (b > a) shape[i] = (shape[i] as number) + (compton * 0.9 * (b - a)) / (edge - 20);
  }
  // Photons scattered back into the crystal from the surroundings (E / (1 + 2E/511)): a broad hump.
  const back = energy / (1 + (2 * energy) / 511);
  gauss(back, fwhmKeV(back), compton * 0.1);
}

function normalise(shape: Float64Array): Float64Array {
  const sum = shape.reduce((a, b) => a + b, 0);
  return shape.map((v) => v / sum);
}

/** Adds a nuclide's lines, each weighted by `strength` × intensity × efficiency. */
function addNuclide(shape: Float64Array, nuclide: string, strength: number): void {
  for (const [energy, intensity] of LINES[nuclide] ?? []) addLine(shape, energy, (strength * intensity * efficiency(energy)) / 100);
}

function nuclideShape(nuclide: string): Float64Array {
  const shape = new Float64Array(CHANNELS);
  addNuclide(shape, nuclide, 1);
  return normalise(shape);
}

/**
 * Natural background: room scatter falling with energy, K-40 and the U/Th chains, with the weights
 * of test/support/synthetic-spectrum.ts, which mimic a real 300 s RC-102 background (bg.xml).
 */
function backgroundShape(): Float64Array {
  const shape = new Float64Array(CHANNELS);
  for (let i = 0; i < CHANNELS; i++) {
    const e = ((EDGES[i] as number) + (EDGES[i + 1] as number)) / 2;
    if (e > 15) shape[i] = 6 * Math.exp(-e / 120) + 0.15 * Math.exp(-e / 900);
  }
  addNuclide(shape, 'K-40', 400);
  addNuclide(shape, 'Ra-226', 120);
  addNuclide(shape, 'Th-232', 100);
  return normalise(shape);
}

const shapes = new Map<string, Float64Array>();
/** Probability per channel of one recorded count, for a nuclide or `background`. */
export function responseShape(what: SourceNuclide | 'background'): Float64Array {
  let s = shapes.get(what);
  if (!s) {
    s = what === 'background' ? backgroundShape() : nuclideShape(what);
    shapes.set(what, s);
  }
  return s;
}

/** Counts of one device second, per channel: Poisson around the background and source rates. */
export function drawSecond(backgroundCps: number, source: SourceNuclide, sourceCps: number, random: () => number): Uint32Array {
  const bg = responseShape('background');
  const src = responseShape(source);
  const out = new Uint32Array(CHANNELS);
  for (let i = 0; i < CHANNELS; i++) out[i] = poisson(backgroundCps * (bg[i] as number) + sourceCps * (src[i] as number), random);
  return out;
}
