import { z } from 'zod';
import { RadscreenError } from '../core/errors.ts';

/**
 * The canonical gamma spectrum (docs/spectroscopy.md §1): what every reader produces and what
 * identification consumes. Pure data, JSON-serialisable, validated by {@link SpectrumSchema}.
 */

/** Largest spectrum accepted: no handheld or portal has more channels; a bad file must not eat memory. */
export const MAX_SPECTRUM_CHANNELS = 16_384;

/** Why the spectrum was measured (N42.42 `MeasurementClassCode`; RadiaCode files know foreground and background). */
export const MEASUREMENT_CLASSES = ['Foreground', 'Background', 'Calibration', 'IntrinsicActivity', 'NotSpecified'] as const;

export const SpectrumSchema = z
  .object({
    /** Number of channels (= counts.length). */
    channels: z.number().int().min(16).max(MAX_SPECTRUM_CHANNELS),
    /** Counts per channel, channel 0 first; non-negative integers. */
    counts: z.array(z.number().int().nonnegative()),
    /**
     * Energy calibration polynomial, ascending: E(keV) = c0 + c1·ch + c2·ch² + …, ch the 0-based
     * channel index (the channel's lower edge, as RadiaCode and N42 `CoefficientValues` use it).
     */
    calibration: z.array(z.number().refine(Number.isFinite, 'must be finite')).min(2).max(5),
    /** Live time in seconds (> 0): the denominator of every count rate. */
    live_time_s: z.number().positive().finite(),
    /** Real (clock) time in seconds, when the source says; ≥ live time. */
    real_time_s: z.number().positive().finite().optional(),
    /** Instrument that measured: serial number when known, else model. */
    device: z.string().min(1).max(128),
    /** Instrument model, e.g. `RadiaCode-102`. */
    model: z.string().max(128).optional(),
    /** Start of the acquisition, ms since the epoch (a file time without a zone is read as UTC). */
    ts: z.number().int().nonnegative(),
    measurement_class: z.enum(MEASUREMENT_CLASSES),
    /** Free-text name from the file (`SpectrumName`, N42 `Remark`), for people only. */
    name: z.string().max(256).optional(),
  })
  .superRefine((s, ctx) => {
    if (s.counts.length !== s.channels)
      ctx.addIssue({ code: 'custom', path: ['counts'], message: `has ${s.counts.length} values, channels says ${s.channels}` });
    if (s.real_time_s !== undefined && s.real_time_s + 1e-6 < s.live_time_s)
      ctx.addIssue({ code: 'custom', path: ['real_time_s'], message: 'is shorter than the live time' });
  });

export type Spectrum = z.infer<typeof SpectrumSchema>;

/**
 * Validates a spectrum built by a reader.
 * @throws RadscreenError RS_ERR_SPECTRUM_INVALID listing every problem as `path: message`.
 */
export function checkSpectrum(candidate: unknown, where: string): Spectrum {
  const r = SpectrumSchema.safeParse(candidate);
  if (r.success) return r.data;
  const problems = r.error.issues.map((i) => `${i.path.join('.') || 'spectrum'}: ${i.message}`);
  throw new RadscreenError('RS_ERR_SPECTRUM_INVALID', `${where}: invalid spectrum: ${problems.join('; ')}`, problems);
}

/** Energy (keV) at a fractional channel position under the spectrum's calibration. */
export function energyAt(calibration: readonly number[], channel: number): number {
  let e = 0;
  for (let k = calibration.length - 1; k >= 0; k--) e = e * channel + (calibration[k] as number);
  return e;
}

/** Channel positions of every channel's lower edge in keV (length channels + 1, so widths are differences). */
export function channelEdgesKeV(s: Pick<Spectrum, 'calibration' | 'channels'>): Float64Array {
  const edges = new Float64Array(s.channels + 1);
  for (let i = 0; i <= s.channels; i++) edges[i] = energyAt(s.calibration, i);
  return edges;
}

/** Total counts of the spectrum. */
export function totalCounts(s: Pick<Spectrum, 'counts'>): number {
  let t = 0;
  for (const c of s.counts) t += c;
  return t;
}
