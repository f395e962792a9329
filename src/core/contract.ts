import { z } from 'zod';
import { type Reading, ReadingSchema } from './reading.ts';
import { MAX_READINGS_PAYLOAD_BYTES, MAX_READINGS_PER_MESSAGE, MAX_VALUES_PER_READING } from './reading-contract.ts';

/**
 * MQTT contract v1 (README.md "MQTT contract v1"). Both sides validate with these schemas;
 * a payload that fails goes to DEADLETTER_TOPIC with the reason and is counted.
 */
export const TOPIC_ROOT = 'radscreen/v1';
export const DEADLETTER_TOPIC = `${TOPIC_ROOT}/deadletter`;

export const topics = {
  readings: (station: string, device: string) => `${TOPIC_ROOT}/${station}/${device}/readings`,
  status: (station: string, device: string) => `${TOPIC_ROOT}/${station}/${device}/status`,
  raw: (station: string, device: string) => `${TOPIC_ROOT}/${station}/${device}/raw`,
  alarms: (station: string) => `${TOPIC_ROOT}/${station}/alarms`,
  /** Retained: the calibration in force for one device, published by the server, applied by the agent. */
  calibration: (station: string, device: string) => `${TOPIC_ROOT}/${station}/${device}/calibration`,
  /** A device's gamma spectrum (src/spectra/contract.ts), QoS 1, not retained. */
  spectrum: (station: string, device: string) => `${TOPIC_ROOT}/${station}/${device}/spectrum`,
  /** Filters for consumers: `+` stands for any station or device. */
  allReadings: (station = '+') => `${TOPIC_ROOT}/${station}/+/readings`,
  allStatus: (station = '+') => `${TOPIC_ROOT}/${station}/+/status`,
  allSpectra: (station = '+') => `${TOPIC_ROOT}/${station}/+/spectrum`,
  allAlarms: (station = '+') => `${TOPIC_ROOT}/${station}/alarms`,
} as const;

/** Splits a v1 topic into its parts; undefined when the topic is not ours. */
export function parseTopic(topic: string): { station: string; device?: string; leaf: string } | undefined {
  const parts = topic.split('/');
  if (parts[0] !== 'radscreen' || parts[1] !== 'v1') return undefined;
  if (parts.length === 4 && parts[3] === 'alarms') return { station: parts[2] as string, leaf: 'alarms' };
  if (parts.length === 5) return { station: parts[2] as string, device: parts[3] as string, leaf: parts[4] as string };
  return undefined;
}

/** One or more readings per message (at most MAX_READINGS_PER_MESSAGE); the agent coalesces what is ready into one. */
export const ReadingsMessageSchema = z.object({
  v: z.literal(1),
  readings: z.array(ReadingSchema).min(1).max(MAX_READINGS_PER_MESSAGE),
});
export type ReadingsMessage = z.infer<typeof ReadingsMessageSchema>;

export const DeviceStateSchema = z.enum(['online', 'offline', 'error', 'connecting', 'stale']);
export type DeviceState = z.infer<typeof DeviceStateSchema>;

/** Retained per device; the agent's last will sets its devices offline. */
export const StatusMessageSchema = z.object({
  v: z.literal(1),
  station: z.string(),
  device: z.string(),
  profile: z.string(),
  state: DeviceStateSchema,
  ts: z.number().int(),
  /** Port path, baud, reconnect attempt, last error: whatever helps a technician. */
  detail: z.record(z.string(), z.unknown()).default({}),
});
export type StatusMessage = z.infer<typeof StatusMessageSchema>;

export const DeadLetterSchema = z.object({
  v: z.literal(1),
  code: z.string(),
  reason: z.string(),
  topic: z.string(),
  ts: z.number().int(),
  /** The offending payload, base64, so binary garbage survives JSON. */
  payload_b64: z.string(),
});
export type DeadLetter = z.infer<typeof DeadLetterSchema>;

type PayloadRefusal = { ok: false; code: 'RS_ERR_PAYLOAD_JSON' | 'RS_ERR_PAYLOAD_INVALID' | 'RS_ERR_PAYLOAD_TOO_LARGE'; reason: string };

/**
 * Parses a readings payload's envelope, bounds first: the byte size BEFORE JSON.parse (parsing is
 * synchronous and a 10 MB payload would stall the event loop), then the reading count and the
 * values per reading (RS_ERR_PAYLOAD_TOO_LARGE). Readings are returned unvalidated, so a caller
 * can refuse one bad reading and keep the rest (parseReading).
 */
