import { RadscreenError } from '../core/errors.ts';
import { fwhmKeV, MIN_LINE_KEV } from './detector.ts';
import { type Evaluation, evaluateNuclide, type SpectrumView } from './evaluate.ts';
import { isManMade, NUCLIDE_LIBRARY, type Nuclide, type NuclideCategory } from './library.ts';
import { applyPeakFilter, type FilterBackground, findPeaks, type Peak } from './peaks.ts';
import { energyAt, type Spectrum } from './spectrum.ts';

/**
 * Isotope identification (docs/spectroscopy.md §3): a pure function of a spectrum and a
 * library. No clock, no I/O; the same input always gives the same answer.
 */

/** One identified nuclide. */
export interface IdentifiedNuclide {
  /** `Cs-137`; chains under their parent (`Th-232`, `Ra-226` for the U-238 series). */
  nuclide: string;
  category: NuclideCategory;
  /** 0…1: consistency of all its lines × strength of the evidence (see docs §3.4). */
  confidence: number;
  /** Library energies (keV, 0.1 keV) of the lines whose peaks support it: gamma lines by significance, then X-rays. */
  peaks_kev: number[];
  /** Where those peaks were found (keV, same order). */
  measured_kev: number[];
  /** Combined significance (σ) of its supporting peaks. */
  evidence_sigma: number;
  /** Chain members included, when the entry is a chain. */
  members?: string[];
}

export interface CalibrationCheck {
  /** Median (found − library) / library energy of the supporting gamma peaks, in %; undefined without any. */
  offset_percent?: number;
  /** True when that offset is within ±2 %; past about half a FWHM (4 % at 662 keV, 2.8 % at 1.3 MeV) lines stop matching at all. */
  ok: boolean;
}

export interface Identification {
  /** Sorted by confidence, best first. */
  nuclides: IdentifiedNuclide[];
  peaks: Peak[];
  calibration: CalibrationCheck;
}

export interface IdentifyOptions {
  library?: readonly Nuclide[];
  /** Peak search threshold in σ above the local continuum (default 4). */
  minPeakSignificance?: number;
  /**
   * A background measured with the same instrument (same channels, calibration within 2 %): it is
   * subtracted scaled by live time, so its lines (K-40, radium, thorium) cancel. The spectrum then
   * needs its `live_time_s`.
   */
  background?: Pick<Spectrum, 'counts' | 'calibration' | 'live_time_s'>;
}

/** Report a nuclide only at or above these. */
const MIN_CONSISTENCY = 0.6;
const MIN_EVIDENCE_SIGMA = 5;
const MIN_CONFIDENCE = 0.5;

/**
 * Identifies the nuclides in `spectrum`.
 * @throws RadscreenError RS_ERR_CALIBRATION_IMPLAUSIBLE when the energy calibration is not
 * increasing over the channels or maps them to an energy range no gamma detector covers.
 */
export function identify(
  spectrum: Pick<Spectrum, 'counts' | 'calibration'> & { live_time_s?: number },
  options: IdentifyOptions = {},
): Identification {
  const library = options.library ?? NUCLIDE_LIBRARY;
  const edges = checkCalibration(spectrum);
  const filter = applyPeakFilter(spectrum, options.background ? backgroundFor(spectrum, edges, options.background) : undefined);
  const peaks = findPeaks(spectrum, filter, options.minPeakSignificance ?? 4, MIN_LINE_KEV - 10);
  const maxKeV = edges[edges.length - 1] as number;
  const view: SpectrumView = { peaks, filter, maxKeV, channelOf: (e) => channelOf(edges, e) };
  const candidates = library
    .map((n) => evaluateNuclide(n, view))
    .filter((e): e is Evaluation => e !== undefined && e.consistency >= MIN_CONSISTENCY);
  const nuclides = resolveCompetition(candidates, peaks);
  return { nuclides, peaks, calibration: calibrationOffset(nuclides) };
}

/**
 * Each peak is explained once. NORM goes first: a man-made nuclide is reported only for peaks
 * natural radioactivity does not already explain (so background never yields one); then the
 * rest by strength. A candidate keeps only its unclaimed consistent peaks and must still have
 * a gamma line (not only X-rays) and enough evidence among them, and one of its main lines
 * must have its own peak ({@link ownsMainLine}).
 */
