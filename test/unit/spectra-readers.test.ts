import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readSpectrumFile } from '../../src/spectra/read.ts';
import { parseRadiacodeXml } from '../../src/spectra/read-radiacode.ts';
import { SpectrumSchema, totalCounts } from '../../src/spectra/spectrum.ts';

const at = <T>(list: readonly T[], i: number): T => {
  const v = list[i];
  if (v === undefined) throw new Error(`no element ${i}`);
  return v;
};
const fixture = (name: string) => readFileSync(`src/spectra/fixtures/${name}`, 'utf8');
const am241N42 = readFileSync('src/importers/fixtures/data_am241.n42', 'utf8');

// Golden values: counted from the files (README in src/spectra/fixtures: total counts, live time, serials).
const GOLDEN = [
  { file: 'Cs137_b.xml', total: 83_512, live: 300, device: 'RC-102-001272', c2: 4.39819e-4 },
  { file: 'Co60_a.xml', total: 61_243, live: 300, device: 'RC-102-001272', c2: 4.39819e-4 },
  { file: 'Ba133_a.xml', total: 207_680, live: 300, device: 'RC-102-001272', c2: 4.39819e-4 },
  { file: 'data_am241.xml', total: 306_058, live: 613, device: 'RC-102-000115', c2: 3.818e-4 },
  { file: 'bg.xml', total: 9_481, live: 1_800, device: 'RC-102-001272', c2: 4.39819e-4 },
];

describe('RadiaCode ResultDataFile reader (real RC-102 exports)', () => {
  it.each(GOLDEN)('$file: 1024 channels, total, live time, device, calibration', (g) => {
    const { format, spectra } = readSpectrumFile(fixture(g.file));
    expect(format).toBe('radiacode-xml');
    expect(spectra).toHaveLength(1);
    const s = at(spectra, 0);
    expect(SpectrumSchema.safeParse(s).success).toBe(true);
    expect(s).toMatchObject({
      channels: 1024,
      live_time_s: g.live,
      device: g.device,
      model: 'RadiaCode-102',
      measurement_class: 'Foreground',
    });
    expect(totalCounts(s)).toBe(g.total);
    expect(s.calibration).toHaveLength(3);
    expect(s.calibration[2]).toBeCloseTo(g.c2, 10);
  });

  it('keeps channel order and the local start time read as UTC', () => {
    const s = at(readSpectrumFile(fixture('bg.xml')).spectra, 0);
    expect(s.counts.slice(0, 10)).toEqual([3, 1, 2, 0, 1, 1, 2, 8, 36, 27]);
    expect(new Date(s.ts).toISOString()).toBe('2023-11-21T06:52:39.000Z');
    expect(s.name).toBe('BG dtr');
  });

  it('reads a BackgroundEnergySpectrum layer as a separate Background spectrum with its own calibration and time', () => {
    const fg = fixture('Cs137_b.xml');
    const bgLayer = (fixture('bg.xml').match(/<EnergySpectrum>[\s\S]*<\/EnergySpectrum>/)?.[0] ?? '')
      .replaceAll('EnergySpectrum>', 'BackgroundEnergySpectrum>')
      .replace('<Coefficient>-6.38159</Coefficient>', '<Coefficient>-1.5</Coefficient>');
    const both = fg
      .replace('</EnergySpectrum>', `</EnergySpectrum>\n${bgLayer}`)
      .replace('<EndTime>', '<StartTime>2023-11-21T06:52:39</StartTime><EndTime>');
    const spectra = parseRadiacodeXml(both);
    expect(spectra.map((s) => s.measurement_class)).toEqual(['Foreground', 'Background']);
    expect(totalCounts(at(spectra, 0))).toBe(83_512);
    expect(totalCounts(at(spectra, 1))).toBe(9_481);
    expect(at(spectra, 1).live_time_s).toBe(1_800);
    expect(at(spectra, 1).calibration[0]).toBe(-1.5);
    expect(at(spectra, 0).calibration[0]).toBe(-6.38159);
    expect(new Date(at(spectra, 1).ts).toISOString()).toBe('2023-11-21T06:52:39.000Z');
  });

  it('refuses a DataPoint count different from NumberOfChannels, naming both', () => {
    const cut = fixture('Cs137_b.xml')
      .replace('<DataPoint>', '<X>')
      .replace(/<\/DataPoint>/, '</X>');
    expect(() => parseRadiacodeXml(cut)).toThrow(/1023 DataPoint values but NumberOfChannels is 1024/);
  });

  it('refuses bad numbers, a missing calibration, a DOCTYPE and non-XML with RS_ERR_SPECTRUM_INVALID', () => {
    const cs = fixture('Cs137_b.xml');
    for (const bad of [
      cs.replace('<DataPoint>', '<DataPoint>-'),
      cs.replace(/<EnergyCalibration>[\s\S]*<\/EnergyCalibration>/, ''),
      cs.replace('<MeasurementTime>300', '<MeasurementTime>0'),
      cs.replace('<StartTime>2023-11-21T07:36:38', '<StartTime>yesterday'),
      `<!DOCTYPE x>${cs}`,
      cs.slice(0, 5000),
    ])
      expect(() => parseRadiacodeXml(bad)).toThrow(expect.objectContaining({ code: 'RS_ERR_SPECTRUM_INVALID' }));
  });
});

