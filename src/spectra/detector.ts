/**
 * The detector model identification assumes (docs/spectroscopy.md §3): a small CsI(Tl)
 * scintillator such as the RadiaCode 10x. Used to size the peak filter, to merge lines the
 * detector cannot separate and to predict how strong one line of a nuclide should be relative
 * to another. Crude on purpose: it only has to rank, not to quantify activity.
 */

/** Relative resolution (FWHM / E) at 662 keV: about 8 % for CsI(Tl) (RadiaCode data sheet: 8.4 % ± 0.3 %). */
export const FWHM_AT_662 = 0.08;

/** FWHM in keV at `energyKeV`: statistical scaling, FWHM ∝ √E, anchored at 662 keV. */
export function fwhmKeV(energyKeV: number, relativeAt662 = FWHM_AT_662): number {
  return relativeAt662 * 662 * Math.sqrt(Math.max(energyKeV, 10) / 662);
}

/** Below this the RadiaCode's discriminator and the L X-ray clutter make peaks unusable for identification. */
export const MIN_LINE_KEV = 25;

/**
 * Relative full-energy-peak efficiency of a ~1 cm³ CsI(Tl) crystal: about 1 up to 150 keV (every
 * photon absorbed), falling as E^-1.5 above (photoelectric fraction and crystal size). Only ratios
 * between lines of one nuclide matter, so the absolute scale is irrelevant.
 */
export function relativeEfficiency(energyKeV: number): number {
  return energyKeV <= 150 ? 1 : (150 / energyKeV) ** 1.5;
}
