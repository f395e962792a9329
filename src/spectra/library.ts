/**
 * Gamma-line library (docs/spectroscopy.md §4). Energies in keV and emission intensities in
 * photons per 100 decays of the parent, from NNDC NuDat 3 decay radiation (ENSDF evaluations),
 * rounded to what a CsI(Tl) detector can use; K X-rays are summed per Kα/Kβ group. Chain members
 * are listed under the parent in secular equilibrium (intensity × branching), so Bi-214 and
 * Pb-214 count for Ra-226, and Ac-228, Pb-212, Bi-212 and Tl-208 (35.94 % branch) for Th-232.
 * Lines below {@link MIN_LINE_KEV} are left out: the detector cannot use them.
 */

/** What a nuclide means at a mail-screening station (IAEA Nuclear Security Series No. 3 categories). */
export type NuclideCategory = 'NORM' | 'medical' | 'industrial' | 'SNM';

export interface GammaLine {
  /** keV */
  energy: number;
  /** photons per 100 decays of the parent */
  intensity: number;
  /** An X-ray (K shell of the daughter): supports an identification, never makes one alone. */
  xray?: boolean;
}

export interface Nuclide {
  /** `Cs-137`, `Tc-99m`: element symbol, hyphen, mass number (and `m`). */
  name: string;
  category: NuclideCategory;
  /** For a chain entry, the members whose lines are included. */
  members?: string[];
  lines: GammaLine[];
}

const g = (energy: number, intensity: number): GammaLine => ({ energy, intensity });
const x = (energy: number, intensity: number): GammaLine => ({ energy, intensity, xray: true });

export const NUCLIDE_LIBRARY: readonly Nuclide[] = [
  { name: 'K-40', category: 'NORM', lines: [g(1460.82, 10.66)] },
  {
    name: 'Ra-226',
    category: 'NORM',
    members: ['U-238 series', 'Ra-226', 'Pb-214', 'Bi-214'],
    lines: [
      g(186.21, 3.64),
      g(241.99, 7.27),
      g(295.22, 18.41),
      g(351.93, 35.6),
      g(609.31, 45.49),
      g(768.36, 4.89),
      g(934.06, 3.1),
      g(1120.29, 14.91),
      g(1238.11, 5.83),
      g(1377.67, 3.99),
      g(1729.6, 2.88),
      g(1764.49, 15.31),
      g(2204.21, 4.91),
      x(77.0, 10.0),
    ],
  },
  {
    name: 'Th-232',
    category: 'NORM',
    members: ['Th-232 series', 'Ac-228', 'Pb-212', 'Bi-212', 'Tl-208'],
    lines: [
      g(238.63, 43.6),
      g(300.09, 3.18),
      g(338.32, 11.27),
      g(510.77, 8.12),
      g(583.19, 30.54),
      g(727.33, 6.67),
      g(860.56, 4.49),
      g(911.2, 25.8),
      g(964.77, 4.99),
      g(968.97, 15.8),
      g(1588.2, 3.22),
      g(2614.51, 35.85),
      x(75.0, 17.0),
    ],
  },
  {
    // Refined natural or depleted uranium (glazes, ores without radium, counterweights): Th-234 and
    // Pa-234m with U-235 at the natural activity ratio 0.046; the U-235 line then stays small.
    name: 'U-238',
    category: 'NORM',
    members: ['U-238', 'Th-234', 'Pa-234m', 'U-235 (natural, 0.72 %)'],
    lines: [g(63.29, 3.75), g(92.59, 4.33), g(143.76, 0.5), g(185.72, 2.63), g(205.31, 0.23), g(766.36, 0.294), g(1001.03, 0.839)],
  },
  { name: 'Am-241', category: 'industrial', lines: [g(59.54, 35.9), g(26.34, 2.31)] },
  {
    name: 'Ba-133',
    category: 'industrial',
    lines: [
      g(53.16, 2.14),
      g(79.61, 2.65),
      g(81.0, 32.9),
      g(276.4, 7.16),
      g(302.85, 18.33),
      g(356.01, 62.05),
      g(383.85, 8.94),
      x(30.9, 99.4),
      x(35.0, 23.6),
    ],
  },
  { name: 'Co-57', category: 'medical', lines: [g(122.06, 85.6), g(136.47, 10.68)] },
  { name: 'Co-60', category: 'industrial', lines: [g(1173.23, 99.85), g(1332.49, 99.98)] },
  { name: 'Cs-137', category: 'industrial', members: ['Cs-137', 'Ba-137m'], lines: [g(661.66, 85.1), x(32.1, 5.63), x(36.4, 1.33)] },
  {
    name: 'Eu-152',
    category: 'industrial',
    lines: [
      g(121.78, 28.53),
      g(244.7, 7.55),
      g(344.28, 26.59),
      g(411.12, 2.24),
      g(443.96, 2.83),
      g(778.9, 12.93),
      g(867.38, 4.23),
      g(964.08, 14.51),
      g(1085.84, 10.11),
      g(1112.08, 13.67),
      g(1408.01, 20.87),
      x(40.0, 59.0),
      x(45.4, 15.0),
    ],
  },
  {
    name: 'I-131',
    category: 'medical',
    lines: [g(80.19, 2.62), g(284.31, 6.12), g(364.49, 81.5), g(636.99, 7.16), g(722.91, 1.77), x(29.8, 3.9)],
  },
  {
    name: 'Ir-192',
    category: 'industrial',
    lines: [
      g(205.8, 3.34),
      g(295.96, 28.72),
      g(308.46, 29.7),
      g(316.51, 82.86),
      g(468.07, 47.84),
      g(484.58, 3.19),
      g(588.58, 4.52),
      g(604.41, 8.2),
      g(612.47, 5.34),
      x(66.8, 7.6),
    ],
  },
  { name: 'Na-22', category: 'industrial', lines: [g(511.0, 180.7), g(1274.54, 99.94)] },
  { name: 'F-18', category: 'medical', lines: [g(511.0, 193.45)] },
  { name: 'Tc-99m', category: 'medical', lines: [g(140.51, 89.0)] },
  { name: 'Tl-201', category: 'medical', lines: [g(135.34, 2.57), g(167.43, 10.0), x(70.8, 73.0), x(80.3, 20.5)] },
  {
    name: 'U-235',
    category: 'SNM',
    lines: [g(109.16, 1.66), g(143.76, 10.96), g(163.36, 5.08), g(185.72, 57.2), g(202.11, 1.08), g(205.31, 5.01), x(92.0, 9.0)],
  },
  {
    name: 'Pu-239',
    category: 'SNM',
    // 38.7 and 51.6 keV are left out: they sit among X-rays (Sm K of Eu-152, U L/K) and under Am-241's 59.5 keV.
    lines: [g(129.3, 0.0063), g(203.55, 0.00057), g(345.01, 0.00056), g(375.05, 0.00155), g(413.71, 0.00147)],
  },
];

/** Man-made = anything that is not NORM: the category a background-only spectrum must never produce. */
export const isManMade = (n: Pick<Nuclide, 'category'>): boolean => n.category !== 'NORM';