function resolveCompetition(candidates: Evaluation[], peaks: Peak[]): IdentifiedNuclide[] {
  const strength = (e: Evaluation) => e.consistency * evidence(e, peaks, new Set());
  const ordered = [...candidates].sort((a, b) => Number(isManMade(a.nuclide)) - Number(isManMade(b.nuclide)) || strength(b) - strength(a));
  const bestFit = bestFitPerPeak(candidates, peaks);
  const claimed = new Set<number>();
  const out: IdentifiedNuclide[] = [];
  for (const e of ordered) {
    // Peaks another candidate's line fits clearly better are not this one's to take (see bestFitPerPeak).
    const taken = new Set(claimed);
    for (const m of e.matches)
      if (
        m.peak !== undefined &&
        !m.group.xray &&
        misfit(m.group.energy, peaks[m.peak] as Peak) > (bestFit[m.peak] as number) + FIT_MARGIN_FWHM
      )
        taken.add(m.peak);
    const support = e.matches.filter((m) => m.verdict === 'consistent' && m.peak !== undefined && !taken.has(m.peak));
    if (!support.some((m) => !m.group.xray)) continue;
    if (!ownsMainLine(e, taken)) continue;
    const sigma = evidence(e, peaks, taken);
    const confidence = e.consistency * (1 - Math.exp(-sigma / 5));
    if (sigma < MIN_EVIDENCE_SIGMA || confidence < MIN_CONFIDENCE) continue;
    // Gamma lines claim their peaks. X-ray peaks are claimed only by NORM: the 72–85 keV Pb/Bi K X-rays of
    // natural background must not become Ba-133's 81 keV, but Cs-137's Ba K X-rays must not hide Ba-133.
    for (const m of e.matches)
      if (m.peak !== undefined && !taken.has(m.peak) && m.verdict === 'consistent' && (!m.group.xray || !isManMade(e.nuclide)))
        claimed.add(m.peak);
    claimScatterFeatures(e, peaks, claimed);
    // Gamma lines before X-rays (the X-rays only support), each by significance.
    const bySignificance = support.sort(
      (a, b) =>
        Number(a.group.xray) - Number(b.group.xray) ||
        (peaks[b.peak as number] as Peak).significance - (peaks[a.peak as number] as Peak).significance,
    );
    out.push({
      nuclide: e.nuclide.name,
      category: e.nuclide.category,
      confidence: round(confidence, 3),
      peaks_kev: bySignificance.map((m) => round(m.group.energy, 1)),
      measured_kev: bySignificance.map((m) => round((peaks[m.peak as number] as Peak).energyKeV, 1)),
      evidence_sigma: round(sigma, 1),
      ...(e.nuclide.members ? { members: e.nuclide.members } : {}),
    });
  }
  return out.sort((a, b) => b.confidence - a.confidence || b.evidence_sigma - a.evidence_sigma);
}

/**
 * How far beyond the best-fitting candidate's line (in FWHM) a candidate's line may sit and still
 * take the peak. A quarter FWHM (9 keV at 352 keV) keeps calibration drift and blends from moving
 * peaks between neighbours (Pb-214 351.9 vs Ba-133 356.0 keV differ by 0.1 FWHM), but gives I-131's
 * 364.5 keV peak to I-131 rather than to radium's 351.9 keV line (0.33 FWHM away), found with the
 * RadiaCode simulator (docs/spectroscopy.md §3.4).
 */
const FIT_MARGIN_FWHM = 0.25;

/** Distance of a peak from a line, in FWHM at the line. */
const misfit = (lineKeV: number, peak: Peak) => Math.abs(peak.energyKeV - lineKeV) / fwhmKeV(lineKeV);

/**
 * For each peak, the smallest misfit among the candidates' consistent gamma-line matches: NORM
 * still goes first (docs §3.4), but only for the peaks its lines fit about as well as any other
 * candidate's; otherwise radium's 352 keV line takes I-131's 364 keV peak, and I-131's 637 keV
 * peak, left alone, passes for Cs-137's 662 keV.
 */
function bestFitPerPeak(candidates: Evaluation[], peaks: Peak[]): number[] {
  const best = peaks.map(() => Number.POSITIVE_INFINITY);
  for (const e of candidates)
    for (const m of e.matches)
      if (m.peak !== undefined && m.verdict === 'consistent' && !m.group.xray)
        best[m.peak] = Math.min(best[m.peak] as number, misfit(m.group.energy, peaks[m.peak] as Peak));
  return best;
}

/**
 * The nuclide's main gamma lines (weight ≥ half the strongest among those that can be judged, i.e.
 * not masked by a bigger neighbour, shared or blended) must include one with its own unclaimed
 * peak: Pu-239 is not made of Eu-152's Sm X-rays and 122 keV line, Tl-201 not of Ba-133's 81 keV.
 */
function ownsMainLine(e: Evaluation, claimed: Set<number>): boolean {
  const judged = e.matches.filter((m) => !m.group.xray && m.verdict !== 'masked' && m.verdict !== 'shared' && m.verdict !== 'blended');
  const strongest = Math.max(0, ...judged.map((m) => m.group.weight));
  return judged.some(
    (m) => m.group.weight >= 0.5 * strongest && m.verdict === 'consistent' && m.peak !== undefined && !claimed.has(m.peak),
  );
}

/**
 * A strong line also makes a backscatter hump (E / (1 + 2E/511), photons scattered back from the
 * surroundings) and a Compton-edge hump just below E·(2E/511)/(1 + 2E/511); the peak search sees
 * both. They are claimed by the accepted nuclide when weaker than half its photopeak, so the
 * 511 keV edge is not Ir-192 and Ba-133's backscatter is not U-235 (docs §3.5).
 */
