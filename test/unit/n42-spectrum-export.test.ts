import { readFileSync } from 'node:fs';
import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { parseN42Document } from '../../src/importers/n42.ts';
import { buildSpectrumN42, countedZeroes } from '../../src/server/n42-spectrum-export.ts';
import { identify } from '../../src/spectra/identify.ts';
import { readSpectrumFile } from '../../src/spectra/read.ts';
import type { Spectrum } from '../../src/spectra/spectrum.ts';

const real = (file: string): Spectrum => {
  const s = readSpectrumFile(readFileSync(`src/spectra/fixtures/${file}`, 'utf8')).spectra[0];
  if (!s) throw new Error(`${file} has no spectrum`);
  return s;
};

/** Child element names in document order (preserveOrder keeps the sequence the schema constrains). */
function childOrder(xml: string, path: string[]): string[] {
  type Ordered = Record<string, Ordered[]>;
  let nodes = new XMLParser({ preserveOrder: true, ignoreAttributes: true }).parse(xml) as Ordered[];
  for (const name of path) {
    const next = nodes.find((n) => name in n);
    if (!next) throw new Error(`no <${name}>`);
    nodes = next[name] as Ordered[];
  }
  return nodes.map((n) => Object.keys(n).find((k) => k !== ':@') as string).filter((k) => k !== '#text');
}

/** True when `names` appear in the order of `sequence` (absent ones allowed). */
const inSequence = (names: string[], sequence: string[]) =>
  names.every((n, i) => i === 0 || sequence.indexOf(n) >= sequence.indexOf(names[i - 1] as string)) &&
  names.every((n) => sequence.includes(n));

// Sequences of the N42.42-2011 schema's AnalysisResultsType and NuclideType (docs/spectroscopy.md §9).
const ANALYSIS_RESULTS = [
  'Remark',
  'AnalysisStartDateTime',
  'AnalysisComputationDuration',
  'AnalysisAlgorithmName',
  'AnalysisAlgorithmCreatorName',
  'AnalysisAlgorithmDescription',
  'AnalysisAlgorithmVersion',
  'AnalysisAlgorithmSetting',
  'AnalysisResultStatusCode',
  'AnalysisConfidenceValue',
  'AnalysisResultDescription',
  'RadAlarm',
  'NuclideAnalysisResults',
];
const NUCLIDE = [
  'Remark',
  'NuclideIdentifiedIndicator',
  'NuclideName',
  'NuclideActivityValue',
  'NuclideIDConfidenceValue',
  'NuclideCategoryDescription',
];
const ROOT = [
  'RadInstrumentDataCreatorName',
  'RadInstrumentInformation',
  'RadDetectorInformation',
  'EnergyCalibration',
  'RadMeasurement',
  'AnalysisResults',
];

describe('N42.42-2011 export of a spectrum with its identification', () => {
  it('round-trips through the N42 importer and the spectrum reader: same counts, calibration, times, device', () => {
    const s = real('Cs137_b.xml');
    const xml = buildSpectrumN42(s, identify(s), { analysedAt: Date.UTC(2026, 11, 2), detectorKind: 'CsI' });
    const doc = parseN42Document(xml);
    expect(doc.instrument).toMatchObject({ identifier: 'RC-102-001272', model: 'RadiaCode-102', manufacturer: 'Radiacode' });
    expect(doc.readings[0]?.values).toMatchObject({ spectrum_counts: 83_512, spectrum_channels: 1024, live_time: 300 });
    const back = readSpectrumFile(xml).spectra[0];
    expect(back).toMatchObject({ counts: s.counts, calibration: s.calibration, live_time_s: 300, ts: s.ts, device: s.device });
    expect(xml).toContain('compressionCode="CountedZeroes"');
  });

  it('AnalysisResults/NuclideAnalysisResults carry each nuclide, its confidence (%) and category, in schema order', () => {
    const s = real('Co60_a.xml');
    const xml = buildSpectrumN42(s, identify(s));
    const root = childOrder(xml, ['RadInstrumentData']);
    expect(root).toEqual(ROOT);
    const analysis = childOrder(xml, ['RadInstrumentData', 'AnalysisResults']);
    expect(analysis).toContain('NuclideAnalysisResults');
    expect(inSequence(analysis, ANALYSIS_RESULTS)).toBe(true);
    expect(childOrder(xml, ['RadInstrumentData', 'AnalysisResults', 'NuclideAnalysisResults'])).toEqual(['Nuclide']);
    const nuclide = childOrder(xml, ['RadInstrumentData', 'AnalysisResults', 'NuclideAnalysisResults', 'Nuclide']);
    expect(nuclide).toEqual([
      'Remark',
      'NuclideIdentifiedIndicator',
      'NuclideName',
      'NuclideIDConfidenceValue',
      'NuclideCategoryDescription',
    ]);
    expect(inSequence(nuclide, NUCLIDE)).toBe(true);
    expect(inSequence(['NuclideName', 'NuclideIdentifiedIndicator'], NUCLIDE)).toBe(false); // the check can fail
    expect(xml).toMatch(
      /<NuclideName>Co-60<\/NuclideName>\s*<NuclideIDConfidenceValue>(9\d(\.\d)?|100)<\/NuclideIDConfidenceValue>\s*<NuclideCategoryDescription>industrial</,
    );
    expect(xml).toContain('radMeasurementReferences="rm-1"');
  });

  it('background: NuclideAnalysisResults without a Nuclide; same input gives the same bytes', () => {
    const s = real('bg.xml');
    const xml = buildSpectrumN42(s, identify(s));
    expect(xml).not.toContain('<Nuclide>');
    expect(xml).toContain('<AnalysisResultDescription>No nuclide identified.</AnalysisResultDescription>');
    expect(buildSpectrumN42(s, identify(s))).toBe(xml);
    expect(xml).not.toContain('AnalysisStartDateTime'); // no time passed in, none invented
  });

  it('CountedZeroes writes zero runs as 0 n', () => {
    expect(countedZeroes([0, 0, 5, 0, 7, 0, 0, 0])).toBe('0 2 5 0 1 7 0 3');
    expect(countedZeroes([3])).toBe('3');
  });
});
