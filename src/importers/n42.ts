import { RadscreenError } from '../core/errors.ts';
import type { DecodedReading } from '../core/reading.ts';
import { convert } from '../core/units.ts';
import { parseDateTimeMs, parseDecimal, parseDurationSeconds, summariseChannels } from './n42-values.ts';
import { asNode, attrOf, children, parseN42Xml, textOf, type XmlNode } from './n42-xml.ts';

/**
 * ANSI N42.42-2011 document → canonical readings, one per `RadMeasurement` (docs/protocols.md §6).
 *
 * Tolerant of vendor namespaces and extension elements, strict about what the standard
 * requires: a missing required element, a bad duration, time or number makes the whole
 * document a RS_ERR_FRAME_SYNTAX error listing every problem found, never a partial import.
 * Element order is not checked (the XSD's sequence adds nothing to the values we take).
 */

/** Who measured: taken from `RadInstrumentInformation`. */
export interface N42Instrument {
  /** The element's required `id` attribute (document-local, e.g. `rii-1`). */
  elementId: string;
  /** `RadInstrumentIdentifier` (serial number) when given, e.g. `RC-102-000115`. */
  identifier?: string;
  manufacturer: string;
  model: string;
  classCode: string;
}

/** A decoded document: its instrument and one reading per measurement (values in canonical units). */
export interface N42Document {
  uuid?: string;
  instrument: N42Instrument;
  readings: DecodedReading[];
}

const MEASUREMENT_CLASSES = ['Foreground', 'Background', 'Calibration', 'IntrinsicActivity', 'NotSpecified'] as const;
const DETECTOR_CATEGORIES = ['Gamma', 'Neutron', 'Alpha', 'Beta', 'X-ray', 'Other'];
const INSTRUMENT_CLASSES = [
  'Backpack or Personal Radiation Scanner',
  'Backpack',
  'Dosimeter',
  'Electronic Personal Emergency Radiation Detector',
  'Mobile System',
  'Network Area Monitor',
  'Neutron Handheld',
  'Personal Radiation Detector',
  'Radionuclide Identifier',
  'Portal Monitor',
  'Spectroscopic Portal Monitor',
  'Spectroscopic Personal Radiation Detector',
  'Gamma Handheld',
  'Transportable System',
  'Other',
];

/** Dose-rate units seen in N42 files and their factor to µSv/h; the standard's own unit is µSv/h. */
const DOSE_RATE_UNITS: Record<string, (v: number) => number> = {
  'uSv/h': (v) => v,
  'µSv/h': (v) => v,
  'μSv/h': (v) => v,
  'nSv/h': convert.nSvhToUSvh,
  'mR/h': convert.mRhToUSvh,
};

/**
 * Parses one N42.42-2011 document.
 * @throws RadscreenError RS_ERR_FRAME_SYNTAX whose message names every problem (also in `details` as a list).
 */
export function parseN42Document(text: string): N42Document {
  const xml = parseN42Xml(text);
  if (!xml.ok) throw invalid([xml.problem]);
  if (xml.rootName !== 'RadInstrumentData') throw invalid([`root element is <${xml.rootName}>, expected <RadInstrumentData>`]);
  const problems: string[] = [];
  const instrument = readInstrument(xml.root, problems);
  readDetectors(xml.root, problems);
  const measurements = children(xml.root, 'RadMeasurement');
  if (measurements.length === 0) problems.push('RadInstrumentData: no RadMeasurement, so there is nothing to import');
  const readings = measurements.map((m, i) => readMeasurement(asNode(m) ?? {}, i, problems));
  if (problems.length > 0 || !instrument) throw invalid(problems);
  const uuid = attrOf(xml.root, 'n42DocUUID');
  return { ...(uuid ? { uuid } : {}), instrument, readings: readings.filter((r): r is DecodedReading => r !== undefined) };
}

function invalid(problems: string[]): RadscreenError {
  return new RadscreenError('RS_ERR_FRAME_SYNTAX', `invalid N42.42-2011 document: ${problems.join('; ')}`, problems);
}

/** Text of the one required child, or a problem `where: missing name`. */
function required(node: XmlNode, name: string, where: string, problems: string[]): string | undefined {
  const t = textOf(children(node, name)[0]);
  if (!t) problems.push(`${where}: missing ${name}`);
  return t || undefined;
}