function claimScatterFeatures(e: Evaluation, peaks: Peak[], claimed: Set<number>): void {
  for (const m of e.matches) {
    if (m.verdict !== 'consistent' || m.peak === undefined || m.group.xray) continue;
    const parent = peaks[m.peak] as Peak;
    const E = m.group.energy;
    const backscatter = E / (1 + (2 * E) / 511);
    const edge = E - backscatter;
    peaks.forEach((p, i) => {
      if (claimed.has(i) || p.area >= 0.5 * parent.area) return;
      const inBackscatter = p.energyKeV >= backscatter - fwhmKeV(backscatter) && p.energyKeV <= backscatter + 2 * fwhmKeV(backscatter);
      const inEdge = p.energyKeV >= 0.8 * edge && p.energyKeV <= edge + 0.5 * fwhmKeV(edge);
      if (inBackscatter || inEdge) claimed.add(i);
    });
  }
}

/** √Σ z² over the nuclide's consistent, unclaimed gamma peaks (X-rays only support consistency). */
function evidence(e: Evaluation, peaks: Peak[], claimed: Set<number>): number {
  let s = 0;
  for (const m of e.matches)
    if (m.verdict === 'consistent' && m.peak !== undefined && !m.group.xray && !claimed.has(m.peak))
      s += (peaks[m.peak] as Peak).significance ** 2;
  return Math.sqrt(s);
}

/**
 * The background's counts and live-time scale, when it is comparable.
 * @throws RadscreenError RS_ERR_SPECTRUM_INVALID when channels, calibration or live times do not allow it.
 */
function backgroundFor(
  spectrum: Pick<Spectrum, 'counts'> & { live_time_s?: number },
  edges: Float64Array,
  background: Pick<Spectrum, 'counts' | 'calibration' | 'live_time_s'>,
): FilterBackground {
  const n = spectrum.counts.length;
  const problems: string[] = [];
  if (background.counts.length !== n) problems.push(`it has ${background.counts.length} channels, the spectrum ${n}`);
  else
    for (const ch of [n >> 2, n >> 1, n]) {
      const e = edges[ch] as number;
      if (Math.abs(energyAt(background.calibration, ch) - e) > 0.02 * Math.abs(e))
        problems.push(`its calibration differs by more than 2 % at channel ${ch}`);
    }
  if (!(spectrum.live_time_s && spectrum.live_time_s > 0)) problems.push('the spectrum has no live time to scale it by');
  if (problems.length > 0)
    throw new RadscreenError('RS_ERR_SPECTRUM_INVALID', `background cannot be subtracted: ${problems.join('; ')}`, problems);
  return { counts: background.counts, scale: (spectrum.live_time_s as number) / background.live_time_s };
}

/** Channel edges in keV; refuses a calibration no detector could have. */
function checkCalibration(spectrum: Pick<Spectrum, 'counts' | 'calibration'>): Float64Array {
  const n = spectrum.counts.length;
  const edges = new Float64Array(n + 1);
  for (let i = 0; i <= n; i++) edges[i] = energyAt(spectrum.calibration, i);
  const problems: string[] = [];
  for (let i = 1; i <= n; i++)
    if (!((edges[i] as number) > (edges[i - 1] as number))) {
      problems.push(`energy does not increase at channel ${i - 1}`);
      break;
    }
  const low = edges[0] as number;
  const high = edges[n] as number;
  if (low < -100 || low > 200) problems.push(`channel 0 is at ${low.toFixed(1)} keV (expected −100…200)`);
  if (high < 300 || high > 20_000) problems.push(`the last channel ends at ${high.toFixed(1)} keV (expected 300…20000)`);
  if (problems.length > 0)
    throw new RadscreenError(
      'RS_ERR_CALIBRATION_IMPLAUSIBLE',
      `energy calibration [${spectrum.calibration.join(', ')}] is implausible: ${problems.join('; ')}`,
      problems,
    );
  return edges;
}

function channelOf(edges: Float64Array, energyKeV: number): number | undefined {
  const n = edges.length - 1;
  if (energyKeV < (edges[0] as number) || energyKeV >= (edges[n] as number)) return undefined;
  let lo = 0;
  let hi = n;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if ((edges[mid] as number) <= energyKeV) lo = mid;
    else hi = mid;
  }
  return lo;
}

function calibrationOffset(nuclides: IdentifiedNuclide[]): CalibrationCheck {
  const offsets: number[] = [];
  for (const n of nuclides)
    n.peaks_kev.forEach((lib, i) => {
      // X-ray and sub-100 keV peaks sit off the polynomial (CsI non-proportionality); gamma lines above judge it.
      if (lib >= 100) offsets.push((100 * ((n.measured_kev[i] as number) - lib)) / lib);
    });
  if (offsets.length === 0) return { ok: true };
  offsets.sort((a, b) => a - b);
  const mid = offsets[Math.floor(offsets.length / 2)] as number;
  return { offset_percent: round(mid, 2), ok: Math.abs(mid) <= 2 };
}

const round = (v: number, digits: number) => Math.round(v * 10 ** digits) / 10 ** digits;
