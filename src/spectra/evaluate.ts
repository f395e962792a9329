import { fwhmKeV } from './detector.ts';
import type { Nuclide } from './library.ts';
import { type LineGroup, lineGroups } from './line-groups.ts';
import type { Peak, PeakFilter } from './peaks.ts';

/**
 * How well one nuclide explains the peaks found (docs/spectroscopy.md §3.3): match each expected
 * peak (line group) to a found peak, fit one scale factor (median of observed / expected), then
 * check every other line against it. A line the scale says should stand out clearly but is not
 * there contradicts the nuclide; that is what keeps Ra-226 from claiming Ba-133's 356 keV peak
 * (no 609 keV) and I-131 from claiming background's 352 keV peak when 352 is all there is.
 */

/** One line group's verdict. */
export interface GroupMatch {
  group: LineGroup;
  /** Index into the peak list, when a peak is matched. */
  peak?: number;
  /** Significance the fitted scale predicts for this group. */
  predictedZ: number;
  verdict: 'consistent' | 'too-weak' | 'shared' | 'missing' | 'masked' | 'not-expected' | 'blended';
}

export interface Evaluation {
  nuclide: Nuclide;
  matches: GroupMatch[];
  /** 0…1: share of the (significance-weighted) evidence for and against that is for. */
  consistency: number;
}

/** A found peak within this many FWHM of a line belongs to it (calibration drift, blends). */
const MATCH_FWHM = 0.5;
/** Observed/predicted area ratios accepted as consistent: the efficiency model is crude. */
const RATIO_MIN = 0.2;
const RATIO_MAX = 5;
/** A missing line counts against the nuclide only when predicted at least this significant. */
const MISSING_Z = 4;

export interface SpectrumView {
  peaks: readonly Peak[];
  filter: PeakFilter;
  /** Channel (fractional) for an energy; undefined outside the spectrum. */
  channelOf: (energyKeV: number) => number | undefined;
  /** Highest usable energy (keV). */
  maxKeV: number;
}

export function evaluateNuclide(nuclide: Nuclide, view: SpectrumView): Evaluation | undefined {
  const groups = lineGroups(nuclide).filter((gr) => gr.energy <= view.maxKeV);
  const nearest = assignPeaks(groups, view.peaks);
  const matched = groups.map((gr, i) => ({ gr, peak: nearest[i] }));
  if (!matched.some((m) => m.peak !== undefined && !m.gr.xray)) return undefined;
  const ratios = matched
    .filter((m) => m.peak !== undefined)
    .map((m) => (view.peaks[m.peak as number] as Peak).area / m.gr.weight)
    .sort((a, b) => a - b);
  // Lower median: a peak shared with another nuclide (Am-241's 59.5 keV under U-238's 63.3 keV)
  // has an inflated ratio; the scale must come from the nuclide's own peaks.
  const scale = ratios[Math.floor((ratios.length - 1) / 2)] ?? 0;
  const matches: GroupMatch[] = matched.map(({ gr, peak }) => {
    const predictedZ = predictedSignificance(gr, scale, view);
    if (peak !== undefined) {
      const r = (view.peaks[peak] as Peak).area / (scale * gr.weight);
      // Much stronger than predicted: another nuclide shares the peak, which says nothing against this one.
      return { group: gr, peak, predictedZ, verdict: r < RATIO_MIN ? 'too-weak' : r > RATIO_MAX ? 'shared' : 'consistent' };
    }
    // Two lines of one nuclide within a FWHM make one peak for this detector: the neighbour speaks for both.
    // Excused only when the found peak sits where the blend of both lines would put it (Co-57's 122 keV
    // cannot hide in a peak at 141 keV, Tc-99m's line).
    const blended = matched.some((o) => {
      if (o.peak === undefined || Math.abs(o.gr.energy - gr.energy) > fwhmKeV(gr.energy)) return false;
      const blend = (o.gr.energy * o.gr.weight + gr.energy * gr.weight) / (o.gr.weight + gr.weight);
      return Math.abs((view.peaks[o.peak] as Peak).energyKeV - blend) <= MATCH_FWHM * fwhmKeV(blend);
    });
    if (blended) return { group: gr, predictedZ, verdict: 'blended' };
    // A bigger peak within 2 FWHM spoils the side windows of the filter here: the line cannot be judged.
    const predictedArea = scale * gr.weight;
    const masked = view.peaks.some((p) => p.area > predictedArea && Math.abs(p.energyKeV - gr.energy) <= 2 * fwhmKeV(gr.energy));
    if (masked) return { group: gr, predictedZ, verdict: 'masked' };
    return { group: gr, predictedZ, verdict: predictedZ >= MISSING_Z ? 'missing' : 'not-expected' };
  });
  let pro = 0;
  let contra = 0;
  for (const m of matches) {
    const z = m.peak !== undefined ? (view.peaks[m.peak] as Peak).significance : 0;
    if (m.verdict === 'consistent') pro += z;
    else if (m.verdict === 'too-weak') contra += Math.max(m.predictedZ - z - 2, 0);
    // Noise: a line predicted at 5 σ may still fall below the search threshold, so 2 σ of slack.
    else if (m.verdict === 'missing') contra += m.predictedZ - 2;
  }
  return { nuclide, matches, consistency: pro + contra > 0 ? pro / (pro + contra) : 0 };
}

/** For every group, the found peak it is the nearest line group to (within MATCH_FWHM). */
function assignPeaks(groups: LineGroup[], peaks: readonly Peak[]): (number | undefined)[] {
  const out: (number | undefined)[] = groups.map(() => undefined);
  peaks.forEach((p, pi) => {
    let best = -1;
    let bestD = Number.POSITIVE_INFINITY;
    groups.forEach((gr, gi) => {
      const d = Math.abs(p.energyKeV - gr.energy);
      if (d <= MATCH_FWHM * fwhmKeV(gr.energy) && d < bestD) {
        best = gi;
        bestD = d;
      }
    });
    if (best < 0) return;
    const current = out[best];
    // Two peaks near one group: keep the more significant.
    if (current === undefined || (peaks[current] as Peak).significance < p.significance) out[best] = pi;
  });
  return out;
}

function predictedSignificance(gr: LineGroup, scale: number, view: SpectrumView): number {
  const ch = view.channelOf(gr.energy);
  if (ch === undefined) return 0;
  const sigma = view.filter.sigma[Math.round(ch)];
  if (sigma === undefined || !Number.isFinite(sigma)) return 0;
  return (scale * gr.weight * view.filter.windowFraction) / sigma;
}
