import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { catalogue } from '../../devices/index.ts';
import { RadscreenError } from '../../src/core/errors.ts';
import { normaliseReading } from '../../src/core/normalise.ts';
import { ansiN42, deviceIdFor } from '../../src/importers/ansi-n42.ts';
import { asNormaliserProfile, fileFormats } from '../../src/importers/formats.ts';
import { parseN42Document } from '../../src/importers/n42.ts';
import { parseDateTimeMs, parseDurationSeconds, summariseChannels } from '../../src/importers/n42-values.ts';
import { feedInChunks, harness, settle } from '../support/session-harness.ts';

// In-tree copies of ckuethe/radiacode-tools tests/data (see src/importers/README.md), unchanged.
const fixture = (name: string) => readFileSync(new URL(`../../src/importers/fixtures/${name}`, import.meta.url), 'utf8');
const am241 = fixture('data_am241.n42');
const invalid = fixture('data_invalid.n42');

/** A minimal valid N42.42-2011 document (docs/protocols.md §6.2) with `measurement` inside RadMeasurement. */
function doc(measurement: string, opts: { root?: string; ns?: string; extra?: string } = {}): string {
  const root = opts.root ?? 'RadInstrumentData';
  const ns = opts.ns ?? (root.includes(':') ? `xmlns:${root.split(':')[0]}` : 'xmlns');
  const el = (name: string) => (root.includes(':') ? `${root.split(':')[0]}:${name}` : name);
  return `<?xml version="1.0"?>
<${root} ${ns}="http://physics.nist.gov/N42/2011/N42" n42DocUUID="u-1">${opts.extra ?? ''}
  <${el('RadInstrumentInformation')} id="rii"><${el('RadInstrumentManufacturerName')}>Acme</${el('RadInstrumentManufacturerName')}>
    <${el('RadInstrumentModelName')}>GM-1</${el('RadInstrumentModelName')}><${el('RadInstrumentClassCode')}>Dosimeter</${el('RadInstrumentClassCode')}>
    <${el('RadInstrumentVersion')}><${el('RadInstrumentComponentName')}>Firmware</${el('RadInstrumentComponentName')}><${el('RadInstrumentComponentVersion')}>1</${el('RadInstrumentComponentVersion')}></${el('RadInstrumentVersion')}>
  </${el('RadInstrumentInformation')}>
  <${el('RadDetectorInformation')} id="d1"><${el('RadDetectorCategoryCode')}>Gamma</${el('RadDetectorCategoryCode')}><${el('RadDetectorKindCode')}>GMT</${el('RadDetectorKindCode')}></${el('RadDetectorInformation')}>
  <${el('RadMeasurement')} id="m1"><${el('MeasurementClassCode')}>Foreground</${el('MeasurementClassCode')}>
    <${el('StartDateTime')}>2024-01-02T03:04:05Z</${el('StartDateTime')}><${el('RealTimeDuration')}>PT10S</${el('RealTimeDuration')}>${measurement}
  </${el('RadMeasurement')}>
</${root}>`;
}

/** The values of the one reading a document decodes to. */
const valuesOf = (text: string) => parseN42Document(text).readings[0]?.values;

/** The RadscreenError a document is rejected with (fails the test when it is accepted). */
function rejectionOf(text: string): RadscreenError {
  try {
    parseN42Document(text);
  } catch (e) {
    if (e instanceof RadscreenError) return e;
    throw e;
  }
  throw new Error('document was accepted');
}