function readInstrument(root: XmlNode, problems: string[]): N42Instrument | undefined {
  const all = children(root, 'RadInstrumentInformation');
  if (all.length !== 1) {
    problems.push(`RadInstrumentData: expected exactly one RadInstrumentInformation, found ${all.length}`);
    return undefined;
  }
  const info = asNode(all[0]) ?? {};
  const where = 'RadInstrumentInformation';
  const elementId = attrOf(info, 'id');
  if (!elementId) problems.push(`${where}: missing attribute id`);
  const manufacturer = required(info, 'RadInstrumentManufacturerName', where, problems);
  const model = required(info, 'RadInstrumentModelName', where, problems);
  const classCode = required(info, 'RadInstrumentClassCode', where, problems);
  if (classCode && !INSTRUMENT_CLASSES.includes(classCode)) problems.push(`${where}: unknown RadInstrumentClassCode '${classCode}'`);
  const versions = children(info, 'RadInstrumentVersion');
  if (versions.length === 0) problems.push(`${where}: missing RadInstrumentVersion (at least one is required)`);
  versions.forEach((v, i) => {
    const node = asNode(v) ?? {};
    required(node, 'RadInstrumentComponentName', `${where}/RadInstrumentVersion[${i + 1}]`, problems);
    required(node, 'RadInstrumentComponentVersion', `${where}/RadInstrumentVersion[${i + 1}]`, problems);
  });
  if (!elementId || !manufacturer || !model || !classCode) return undefined;
  const identifier = textOf(children(info, 'RadInstrumentIdentifier')[0]);
  return { elementId, ...(identifier ? { identifier } : {}), manufacturer, model, classCode };
}

function readDetectors(root: XmlNode, problems: string[]): void {
  const all = children(root, 'RadDetectorInformation');
  if (all.length === 0) problems.push('RadInstrumentData: missing RadDetectorInformation (at least one is required)');
  all.forEach((d, i) => {
    const node = asNode(d) ?? {};
    const where = `RadDetectorInformation[${attrOf(node, 'id') ?? i + 1}]`;
    if (!attrOf(node, 'id')) problems.push(`${where}: missing attribute id`);
    const category = required(node, 'RadDetectorCategoryCode', where, problems);
    if (category && !DETECTOR_CATEGORIES.includes(category)) problems.push(`${where}: unknown RadDetectorCategoryCode '${category}'`);
    required(node, 'RadDetectorKindCode', where, problems);
  });
}

/** One measurement's reading; undefined (with problems pushed) when it is unusable. */
function readMeasurement(m: XmlNode, index: number, problems: string[]): DecodedReading | undefined {
  const where = `RadMeasurement[${attrOf(m, 'id') ?? index + 1}]`;
  const before = problems.length;
  if (!attrOf(m, 'id')) problems.push(`${where}: missing attribute id`);
  const cls = required(m, 'MeasurementClassCode', where, problems);
  if (cls && !(MEASUREMENT_CLASSES as readonly string[]).includes(cls)) problems.push(`${where}: unknown MeasurementClassCode '${cls}'`);
  const startText = required(m, 'StartDateTime', where, problems);
  const start = parseDateTimeMs(startText);
  if (startText && !start) problems.push(`${where}: StartDateTime '${startText}' is not an xsd:dateTime`);
  const realTime = duration(m, 'RealTimeDuration', where, problems, true);

  const values: Record<string, number | string> = {};
  if (cls) values.measurement_class = cls;
  if (realTime !== undefined) values.real_time = realTime;
  readSpectra(m, where, problems, values);
  readGrossCounts(m, where, problems, values);
  readDoseRates(m, where, problems, values);
  // Gross count rate: from GrossCounts when present, else from the spectrum (docs/protocols.md §6.3: 306058 / 613 s).
  const counts = values.gross_counts ?? values.spectrum_counts;
  const live = values.gross_counts !== undefined ? values.gross_live_time : values.live_time;
  if (typeof counts === 'number' && typeof live === 'number' && live > 0) values.cps = counts / live;
  if (problems.length > before || !start) return undefined;
  return { ts: start.ms, ts_source: 'device', values, quality: 'good' };
}

