import { createHash } from 'node:crypto';
import { XMLBuilder } from 'fast-xml-parser';
import type { Identification } from '../spectra/identify.ts';
import type { Spectrum } from '../spectra/spectrum.ts';
import { N42_NS } from './n42-export.ts';

/**
 * A spectrum and its identification as an ANSI N42.42-2011 document (docs/spectroscopy.md §9):
 * instrument, detector, energy calibration, one `RadMeasurement` with the spectrum
 * (`CountedZeroes`), and `AnalysisResults` with `NuclideAnalysisResults`. Element order follows the
 * N42.42-2011 schema's sequences. Pure: the analysis time is passed in, the document UUID is
 * derived from the content, so the same input gives the same bytes.
 */

export interface SpectrumN42Options {
  /** When the identification ran (ms since the epoch); omitted from the document when absent. */
  analysedAt?: number;
  manufacturer?: string;
  /** N42 `RadInstrumentClassCode`; a RadiaCode is a spectroscopic personal radiation detector. */
  instrumentClass?: string;
  /** N42 `RadDetectorKindCode`, e.g. `CsI`, `NaI`, `HPGe`. */
  detectorKind?: string;
  creator?: string;
}

const iso = (ms: number) => new Date(ms).toISOString();
const duration = (s: number) => `PT${Number(s.toFixed(3))}S`;

/** Channel list with zero runs written as `0 n` (N42 `CountedZeroes`). */
export function countedZeroes(counts: readonly number[]): string {
  const out: string[] = [];
  for (let i = 0; i < counts.length; ) {
    if (counts[i] !== 0) {
      out.push(String(counts[i]));
      i++;
      continue;
    }
    let run = 0;
    while (i < counts.length && counts[i] === 0) {
      run++;
      i++;
    }
    out.push('0', String(run));
  }
  return out.join(' ');
}

export function buildSpectrumN42(spectrum: Spectrum, result: Identification, opts: SpectrumN42Options = {}): string {
  const model = spectrum.model ?? spectrum.device;
  const manufacturer = opts.manufacturer ?? (model.toLowerCase().startsWith('radiacode') ? 'Radiacode' : 'Unknown');
  const channelData = countedZeroes(spectrum.counts);
  const uuid = createHash('sha256')
    .update(JSON.stringify([spectrum.device, spectrum.ts, spectrum.calibration, channelData, result.nuclides]))
    .digest('hex');
  const nuclides = result.nuclides.map((n) => ({
    Remark: `peaks ${n.peaks_kev.join(', ')} keV (found at ${n.measured_kev.join(', ')} keV), evidence ${n.evidence_sigma} sigma${
      n.members ? `; chain ${n.members.join(', ')}` : ''
    }`,
    NuclideIdentifiedIndicator: 'true',
    NuclideName: n.nuclide,
    // Percent: the schema's confidence value is a plain number; 0…100 is what instruments write.
    NuclideIDConfidenceValue: String(Number((n.confidence * 100).toFixed(1))),
    NuclideCategoryDescription: n.category,
  }));
  const summary =
    result.nuclides.length === 0
      ? 'No nuclide identified.'
      : `Identified: ${result.nuclides.map((n) => `${n.nuclide} (${n.category}, ${Math.round(n.confidence * 100)} %)`).join('; ')}.`;
  const calibrationNote =
    result.calibration.offset_percent !== undefined
      ? ` Energy calibration offset ${result.calibration.offset_percent} %${result.calibration.ok ? '' : ' (recalibrate)'}.`
      : '';
  const doc = {
    '?xml': { '@_version': '1.0', '@_encoding': 'UTF-8' },
    RadInstrumentData: {
      '@_xmlns': N42_NS,
      '@_n42DocUUID': `${uuid.slice(0, 8)}-${uuid.slice(8, 12)}-4${uuid.slice(13, 16)}-a${uuid.slice(17, 20)}-${uuid.slice(20, 32)}`,
      RadInstrumentDataCreatorName: opts.creator ?? 'radscreen',
      RadInstrumentInformation: {
        '@_id': 'rii-1',
        RadInstrumentManufacturerName: manufacturer,
        RadInstrumentIdentifier: spectrum.device,
        RadInstrumentModelName: model,
        RadInstrumentClassCode: opts.instrumentClass ?? 'Spectroscopic Personal Radiation Detector',
        RadInstrumentVersion: { RadInstrumentComponentName: 'radscreen', RadInstrumentComponentVersion: '1' },
      },
      RadDetectorInformation: {
        '@_id': 'det-1',
        RadDetectorCategoryCode: 'Gamma',
        RadDetectorKindCode: opts.detectorKind ?? 'Other',
      },
      EnergyCalibration: { '@_id': 'ec-1', CoefficientValues: spectrum.calibration.join(' ') },
      RadMeasurement: {
        '@_id': 'rm-1',
        ...(spectrum.name ? { Remark: spectrum.name } : {}),
        MeasurementClassCode: spectrum.measurement_class,
        StartDateTime: iso(spectrum.ts),
        RealTimeDuration: duration(spectrum.real_time_s ?? spectrum.live_time_s),
        Spectrum: {
          '@_id': 'sp-1',
          '@_radDetectorInformationReference': 'det-1',
          '@_energyCalibrationReference': 'ec-1',
          LiveTimeDuration: duration(spectrum.live_time_s),
          ChannelData: { '@_compressionCode': 'CountedZeroes', '#text': channelData },
        },
      },
      AnalysisResults: {
        '@_radMeasurementReferences': 'rm-1',
        ...(opts.analysedAt !== undefined ? { AnalysisStartDateTime: iso(opts.analysedAt) } : {}),
        AnalysisAlgorithmName: 'radscreen identify',
        AnalysisAlgorithmCreatorName: 'radscreen',
        AnalysisAlgorithmDescription:
          'Poisson top-hat peak search, line-consistency scoring against an NNDC/ENSDF gamma library, NORM explained first',
        AnalysisAlgorithmVersion: {
          AnalysisAlgorithmComponentName: 'library',
          AnalysisAlgorithmComponentVersion: 'NNDC NuDat 3 (2026-12)',
        },
        AnalysisResultDescription: `${summary}${calibrationNote}`,
        NuclideAnalysisResults: nuclides.length > 0 ? { Nuclide: nuclides } : { Remark: 'no nuclide identified' },
      },
    },
  };
  const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', format: true, suppressEmptyNode: true });
  return builder.build(doc) as string;
}