export function parseReadingsEnvelope(payload: Buffer): { ok: true; readings: unknown[] } | PayloadRefusal {
  if (payload.length > MAX_READINGS_PAYLOAD_BYTES)
    return {
      ok: false,
      code: 'RS_ERR_PAYLOAD_TOO_LARGE',
      reason: `payload of ${payload.length} bytes exceeds ${MAX_READINGS_PAYLOAD_BYTES}`,
    };
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch (e) {
    return { ok: false, code: 'RS_ERR_PAYLOAD_JSON', reason: (e as Error).message };
  }
  const m = json as { v?: unknown; readings?: unknown } | null;
  if (typeof m !== 'object' || m === null || m.v !== 1 || !Array.isArray(m.readings) || m.readings.length === 0)
    return { ok: false, code: 'RS_ERR_PAYLOAD_INVALID', reason: 'expected {"v":1,"readings":[…]} with at least one reading' };
  if (m.readings.length > MAX_READINGS_PER_MESSAGE)
    return {
      ok: false,
      code: 'RS_ERR_PAYLOAD_TOO_LARGE',
      reason: `${m.readings.length} readings exceed ${MAX_READINGS_PER_MESSAGE} per message`,
    };
  for (const r of m.readings) {
    const values = (r as { values?: unknown } | null)?.values;
    if (typeof values === 'object' && values !== null && Object.keys(values).length > MAX_VALUES_PER_READING)
      return { ok: false, code: 'RS_ERR_PAYLOAD_TOO_LARGE', reason: `a reading carries more than ${MAX_VALUES_PER_READING} values` };
  }
  return { ok: true, readings: m.readings };
}

/** Validates one reading of an envelope with the canonical schema. */
export function parseReading(raw: unknown): { ok: true; reading: Reading } | { ok: false; code: 'RS_ERR_PAYLOAD_INVALID'; reason: string } {
  const parsed = ReadingSchema.safeParse(raw);
  return parsed.success
    ? { ok: true, reading: parsed.data }
    : { ok: false, code: 'RS_ERR_PAYLOAD_INVALID', reason: z.prettifyError(parsed.error) };
}

/** Parses and validates a whole readings payload (bounds first, see parseReadingsEnvelope); the error says why, with zod's paths. */
export function parseReadingsMessage(payload: Buffer): { ok: true; message: ReadingsMessage } | PayloadRefusal {
  const envelope = parseReadingsEnvelope(payload);
  if (!envelope.ok) return envelope;
  const parsed = ReadingsMessageSchema.safeParse({ v: 1, readings: envelope.readings });
  if (!parsed.success) return { ok: false, code: 'RS_ERR_PAYLOAD_INVALID', reason: z.prettifyError(parsed.error) };
  return { ok: true, message: parsed.data };
}

/**
 * How a calibration factor is applied (src/agent/calibration.ts):
 * - `sensitivity`: CPM per µSv/h of a GM tube; `dose_rate = cpm / factor` (profiles with a `defaultSensitivity`);
 * - `correction`: dimensionless; every µSv/h channel is multiplied by it (devices reporting µSv/h themselves).
 */
export const CalibrationKindSchema = z.enum(['sensitivity', 'correction']);
export type CalibrationKind = z.infer<typeof CalibrationKindSchema>;

/**
 * Retained on `topics.calibration(station, device)`: the calibration in force. The agent validates
 * it with this schema; an invalid one is dead-lettered and the last good one stays in force.
 */
export const CalibrationMessageSchema = z.object({
  v: z.literal(1),
  station: z.string(),
  device: z.string(),
  /** Stamped on every reading the calibration applies to; fits Reading.calibration_id. */
  calibration_id: z.string().min(1).max(64),
  kind: CalibrationKindSchema,
  /** CPM per µSv/h (`sensitivity`) or a dimensionless multiplier (`correction`); > 0. */
  factor: z.number().positive().finite(),
  /** ms since the epoch. */
  calibrated_at: z.number().int().nonnegative(),
  /** YYYY-MM-DD: the next calibration is due on this day. */
  due: z.iso.date(),
  /** The server's record number; the agent refuses one older than the calibration in force (a replay). */
  seq: z.number().int().positive().optional(),
  /** Which server key signed it (first 8 hex of its SHA-256); diagnostics only. */
  key_id: z.string().max(16).optional(),
  /** HMAC-SHA256 of the canonical form, hex (src/calibration/signing.ts); the agent applies only verified ones. */
  sig: z.string().max(128).optional(),
});
export type CalibrationMessage = z.infer<typeof CalibrationMessageSchema>;