function duration(node: XmlNode, name: string, where: string, problems: string[], mandatory: boolean): number | undefined {
  const text = mandatory ? required(node, name, where, problems) : textOf(children(node, name)[0]);
  if (text === undefined || text === '') return undefined;
  const s = parseDurationSeconds(text);
  if (s === undefined) problems.push(`${where}: ${name} '${text.slice(0, 40)}' is not an xsd:duration in days/hours/minutes/seconds`);
  return s;
}

/** Spectra: channel count of the first, counts summed over all (one per detector), live time of the first. */
function readSpectra(m: XmlNode, where: string, problems: string[], values: Record<string, number | string>): void {
  let total = 0;
  for (const [i, s] of children(m, 'Spectrum').entries()) {
    const node = asNode(s) ?? {};
    const w = `${where}/Spectrum[${attrOf(node, 'id') ?? i + 1}]`;
    const live = duration(node, 'LiveTimeDuration', w, problems, true);
    const data = children(node, 'ChannelData')[0];
    if (data === undefined) {
      problems.push(`${w}: missing ChannelData`);
      continue;
    }
    const summary = summariseChannels(textOf(data) ?? '', attrOf(data, 'compressionCode') ?? 'None');
    if (!summary.ok) {
      problems.push(`${w}: ChannelData: ${summary.problem}`);
      continue;
    }
    total += summary.total;
    if (i === 0) {
      values.spectrum_channels = summary.channels;
      if (live !== undefined) values.live_time = live;
    }
  }
  if (values.spectrum_channels !== undefined) values.spectrum_counts = total;
}

function readGrossCounts(m: XmlNode, where: string, problems: string[], values: Record<string, number | string>): void {
  let total: number | undefined;
  for (const [i, g] of children(m, 'GrossCounts').entries()) {
    const node = asNode(g) ?? {};
    const w = `${where}/GrossCounts[${attrOf(node, 'id') ?? i + 1}]`;
    const live = duration(node, 'LiveTimeDuration', w, problems, true);
    const text = required(node, 'CountData', w, problems);
    if (text === undefined) continue;
    const summary = summariseChannels(text, 'None');
    if (!summary.ok) {
      problems.push(`${w}: CountData: ${summary.problem}`);
      continue;
    }
    total = (total ?? 0) + summary.total;
    if (i === 0 && live !== undefined) values.gross_live_time = live;
  }
  if (total !== undefined) values.gross_counts = total;
}

function readDoseRates(m: XmlNode, where: string, problems: string[], values: Record<string, number | string>): void {
  const rate = children(m, 'DoseRate')[0];
  const exposure = children(m, 'ExposureRate')[0];
  if (rate !== undefined) {
    const v = valueIn(asNode(rate) ?? {}, 'DoseRateValue', 'uSv/h', `${where}/DoseRate`, problems);
    if (v !== undefined) values.dose_rate = v;
  } else if (exposure !== undefined) {
    // ExposureRateValue is mR/h by the standard; the 1 mR/h = 10 µSv/h convention applies.
    const v = valueIn(asNode(exposure) ?? {}, 'ExposureRateValue', 'mR/h', `${where}/ExposureRate`, problems);
    if (v !== undefined) values.dose_rate = v;
  }
  const dose = children(m, 'TotalDose')[0];
  if (dose !== undefined) {
    const text = required(asNode(dose) ?? {}, 'TotalDoseValue', `${where}/TotalDose`, problems);
    const v = parseDecimal(text);
    if (text !== undefined && (v === undefined || v < 0))
      problems.push(`${where}/TotalDose: TotalDoseValue '${text}' is not a non-negative number`);
    else if (v !== undefined) values.total_dose = v;
  }
}

/** A rate value converted to µSv/h from its `units` attribute (vendor files add one) or the standard's unit. */
function valueIn(node: XmlNode, name: string, defaultUnit: string, where: string, problems: string[]): number | undefined {
  const el = children(node, name)[0];
  const text = required(node, name, where, problems);
  if (text === undefined) return undefined;
  const v = parseDecimal(text);
  if (v === undefined || v < 0) return void problems.push(`${where}: ${name} '${text.slice(0, 40)}' is not a non-negative number`);
  const unit = attrOf(el, 'units') ?? defaultUnit;
  const toUSvh = DOSE_RATE_UNITS[unit];
  if (!toUSvh) return void problems.push(`${where}: ${name} unit '${unit}' is not one of ${Object.keys(DOSE_RATE_UNITS).join(', ')}`);
  return toUSvh(v);
}
