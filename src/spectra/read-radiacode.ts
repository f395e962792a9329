import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { RadscreenError } from '../core/errors.ts';
import { parseDateTimeMs, parseDecimal } from '../importers/n42-values.ts';
import { checkSpectrum, type Spectrum } from './spectrum.ts';

/**
 * RadiaCode app export (`ResultDataFile` XML, FormatVersion 120920) → canonical spectra
 * (docs/spectroscopy.md §2.1). Every `ResultData` gives its `EnergySpectrum` (Foreground) and,
 * when present, its `BackgroundEnergySpectrum` (Background) with that layer's own calibration
 * and time. Parsed as XML, never by line position: exports differ in indentation.
 */

type Node = { [key: string]: Value };
type Value = string | Node | Value[];

const REPEATING = new Set(['ResultData', 'DataPoint', 'Coefficient', 'StartTime', 'EndTime']);

const parser = new XMLParser({
  ignoreAttributes: true,
  parseTagValue: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  processEntities: false,
  isArray: (name) => REPEATING.has(name),
});

const list = (v: Value | undefined): Value[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
const node = (v: Value | undefined): Node | undefined =>
  v === undefined || Array.isArray(v) ? undefined : typeof v === 'string' ? { '#text': v } : v;
const text = (v: Value | undefined): string | undefined => {
  if (v === undefined) return undefined;
  if (typeof v === 'string') return v.trim();
  if (Array.isArray(v)) return text(v[0]);
  const t = v['#text'];
  return typeof t === 'string' ? t.trim() : '';
};

/** True when the text looks like a RadiaCode export (cheap sniff for format detection). */
export function isRadiacodeXml(head: string): boolean {
  return /<ResultDataFile[\s>]/.test(head);
}

/**
 * Parses a RadiaCode `ResultDataFile`.
 * @throws RadscreenError RS_ERR_SPECTRUM_INVALID naming every problem (not XML, missing
 * elements, a DataPoint count different from NumberOfChannels, a bad number or time).
 */
export function parseRadiacodeXml(xml: string): Spectrum[] {
  const fail = (problems: string[]) =>
    new RadscreenError('RS_ERR_SPECTRUM_INVALID', `invalid RadiaCode ResultDataFile: ${problems.join('; ')}`, problems);
  // The format never needs a DTD; refusing one rules out entity-expansion tricks.
  if (/<!DOCTYPE/i.test(xml)) throw fail(['a DOCTYPE is not allowed']);
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw fail([`not well-formed XML: ${valid.err.msg} (line ${valid.err.line})`]);
  const doc = parser.parse(xml) as Node;
  const root = node(doc.ResultDataFile);
  if (!root) throw fail(['root element is not <ResultDataFile>']);
  const results = list(node(root.ResultDataList)?.ResultData);
  if (results.length === 0) throw fail(['no ResultDataList/ResultData']);
  const problems: string[] = [];
  const spectra: Spectrum[] = [];
  results.forEach((r, i) => {
    const rd = node(r) ?? {};
    const where = `ResultData[${i + 1}]`;
    const model = text(node(rd.DeviceConfigReference)?.Name) || undefined;
    const starts = list(rd.StartTime).map(text);
    const layers: [string, 'Foreground' | 'Background', number][] = [
      ['EnergySpectrum', 'Foreground', 0],
      ['BackgroundEnergySpectrum', 'Background', 1],
    ];
    for (const [element, cls, startIndex] of layers) {
      const layer = node(rd[element]);
      if (!layer) {
        if (cls === 'Foreground') problems.push(`${where}: missing EnergySpectrum`);
        continue;
      }
      // Foreground is the first StartTime in both known layouts; a background without its own takes the foreground's.
      const startText = starts[startIndex] ?? starts[0];
      const s = readLayer(layer, `${where}/${element}`, problems, { model, cls, startText });
      if (s) spectra.push(s);
    }
  });
  if (problems.length > 0) throw fail(problems);
  return spectra;
}

interface LayerContext {
  model: string | undefined;
  cls: 'Foreground' | 'Background';
  startText: string | undefined;
}

function readLayer(layer: Node, where: string, problems: string[], ctx: LayerContext): Spectrum | undefined {
  const before = problems.length;
  const declared = parseDecimal(text(layer.NumberOfChannels));
  if (declared === undefined || !Number.isInteger(declared)) problems.push(`${where}: NumberOfChannels missing or not an integer`);
  const points = list(node(layer.Spectrum)?.DataPoint).map(text);
  const counts = points.map((p) => parseDecimal(p));
  const bad = counts.findIndex((c) => c === undefined || c < 0 || !Number.isInteger(c));
  if (bad >= 0) problems.push(`${where}: DataPoint[${bad}] '${String(points[bad]).slice(0, 20)}' is not a non-negative integer`);
  if (declared !== undefined && counts.length !== declared)
    problems.push(`${where}: ${counts.length} DataPoint values but NumberOfChannels is ${declared}`);
  const cal = node(layer.EnergyCalibration);
  const coeffTexts = list(node(cal?.Coefficients)?.Coefficient).map(text);
  const coefficients = coeffTexts.map((c) => parseDecimal(c));
  const order = parseDecimal(text(cal?.PolynomialOrder));
  if (coefficients.length < 2 || coefficients.some((c) => c === undefined))
    problems.push(`${where}: EnergyCalibration needs at least two numeric Coefficient values`);
  else if (order !== undefined && coefficients.length !== order + 1)
    problems.push(`${where}: PolynomialOrder ${order} but ${coefficients.length} coefficients`);
  const time = parseDecimal(text(layer.MeasurementTime));
  if (time === undefined || time <= 0) problems.push(`${where}: MeasurementTime missing or not positive`);
  const start = parseDateTimeMs(ctx.startText);
  if (!start) problems.push(`${where}: StartTime '${ctx.startText ?? ''}' missing or not YYYY-MM-DDThh:mm:ss`);
  if (problems.length > before) return undefined;
  const serial = text(layer.SerialNumber) || undefined;
  const name = text(layer.SpectrumName) || undefined;
  try {
    return checkSpectrum(
      {
        channels: counts.length,
        counts,
        calibration: coefficients,
        // The file has one acquisition time and no dead-time figure: it is taken as live time.
        live_time_s: time,
        device: serial ?? ctx.model ?? 'radiacode',
        ...(ctx.model ? { model: ctx.model } : {}),
        ts: start?.ms,
        measurement_class: ctx.cls,
        ...(name ? { name } : {}),
      },
      where,
    );
  } catch (e) {
    problems.push((e as Error).message);
    return undefined;
  }
}
