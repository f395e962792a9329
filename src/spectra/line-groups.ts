import { fwhmKeV, MIN_LINE_KEV, relativeEfficiency } from './detector.ts';
import type { Nuclide } from './library.ts';

/**
 * A nuclide's lines as the detector sees them: lines closer than half a FWHM merge into one
 * expected peak (intensity-weighted energy), weighted by the detector's relative efficiency.
 */
export interface LineGroup {
  /** keV, intensity-weighted mean of the merged lines */
  energy: number;
  /** Expected relative peak area: Σ intensity × relative efficiency. */
  weight: number;
  /** Library energies of the merged lines (for reporting). */
  lines: number[];
  /** Every merged line is an X-ray. */
  xray: boolean;
}

const cache = new WeakMap<Nuclide, LineGroup[]>();

/** The nuclide's line groups (cached per library entry: the model is fixed). */
export function lineGroups(nuclide: Nuclide): LineGroup[] {
  const hit = cache.get(nuclide);
  if (hit) return hit;
  const sorted = nuclide.lines.filter((l) => l.energy >= MIN_LINE_KEV).sort((a, b) => a.energy - b.energy);
  const groups: { e: number; i: number; w: number; lines: number[]; xray: boolean }[] = [];
  for (const line of sorted) {
    const last = groups[groups.length - 1];
    const w = line.intensity * relativeEfficiency(line.energy);
    if (last && line.energy - last.e / last.i <= 0.5 * fwhmKeV(line.energy)) {
      last.e += line.energy * line.intensity;
      last.i += line.intensity;
      last.w += w;
      last.lines.push(line.energy);
      last.xray &&= line.xray === true;
    } else groups.push({ e: line.energy * line.intensity, i: line.intensity, w, lines: [line.energy], xray: line.xray === true });
  }
  const out = groups.map((gr) => ({ energy: gr.e / gr.i, weight: gr.w, lines: gr.lines, xray: gr.xray }));
  cache.set(nuclide, out);
  return out;
}
