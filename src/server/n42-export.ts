import { createHash } from 'node:crypto';
import { XMLBuilder } from 'fast-xml-parser';
import type { Alarm, ReadingSample } from '../alarms/types.ts';
import type { DeviceKind } from '../core/reading.ts';

/** ANSI N42.42-2011 namespace (docs/protocols.md §6). */
export const N42_NS = 'http://physics.nist.gov/N42/2011/N42';

/** What the document says about the instrument; from the device's profile when known. */
export interface N42InstrumentInfo {
  manufacturer: string;
  model: string;
  kind: DeviceKind | null;
  /** Human name of the device at this station. */
  name?: string;
}

const CLASS_CODE: Record<DeviceKind, string> = {
  dosimeter: 'Dosimeter',
  survey_meter: 'Gamma Handheld',
  portal_monitor: 'Portal Monitor',
  xray_scanner: 'Other',
};

const iso = (ms: number) => new Date(ms).toISOString();
/** xsd:duration in seconds, e.g. `PT5S`, `PT0.5S`. */
const duration = (s: number) => `PT${Number(Math.max(0, s).toFixed(3))}S`;
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** Seconds a sample stands for: the gap to the next sample, else the previous gap, else 1 s. */
function spans(samples: ReadingSample[], fallbackS: number): number[] {
  return samples.map((s, i) => {
    const next = samples[i + 1];
    const prev = samples[i - 1];
    if (next && next.ts > s.ts) return (next.ts - s.ts) / 1000;
    if (prev && s.ts > prev.ts) return (s.ts - prev.ts) / 1000;
    return fallbackS;
  });
}

interface Slice {
  id: string;
  cls: 'Foreground' | 'Background';
  start: number;
  seconds: number;
  counts?: number;
  doseRate?: number;
}

function measurement(s: Slice, detector: string): Record<string, unknown> {
  const m: Record<string, unknown> = {
    '@_id': s.id,
    MeasurementClassCode: s.cls,
    StartDateTime: iso(s.start),
    RealTimeDuration: duration(s.seconds),
  };
  if (s.counts !== undefined)
    m.GrossCounts = {
      '@_id': `${s.id}-gc`,
      '@_radDetectorInformationReference': detector,
      LiveTimeDuration: duration(s.seconds),
      CountData: String(Math.round(s.counts)),
    };
  if (s.doseRate !== undefined)
    m.DoseRate = { '@_id': `${s.id}-dr`, '@_radDetectorInformationReference': detector, DoseRateValue: String(s.doseRate) };
  return m;
}

/** A sample's counts over its span: a `counts` channel when the device reports one, else CPS × seconds. */
function sampleSlice(sample: ReadingSample, seconds: number, id: string): Slice {
  const counts =
    num(sample.values.counts) ?? (num(sample.values.cps) !== undefined ? (num(sample.values.cps) as number) * seconds : undefined);
  const doseRate = num(sample.values.dose_rate);
  return {
    id,
    cls: 'Foreground',
    start: sample.ts,
    seconds,
    ...(counts !== undefined ? { counts } : {}),
    ...(doseRate !== undefined ? { doseRate } : {}),
  };
}

/**
 * Renders an alarm's evidence as an ANSI N42.42-2011 `RadInstrumentData` document:
 * the instrument and its detector; a `Background` measurement (the rule's own background
 * estimate when it has one, else the mean of the readings before the alarm); one `Foreground`
 * measurement per reading kept before and after the alarm plus the alarm's own window; and
 * `AnalysisResults/RadAlarm` naming the rule, value, threshold and window. Values are in the
 * standard's units (µSv/h, counts, seconds). The document UUID is derived from the alarm id,
 * so exporting the same alarm twice gives the same document identity.
 */
