import { type Reject, reject } from '../../src/core/errors.ts';
import type { DecodedReading } from '../../src/core/reading.ts';
import { parseJsonPayload } from '../../src/sessions/message-session.ts';
import type { MqttJsonOptions } from './options.ts';
import { converterFor, MQTT_JSON_CHANNELS } from './units.ts';

/** A decoder built once per session from validated options: one payload in, a result out. */
export type MqttJsonDecoder = (payload: Buffer, receivedAt: number) => { readings: DecodedReading[] } | { reject: Reject };

const SPECS = new Map<string, { min?: number; max?: number; unit: string }>(MQTT_JSON_CHANNELS.map((c) => [c.spec.key, c.spec]));
const NUMERIC = /^\s*-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$/;
const ISO_WITH_ZONE = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)$/;

/** Follows `a.b.0.c` through objects and arrays; undefined where the path leads nowhere. */
export function readPath(body: unknown, path: string): unknown {
  let node = body;
  for (const key of path.split('.')) {
    if (Array.isArray(node) && /^\d+$/.test(key)) node = node[Number(key)];
    else if (typeof node === 'object' && node !== null && !Array.isArray(node) && Object.hasOwn(node, key))
      node = (node as Record<string, unknown>)[key];
    else return undefined;
  }
  return node;
}

/** JSON numbers, and decimal strings (many gateways quote numbers); anything else is undefined. */
function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && NUMERIC.test(v)) return Number(v);
  return undefined;
}

function readTimestamp(body: unknown, ts: NonNullable<MqttJsonOptions['timestamp']>): number | string {
  const v = readPath(body, ts.path);
  if (v === undefined) return `timestamp ${ts.path}: missing`;
  if (ts.format === 'iso') {
    if (typeof v !== 'string' || !ISO_WITH_ZONE.test(v)) return `timestamp ${ts.path}: not ISO 8601 with a zone`;
    const ms = Date.parse(v);
    return Number.isFinite(ms) ? ms : `timestamp ${ts.path}: not a real date`;
  }
  const n = toNumber(v);
  if (n === undefined || n < 0) return `timestamp ${ts.path}: not a non-negative number`;
  return Math.round(ts.format === 's' ? n * 1000 : n);
}

/**
 * Builds the decoder for one device's mapping. Every mapped field is optional in a message (a
 * device may send battery and counts apart); a message with none of them is a reject.
 * Rejects, never throws: not JSON → RS_ERR_PAYLOAD_JSON; a mapped field that is not a number,
 * or a configured timestamp missing or malformed → RS_ERR_PAYLOAD_INVALID; no mapped field →
 * RS_ERR_READING_INVALID; a converted value outside its channel range → RS_ERR_FRAME_RANGE.
 */
export function createMqttJsonDecoder(options: MqttJsonOptions): MqttJsonDecoder {
  const fields = Object.entries(options.fields).map(([channel, f]) => {
    const convert = converterFor(channel, f.unit);
    // The options schema refuses such a mapping; reaching here is a programming error.
    if (!convert) throw new Error(`mqtt-json: no conversion from ${f.unit} for ${channel}`);
    return {
      channel,
      path: f.path,
      scale: f.scale ?? 1,
      convert,
      spec: SPECS.get(channel) as { min?: number; max?: number; unit: string },
    };
  });
  return (payload, receivedAt) => {
    const raw = payload.subarray(0, 256);
    const json = parseJsonPayload(payload);
    if ('reject' in json) return json;
    const body = json.body;
    const values: Record<string, number> = {};
    for (const f of fields) {
      const v = readPath(body, f.path);
      if (v === undefined || v === null) continue;
      const n = toNumber(v);
      if (n === undefined) return { reject: reject('RS_ERR_PAYLOAD_INVALID', `${f.path}: expected a number for ${f.channel}`, raw) };
      // Round away float noise of the conversion (0.1 × 3 …) at 1e-9 relative, far below any meter's precision.
      const value = Number(f.convert(n * f.scale).toPrecision(12));
      const { min, max, unit } = f.spec;
      if ((min !== undefined && value < min) || (max !== undefined && value > max))
        return { reject: reject('RS_ERR_FRAME_RANGE', `${f.channel}=${value} ${unit} outside [${min ?? '-∞'}, ${max ?? '∞'}]`, raw) };
      values[f.channel] = value;
    }
    if (Object.keys(values).length === 0)
      return {
        reject: reject('RS_ERR_READING_INVALID', `none of the mapped paths (${fields.map((f) => f.path).join(', ')}) is present`, raw),
      };
    let ts = receivedAt;
    if (options.timestamp) {
      const t = readTimestamp(body, options.timestamp);
      if (typeof t === 'string') return { reject: reject('RS_ERR_PAYLOAD_INVALID', t, raw) };
      ts = t;
    }
    return { readings: [{ ts, ts_source: options.timestamp ? 'device' : 'agent', values, quality: 'good' }] };
  };
}
