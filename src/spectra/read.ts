import { RadscreenError } from '../core/errors.ts';
import { parseN42Spectra } from '../importers/n42-spectra.ts';
import { isRadiacodeXml, parseRadiacodeXml } from './read-radiacode.ts';
import type { Spectrum } from './spectrum.ts';

/** Spectrum file formats radscreen reads (docs/spectroscopy.md §2). */
export type SpectrumFormat = 'radiacode-xml' | 'n42';

/** Spectrum files larger than this are refused before parsing (a 16k-channel N42 is well under 1 MiB). */
export const MAX_SPECTRUM_FILE_BYTES = 32 * 1024 * 1024;

/**
 * Reads a spectrum file by content, not by name: RadiaCode `ResultDataFile` or N42.42-2011.
 * @throws RadscreenError RS_ERR_SPECTRUM_INVALID (or RS_ERR_FRAME_SYNTAX from the N42 importer).
 */
export function readSpectrumFile(text: string): { format: SpectrumFormat; spectra: Spectrum[] } {
  const head = text.slice(0, 4096);
  if (isRadiacodeXml(head)) return { format: 'radiacode-xml', spectra: parseRadiacodeXml(text) };
  if (/<(\w+:)?RadInstrumentData[\s>]/.test(head) || /<(\w+:)?N42InstrumentData[\s>]/.test(head))
    return { format: 'n42', spectra: parseN42Spectra(text) };
  throw new RadscreenError(
    'RS_ERR_SPECTRUM_INVALID',
    'not a spectrum file: expected an N42.42-2011 <RadInstrumentData> or a RadiaCode <ResultDataFile> document',
  );
}

/** The spectrum to analyse: the first foreground (else the first spectrum). */
export function foregroundOf(spectra: readonly Spectrum[]): Spectrum | undefined {
  return spectra.find((s) => s.measurement_class === 'Foreground') ?? spectra[0];
}
