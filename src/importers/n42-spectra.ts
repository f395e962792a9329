import { RadscreenError } from '../core/errors.ts';
import { checkSpectrum, type MEASUREMENT_CLASSES, type Spectrum } from '../spectra/spectrum.ts';
import { parseN42Document } from './n42.ts';
import { expandChannels, parseDateTimeMs, parseDecimal, parseDurationSeconds } from './n42-values.ts';
import { asNode, attrOf, children, parseN42Xml, textOf, type XmlNode } from './n42-xml.ts';

/**
 * ANSI N42.42-2011 document → canonical spectra, one per `Spectrum` of every `RadMeasurement`
 * (docs/spectroscopy.md §2.2). The document is first validated by the reading importer
 * (`parseN42Document`: required elements, namespaces, durations), so both views of a file agree on
 * what is acceptable; this layer adds the channel values (`CountedZeroes` expanded) and the energy
 * calibration each spectrum references.
 */

/**
 * @throws RadscreenError RS_ERR_FRAME_SYNTAX for a document the N42 importer refuses;
 * RS_ERR_SPECTRUM_INVALID when a spectrum has no usable polynomial calibration or bad channels.
 */
export function parseN42Spectra(text: string): Spectrum[] {
  const doc = parseN42Document(text);
  const xml = parseN42Xml(text);
  if (!xml.ok) throw new RadscreenError('RS_ERR_FRAME_SYNTAX', xml.problem);
  const calibrations = readCalibrations(xml.root);
  const device = doc.instrument.identifier ?? doc.instrument.model;
  const problems: string[] = [];
  const spectra: Spectrum[] = [];
  for (const [mi, m] of children(xml.root, 'RadMeasurement').entries()) {
    const meas = asNode(m) ?? {};
    const where = `RadMeasurement[${attrOf(meas, 'id') ?? mi + 1}]`;
    const cls = textOf(children(meas, 'MeasurementClassCode')[0]) as (typeof MEASUREMENT_CLASSES)[number];
    const start = parseDateTimeMs(textOf(children(meas, 'StartDateTime')[0]));
    const real = parseDurationSeconds(textOf(children(meas, 'RealTimeDuration')[0]));
    const remark = textOf(children(meas, 'Remark')[0]);
    for (const [si, s] of children(meas, 'Spectrum').entries()) {
      const spec = asNode(s) ?? {};
      const w = `${where}/Spectrum[${attrOf(spec, 'id') ?? si + 1}]`;
      const spectrum = readSpectrum(spec, w, problems, calibrations, {
        device,
        model: doc.instrument.model,
        cls,
        ts: start?.ms ?? 0,
        ...(real !== undefined ? { real } : {}),
        ...(remark ? { name: remark } : {}),
      });
      if (spectrum) spectra.push(spectrum);
    }
  }
  if (problems.length > 0) throw new RadscreenError('RS_ERR_SPECTRUM_INVALID', `N42 spectra unusable: ${problems.join('; ')}`, problems);
  return spectra;
}

/** `EnergyCalibration` polynomials by their id; those with only a channel/energy table are absent. */
function readCalibrations(root: XmlNode): Map<string, number[] | string> {
  const out = new Map<string, number[] | string>();
  for (const c of children(root, 'EnergyCalibration')) {
    const n = asNode(c) ?? {};
    const id = attrOf(n, 'id');
    if (!id) continue;
    const values = textOf(children(n, 'CoefficientValues')[0]);
    if (!values) {
      out.set(id, 'has no CoefficientValues (channel/energy tables are not supported)');
      continue;
    }
    const coeffs = values.split(/\s+/).map((t) => parseDecimal(t));
    if (coeffs.some((v) => v === undefined)) out.set(id, `CoefficientValues '${values.slice(0, 60)}' are not numbers`);
    // Trailing zero terms are dropped: N42 writers pad to four coefficients.
    else out.set(id, trimZeros(coeffs as number[]));
  }
  return out;
}

function trimZeros(c: number[]): number[] {
  const out = [...c];
  while (out.length > 2 && out[out.length - 1] === 0) out.pop();
  return out;
}

interface SpectrumContext {
  device: string;
  model: string;
  cls: (typeof MEASUREMENT_CLASSES)[number];
  ts: number;
  real?: number;
  name?: string;
}

function readSpectrum(
  spec: XmlNode,
  where: string,
  problems: string[],
  calibrations: Map<string, number[] | string>,
  ctx: SpectrumContext,
): Spectrum | undefined {
  const ref = attrOf(spec, 'energyCalibrationReference');
  // A single calibration in the document is the obvious one when the spectrum names none.
  const cal = ref ? calibrations.get(ref) : calibrations.size === 1 ? [...calibrations.values()][0] : undefined;
  if (cal === undefined) return void problems.push(`${where}: no EnergyCalibration ${ref ? `with id '${ref}'` : 'referenced'}`);
  if (typeof cal === 'string') return void problems.push(`${where}: EnergyCalibration '${ref}' ${cal}`);
  const data = children(spec, 'ChannelData')[0];
  const expanded = expandChannels(textOf(data) ?? '', attrOf(data, 'compressionCode') ?? 'None');
  if (!expanded.ok) return void problems.push(`${where}: ChannelData: ${expanded.problem}`);
  const live = parseDurationSeconds(textOf(children(spec, 'LiveTimeDuration')[0]));
  try {
    return checkSpectrum(
      {
        channels: expanded.counts.length,
        counts: expanded.counts,
        calibration: cal,
        live_time_s: live,
        ...(ctx.real !== undefined ? { real_time_s: ctx.real } : {}),
        device: ctx.device,
        model: ctx.model,
        ts: ctx.ts,
        measurement_class: ctx.cls,
        ...(ctx.name ? { name: ctx.name } : {}),
      },
      where,
    );
  } catch (e) {
    problems.push((e as Error).message);
    return undefined;
  }
}