describe('ANSI N42.42-2011 import: real RadiaCode-102 files', () => {
  it('decodes data_am241.n42: 1024 channels, 306058 counts, 613 s, 499.28 cps, device time', () => {
    const d = parseN42Document(am241);
    expect(d.instrument).toMatchObject({ identifier: 'RC-102-000115', manufacturer: 'Radiacode', model: 'RadiaCode-102' });
    expect(d.uuid).toBe('3903bd1f-948e-4d36-85b4-fc1bc2420bfc');
    expect(d.readings).toHaveLength(1);
    const r = d.readings[0];
    expect(r?.values).toMatchObject({ spectrum_channels: 1024, spectrum_counts: 306058, live_time: 613, real_time: 613 });
    expect(r?.values.measurement_class).toBe('Foreground');
    expect(r?.values.cps).toBeCloseTo(499.28, 2);
    // No offset in the file: read as UTC (documented in src/importers/README.md).
    expect(r?.ts).toBe(Date.parse('2023-06-07T05:52:00Z'));
    expect(r?.ts_source).toBe('device');
    expect(deviceIdFor(d.instrument)).toBe('RC-102-000115');
  });

  it('rejects data_invalid.n42 with RS_ERR_FRAME_SYNTAX naming each missing element', () => {
    const e = rejectionOf(invalid);
    expect(e.code).toBe('RS_ERR_FRAME_SYNTAX');
    expect(e.message).toMatch(/^invalid N42\.42-2011 document: /);
    expect(e.message).toContain('RadInstrumentInformation: missing RadInstrumentVersion');
    expect(e.message).toContain('missing RadDetectorInformation');
    for (const el of ['MeasurementClassCode', 'StartDateTime', 'RealTimeDuration'])
      expect(e.message).toContain(`RadMeasurement[rm]: missing ${el}`);
    expect(e.details).toHaveLength(5);
  });

  it('normalises the am241 reading under profile ansi-n42: every channel it emits is declared', () => {
    const decoded = parseN42Document(am241).readings[0];
    if (!decoded) throw new Error('no reading');
    const out = normaliseReading(decoded, {
      station: 's1',
      device: 'RC-102-000115',
      source: 'replay',
      profile: asNormaliserProfile(ansiN42),
    });
    expect(out).toHaveProperty('reading.profile', 'ansi-n42');
    expect(out).toHaveProperty('reading.kind', 'survey_meter');
  });

  it('file format ids never shadow catalogue profiles', () => {
    for (const id of fileFormats.keys()) expect(catalogue.has(id)).toBe(false);
  });
});