describe('N42.42-2011 spectra (extends the N42 importer)', () => {
  it('the N42 and RadiaCode exports of the same Am-241 measurement give the same spectrum', () => {
    const n42 = readSpectrumFile(am241N42);
    const xml = readSpectrumFile(fixture('data_am241.xml'));
    expect(n42.format).toBe('n42');
    expect(at(n42.spectra, 0).counts).toEqual(at(xml.spectra, 0).counts);
    expect(at(n42.spectra, 0).calibration).toEqual([-6.2832313, 2.4383054, 0.0003818]);
    expect(n42.spectra[0]).toMatchObject({ live_time_s: 613, real_time_s: 613, device: 'RC-102-000115' });
  });

  it('expands CountedZeroes, reads several RadMeasurements and tolerates undeclared vendor prefixes', () => {
    const counts = at(readSpectrumFile(am241N42).spectra, 0).counts;
    const compressed: string[] = [];
    for (let i = 0; i < counts.length; ) {
      if (counts[i] !== 0) compressed.push(String(counts[i++]));
      else {
        let run = 0;
        while (counts[i] === 0) {
          run++;
          i++;
        }
        compressed.push('0', String(run));
      }
    }
    expect(compressed.length).toBeLessThan(counts.length); // the fixture has zero runs, so this exercises them
    const rm = am241N42.match(/<RadMeasurement[\s\S]*<\/RadMeasurement>/)?.[0] ?? '';
    const bg = rm
      .replace('id="rm-fg"', 'id="rm-bg"')
      .replace('id="rm-fg-sp"', 'id="rm-bg-sp"')
      .replace('>Foreground<', '>Background<')
      .replace(
        /<ChannelData compressionCode="None">[\s\S]*?<\/ChannelData>/,
        `<ChannelData compressionCode="CountedZeroes">${compressed.join(' ')}</ChannelData>`,
      )
      .replace('</RadMeasurement>', '<DHS:Extra>vendor</DHS:Extra></RadMeasurement>');
    const doc = am241N42.replace('</RadInstrumentData>', `${bg}\n</RadInstrumentData>`);
    const spectra = readSpectrumFile(doc).spectra;
    expect(spectra.map((s) => s.measurement_class)).toEqual(['Foreground', 'Background']);
    expect(at(spectra, 1).counts).toEqual(counts);
  });

  it('refuses a spectrum whose calibration reference does not exist, and a document that is neither format', () => {
    const broken = am241N42.replace('energyCalibrationReference="ec-fg"', 'energyCalibrationReference="nope"');
    expect(() => readSpectrumFile(broken)).toThrow(/no EnergyCalibration with id 'nope'/);
    expect(() => readSpectrumFile('<html></html>')).toThrow(expect.objectContaining({ code: 'RS_ERR_SPECTRUM_INVALID' }));
    expect(() => readSpectrumFile(readFileSync('src/importers/fixtures/data_invalid.n42', 'utf8'))).toThrow(
      expect.objectContaining({ code: 'RS_ERR_FRAME_SYNTAX' }),
    );
  });
});
