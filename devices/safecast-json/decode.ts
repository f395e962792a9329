import { z } from 'zod';
import type { ChannelSpec } from '../../src/core/channel.ts';
import { type Reject, reject } from '../../src/core/errors.ts';
import type { DecodedReading } from '../../src/core/reading.ts';
import { convert } from '../../src/core/units.ts';
import { parseJsonPayload } from '../../src/sessions/message-session.ts';

/**
 * Safecast-style JSON telemetry (README.md): one flat object per MQTT message, fields named by
 * sensor and unit as in Safecast's ingest (`lnd_7318u`, `when_captured`, …). Pure: no I/O, no clock.
 */

/** Safecast's conversion for the LND 7317/7318 pancake tube, Cs-137: 334 CPM per µSv/h. */
export const LND_7318_CPM_PER_USVH = 334;

/** Which tube's CPM the dose rate is computed from. */
export const DOSE_TUBES = ['lnd_7318u', 'lnd_7318c', 'lnd_7128ec'] as const;
export type DoseTube = (typeof DOSE_TUBES)[number];

export interface SafecastJsonOptions {
  /** CPM per µSv/h of `doseTube`; 334 is the LND 7317/7318 convention for Cs-137. */
  sensitivity: number;
  doseTube: DoseTube;
}

/** Channels with canonical units and physical ranges; a value outside is RS_ERR_FRAME_RANGE. */
export const SAFECAST_JSON_CHANNELS = [
  // Derived from whole CPM: one count per minute is under 0.01 µSv/h at any GM sensitivity here.
  {
    key: 'dose_rate',
    unit: 'uSv/h',
    label: 'ambient dose rate from the configured tube (CPM / sensitivity)',
    min: 0,
    max: 100_000,
    resolution: 0.01,
  },
  { key: 'cpm', unit: 'CPM', label: 'LND 7318 unshielded tube (lnd_7318u)', min: 0, max: 10_000_000 },
  { key: 'cpm_compensated', unit: 'CPM', label: 'LND 7318 compensated tube (lnd_7318c)', min: 0, max: 10_000_000 },
  { key: 'cpm_7128ec', unit: 'CPM', label: 'LND 7128 energy-compensated tube (lnd_7128ec)', min: 0, max: 10_000_000 },
  { key: 'latitude', unit: 'deg', label: 'device latitude (loc_lat)', min: -90, max: 90 },
  { key: 'longitude', unit: 'deg', label: 'device longitude (loc_lon)', min: -180, max: 180 },
  { key: 'battery_voltage', unit: 'V', label: 'battery voltage (bat_voltage)', min: 0, max: 30 },
  { key: 'temperature', unit: 'degC', label: 'enclosure temperature (env_temp)', min: -60, max: 100 },
] as const satisfies readonly ChannelSpec[];

/** ISO 8601 with a zone: a time without one would be read in the agent's zone, silently wrong. */
const IsoWithZone = z
  .string()
  .regex(/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)$/, 'ISO 8601 with Z or an offset')
  .refine((s) => Number.isFinite(Date.parse(s)), 'not a real date');

const Cpm = z.number().finite();

/**
 * The fields we read. Not strict: Safecast payloads carry provenance (`service_transport`,
 * `gateway_received`, `service_md5`, …) and sensors we do not map; those are ignored.
 */
export const SafecastJsonSchema = z.object({
  device: z.union([z.int().nonnegative(), z.string().max(64)]).optional(),
  device_urn: z.string().max(128).optional(),
  when_captured: IsoWithZone.optional(),
  lnd_7318u: Cpm.optional(),
  lnd_7318c: Cpm.optional(),
  lnd_7128ec: Cpm.optional(),
  loc_lat: z.number().finite().optional(),
  loc_lon: z.number().finite().optional(),
  bat_voltage: z.number().finite().optional(),
  env_temp: z.number().finite().optional(),
  dev_test: z.boolean().optional(),
});
export type SafecastJsonMessage = z.infer<typeof SafecastJsonSchema>;

const FIELD_TO_CHANNEL = [
  ['lnd_7318u', 'cpm'],
  ['lnd_7318c', 'cpm_compensated'],
  ['lnd_7128ec', 'cpm_7128ec'],
  ['loc_lat', 'latitude'],
  ['loc_lon', 'longitude'],
  ['bat_voltage', 'battery_voltage'],
  ['env_temp', 'temperature'],
] as const;

const RANGES = new Map<string, ChannelSpec>(SAFECAST_JSON_CHANNELS.map((c) => [c.key, c]));

/**
 * Decodes one payload received at `receivedAt` (ms since the epoch). `ts` is `when_captured`
 * (device clock) when present, else `receivedAt`. `dev_test: true` makes the reading `suspect`.
 * Rejects, never throws: not JSON or not an object → RS_ERR_PAYLOAD_JSON; a field of the wrong
 * type, a time without a zone → RS_ERR_PAYLOAD_INVALID; no measurement field at all →
 * RS_ERR_READING_INVALID; a value outside its channel range → RS_ERR_FRAME_RANGE.
 */
export function decodeSafecastJson(
  payload: Buffer,
  receivedAt: number,
  opts: SafecastJsonOptions,
): { readings: DecodedReading[] } | { reject: Reject } {
  const raw = payload.subarray(0, 256);
  const json = parseJsonPayload(payload);
  if ('reject' in json) return json;
  const body = json.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return { reject: reject('RS_ERR_PAYLOAD_JSON', 'payload is not a JSON object', raw) };
  const parsed = SafecastJsonSchema.safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.join('.') : '(payload)';
    return { reject: reject('RS_ERR_PAYLOAD_INVALID', `${where}: ${issue?.message ?? 'invalid'}`.slice(0, 200), raw) };
  }
  const m = parsed.data;
  const values: Record<string, number> = {};
  for (const [field, channel] of FIELD_TO_CHANNEL) {
    const v = m[field];
    if (v !== undefined) values[channel] = v;
  }
  const tubeCpm = m[opts.doseTube];
  if (tubeCpm !== undefined) values.dose_rate = convert.cpmToUSvh(tubeCpm, opts.sensitivity);
  if (Object.keys(values).length === 0)
    return { reject: reject('RS_ERR_READING_INVALID', 'no measurement field (lnd_*, loc_*, bat_voltage, env_temp)', raw) };
  for (const [key, value] of Object.entries(values)) {
    const spec = RANGES.get(key) as ChannelSpec;
    if ((spec.min !== undefined && value < spec.min) || (spec.max !== undefined && value > spec.max))
      return { reject: reject('RS_ERR_FRAME_RANGE', `${key}=${value} ${spec.unit} outside [${spec.min}, ${spec.max}]`, raw) };
  }
  const fromDevice = m.when_captured !== undefined;
  return {
    readings: [
      {
        ts: fromDevice ? Date.parse(m.when_captured as string) : receivedAt,
        ts_source: fromDevice ? 'device' : 'agent',
        values,
        quality: m.dev_test === true ? 'suspect' : 'good',
      },
    ],
  };
}