describe('ANSI N42.42-2011 import: tolerance and strictness', () => {
  it('tolerates an undeclared vendor prefix (InterSpec <DHS:…>) and a prefixed N42 root', () => {
    const extra = '<DHS:InterSpec version="1"><DHS:Note>x</DHS:Note></DHS:InterSpec>';
    expect(
      valuesOf(doc('<GrossCounts id="g"><LiveTimeDuration>PT10S</LiveTimeDuration><CountData>50</CountData></GrossCounts>', { extra })),
    ).toMatchObject({ gross_counts: 50, cps: 5 });
    expect(valuesOf(doc('', { root: 'n42:RadInstrumentData' }))).toMatchObject({ real_time: 10 });
  });

  it('refuses other namespaces, the 2006 schema, broken XML and DOCTYPEs, saying which', () => {
    expect(rejectionOf(doc('', { ns: 'xmlns:other' })).message).toMatch(/not in the N42\.42-2011 namespace .*found none/);
    expect(rejectionOf(am241.replace('N42/2011/N42"', 'N42/2099/N42"')).message).toMatch(
      /found http:\/\/physics\.nist\.gov\/N42\/2099\/N42/,
    );
    expect(rejectionOf('<N42InstrumentData xmlns="x"><Measurement/></N42InstrumentData>').message).toMatch(/N42\.42-2006/);
    expect(rejectionOf(am241.replace('</RadMeasurement>', '')).message).toMatch(/not well-formed XML: .*line \d+/);
    expect(rejectionOf(`<!DOCTYPE x [<!ENTITY a "b">]>${am241}`).message).toMatch(/DOCTYPE/);
  });

  it('converts dose rate units to µSv/h: nSv/h, µSv/h, mR/h, ExposureRate in mR/h; refuses unknown units', () => {
    const rate = (v: string, unit?: string) =>
      `<DoseRate id="d"><DoseRateValue${unit ? ` units="${unit}"` : ''}>${v}</DoseRateValue></DoseRate>`;
    expect(valuesOf(doc(rate('0.12')))?.dose_rate).toBe(0.12);
    expect(valuesOf(doc(rate('120', 'nSv/h')))?.dose_rate).toBeCloseTo(0.12, 12);
    expect(valuesOf(doc(rate('0.05', 'mR/h')))?.dose_rate).toBeCloseTo(0.5, 12);
    expect(valuesOf(doc(rate('0.3', 'µSv/h')))?.dose_rate).toBe(0.3);
    expect(valuesOf(doc('<ExposureRate id="e"><ExposureRateValue>0.01</ExposureRateValue></ExposureRate>'))?.dose_rate).toBeCloseTo(
      0.1,
      12,
    );
    expect(rejectionOf(doc(rate('1', 'Gy/h'))).message).toMatch(/DoseRateValue unit 'Gy\/h' is not one of/);
    expect(rejectionOf(doc(rate('-1'))).message).toMatch(/DoseRateValue '-1' is not a non-negative number/);
  });

  it('refuses bad durations, times and channel data, naming the element', () => {
    expect(rejectionOf(doc('').replace('PT10S', 'ten seconds')).message).toMatch(
      /RadMeasurement\[m1\]: RealTimeDuration 'ten seconds' is not an xsd:duration/,
    );
    expect(rejectionOf(doc('').replace('2024-01-02T03:04:05Z', '2024-13-02T03:04:05Z')).message).toMatch(
      /StartDateTime '2024-13-02T03:04:05Z'/,
    );
    const spectrum = (data: string, code = 'None') =>
      `<Spectrum id="s"><LiveTimeDuration>PT9S</LiveTimeDuration><ChannelData compressionCode="${code}">${data}</ChannelData></Spectrum>`;
    expect(rejectionOf(doc(spectrum('1 2 x 4'))).message).toMatch(/Spectrum\[s\]: ChannelData: channel value 'x'/);
    expect(rejectionOf(doc(spectrum('1 2', 'Zip'))).message).toMatch(/compressionCode 'Zip'/);
    expect(valuesOf(doc(spectrum('0 3 5 0 2 1', 'CountedZeroes')))).toMatchObject({
      spectrum_channels: 7,
      spectrum_counts: 6,
      live_time: 9,
    });
  });

  it('reads xsd durations and times as the standard writes them', () => {
    expect(parseDurationSeconds('PT613S')).toBe(613);
    expect(parseDurationSeconds('PT613.5S')).toBe(613.5);
    expect(parseDurationSeconds('PT1824.650024S')).toBeCloseTo(1824.650024, 9);
    expect(parseDurationSeconds('P1DT2H3M4S')).toBe(93_784);
    for (const bad of ['P1Y', 'P2M', 'PT', 'P', 'PT-5S', '613', 'PT5']) expect(parseDurationSeconds(bad)).toBeUndefined();
    expect(parseDateTimeMs('2013-12-26T21:15:00Z')).toEqual({ ms: Date.parse('2013-12-26T21:15:00Z'), zoned: true });
    expect(parseDateTimeMs('2013-12-26T21:15:00+01:00')?.ms).toBe(Date.parse('2013-12-26T20:15:00Z'));
    expect(parseDateTimeMs('2013-12-26 21:15:00')).toBeUndefined();
    expect(summariseChannels('0 0', 'CountedZeroes')).toMatchObject({ ok: false });
    expect(summariseChannels('0 2000000', 'CountedZeroes')).toMatchObject({ ok: false });
  });
});

describe('ANSI N42.42-2011 import: as a session', () => {
  it('decodes documents back to back fed in awkward chunks, and rejects a truncated one at stop', async () => {
    const h = harness(ansiN42 as Parameters<typeof harness>[0]);
    feedInChunks(h.session, Buffer.from(am241 + am241 + am241.slice(0, 500)), [7, 1, 64, 3]);
    await settle();
    expect(h.readings.map((r) => r.values.spectrum_counts)).toEqual([306058, 306058]);
    expect(h.rejects).toEqual([]);
    h.session.stop();
    expect(h.rejects.map((r) => r.code)).toEqual(['RS_ERR_FRAME_TRUNCATED']);
  });

  it('turns an invalid document into one counted RS_ERR_FRAME_SYNTAX reject and goes on', async () => {
    const h = harness(ansiN42 as Parameters<typeof harness>[0]);
    h.session.push(Buffer.from(invalid + am241));
    h.session.stop();
    expect(h.rejects).toHaveLength(1);
    expect(h.rejects[0]?.message).toContain('missing RadInstrumentVersion');
    expect(h.readings).toHaveLength(1);
  });
});