export function buildAlarmN42(alarm: Alarm, instrument: N42InstrumentInfo, opts: { creator?: string } = {}): string {
  const detector = `det-${alarm.device}`;
  const ev = alarm.evidence;
  const before = alarm.readings_before;
  const after = alarm.readings_after;
  const windowS = ev.window_s ?? 1;
  const slices: Slice[] = [];

  const preDose = before.map((s) => num(s.values.dose_rate)).filter((v): v is number => v !== undefined);
  const bgSeconds =
    ev.background_live_s ?? (before.length > 1 ? ((before.at(-1) as ReadingSample).ts - (before[0] as ReadingSample).ts) / 1000 : windowS);
  const bgStart = ev.background_live_s !== undefined ? ev.reading_ts - ev.background_live_s * 1000 : (before[0]?.ts ?? ev.reading_ts);
  const bgCounts = ev.background_cps !== undefined ? ev.background_cps * bgSeconds : undefined;
  const bgDose =
    ev.unit === 'uSv/h' && ev.background !== undefined
      ? ev.background
      : preDose.length
        ? preDose.reduce((a, b) => a + b, 0) / preDose.length
        : undefined;
  slices.push({
    id: 'background',
    cls: 'Background',
    start: bgStart,
    seconds: bgSeconds,
    ...(bgCounts !== undefined ? { counts: bgCounts } : {}),
    ...(bgDose !== undefined ? { doseRate: Number(bgDose.toFixed(6)) } : {}),
  });

  const preSpans = spans(before, windowS);
  slices.push(...before.map((s, i) => sampleSlice(s, preSpans[i] as number, `pre-${i + 1}`)));
  slices.push({
    id: 'alarm',
    cls: 'Foreground',
    start: ev.reading_ts - windowS * 1000,
    seconds: windowS,
    ...(ev.counts !== undefined ? { counts: ev.counts } : {}),
    ...(ev.unit === 'uSv/h' ? { doseRate: ev.value } : {}),
  });
  const postSpans = spans(after, windowS);
  slices.push(...after.map((s, i) => sampleSlice(s, postSpans[i] as number, `post-${i + 1}`)));

  const params = Object.entries(ev.params ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  const description =
    `${alarm.message} Rule ${alarm.rule} (${alarm.class}, ${alarm.severity}): ${ev.channel} ${ev.value} ${ev.unit} against threshold ` +
    `${ev.threshold} ${ev.unit}` +
    (ev.background !== undefined ? `, background ${ev.background} ${ev.unit}` : '') +
    (ev.window_s !== undefined ? `, window ${ev.window_s} s` : '') +
    (alarm.disposition
      ? `. Disposition: ${alarm.disposition.value}${alarm.disposition.nuclide ? ` (${alarm.disposition.nuclide})` : ''}`
      : '') +
    '.';
  const uuid = createHash('sha256').update(alarm.id).digest('hex');
  const doc = {
    '?xml': { '@_version': '1.0', '@_encoding': 'UTF-8' },
    RadInstrumentData: {
      '@_xmlns': N42_NS,
      '@_n42DocUUID': `${uuid.slice(0, 8)}-${uuid.slice(8, 12)}-4${uuid.slice(13, 16)}-a${uuid.slice(17, 20)}-${uuid.slice(20, 32)}`,
      '@_n42DocDateTime': iso(alarm.raised_at),
      RadInstrumentDataCreatorName: opts.creator ?? 'radscreen',
      RadInstrumentInformation: {
        '@_id': `rii-${alarm.device}`,
        RadInstrumentManufacturerName: instrument.manufacturer,
        RadInstrumentIdentifier: alarm.device,
        RadInstrumentModelName: instrument.model,
        RadInstrumentDescription: `${instrument.name ?? alarm.device} at station ${alarm.station} (profile ${alarm.profile})`,
        RadInstrumentClassCode: instrument.kind ? CLASS_CODE[instrument.kind] : 'Other',
        RadInstrumentVersion: { RadInstrumentComponentName: 'radscreen', RadInstrumentComponentVersion: '1' },
      },
      RadDetectorInformation: {
        '@_id': detector,
        RadDetectorCategoryCode: instrument.kind === 'xray_scanner' ? 'X-ray' : 'Gamma',
        RadDetectorKindCode: instrument.kind === 'xray_scanner' ? 'Other' : 'GMT',
      },
      RadMeasurement: slices.map((s) => measurement(s, detector)),
      AnalysisResults: {
        '@_radMeasurementReferences': slices.map((s) => s.id).join(' '),
        AnalysisStartDateTime: iso(alarm.raised_at),
        AnalysisAlgorithmName: `radscreen ${alarm.rule}`,
        AnalysisAlgorithmDescription: params ? `Parameters: ${params}` : `Rule ${alarm.rule}`,
        RadAlarm: {
          RadAlarmDateTime: iso(ev.reading_ts),
          RadAlarmCategoryCode: alarm.class === 'radiological' || alarm.class === 'dose' ? 'Gamma' : 'Other',
          RadAlarmDescription: description,
        },
      },
    },
  };
  const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', format: true, suppressEmptyNode: true });
  return builder.build(doc) as string;
}
