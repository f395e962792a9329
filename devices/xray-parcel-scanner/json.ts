import { z } from 'zod';
import { type Reject, reject } from '../../src/core/errors.ts';
import type { DecodedReading } from '../../src/core/reading.ts';
import { parseJsonPayload } from '../../src/sessions/message-session.ts';
import { EVENT_CAUSES, statusToReading, type XrayLayout } from './channels.ts';

/**
 * The XRS content as JSON, for scanners behind a gateway that publishes on MQTT (README.md,
 * "JSON form"). Same fields, same units, same ranges as the line protocol; ranges are checked
 * by the shared channel table so both forms reject the same values with the same code.
 */

const Interlock = z.enum(['closed', 'open', 'disagree']);
/** Any finite number: ranges (and so negatives) are the channel table's job, giving RS_ERR_FRAME_RANGE. */
const Amount = z.number().finite();

const StatusFields = {
  v: z.literal(1),
  seq: z.int().min(0).max(65535),
  tube_voltage_set: Amount,
  tube_voltage: Amount,
  tube_current_set: Amount,
  tube_current: Amount,
  beam_on: z.boolean(),
  doors: z.array(Interlock).max(16),
  panels: z.array(z.enum(['closed', 'open'])).max(16),
  key_on: z.boolean(),
  estop_pressed: z.boolean(),
  belt_running: z.boolean(),
  belt_speed: Amount,
  bag_present: z.boolean(),
  xray_lamp: z.enum(['ok', 'fault']),
  leakage_dose_rate: Amount,
  fault: z.string().regex(/^[a-z][a-z0-9_]{0,15}$/),
  beam_on_time: z.int().min(0),
};

/**
 * One XRS JSON message: `type: "status"` every second, `type: "event"` with an `event` cause
 * on any change. Units: kV, mA, m/s, µSv/h, s. Unknown keys are refused (strict) so that a
 * gateway sending a renamed field fails loudly instead of silently dropping a value.
 */
export const XrayJsonSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('status'), ...StatusFields }),
  z.strictObject({ type: z.literal('event'), event: z.enum(EVENT_CAUSES), ...StatusFields }),
]);
export type XrayJsonMessage = z.infer<typeof XrayJsonSchema>;

/**
 * Decodes one MQTT payload received at `receivedAt` (ms since the epoch) into one reading.
 * Rejects, never throws: not JSON → RS_ERR_PAYLOAD_JSON; a `type` other than status/event →
 * RS_ERR_FRAME_UNKNOWN; shape or types wrong → RS_ERR_PAYLOAD_INVALID; a value outside its
 * channel range, or door/panel counts other than `layout` → RS_ERR_FRAME_RANGE.
 */
export function decodeXrayJson(
  payload: Buffer,
  receivedAt: number,
  layout: XrayLayout = {},
): { readings: DecodedReading[] } | { reject: Reject } {
  const raw = payload.subarray(0, 256);
  const json = parseJsonPayload(payload);
  if ('reject' in json) return json;
  const body = json.body;
  if (typeof body === 'object' && body !== null && 'type' in body) {
    const type = (body as { type: unknown }).type;
    if (typeof type === 'string' && type !== 'status' && type !== 'event')
      return { reject: reject('RS_ERR_FRAME_UNKNOWN', `message type ${JSON.stringify(type.slice(0, 16))}`, raw) };
  }
  const parsed = XrayJsonSchema.safeParse(body);
  if (!parsed.success) {
    // The first issue names the field; a gateway bug rarely has more than one, and this stays cheap under a flood.
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? issue.path.join('.') : '(payload)';
    return { reject: reject('RS_ERR_PAYLOAD_INVALID', `${where}: ${issue?.message ?? 'invalid'}`.slice(0, 200), raw) };
  }
  const m = parsed.data;
  return statusToReading(
    {
      tubeVoltageSet: m.tube_voltage_set,
      tubeVoltage: m.tube_voltage,
      tubeCurrentSet: m.tube_current_set,
      tubeCurrent: m.tube_current,
      beamOn: m.beam_on,
      doors: m.doors,
      panels: m.panels,
      keyOn: m.key_on,
      estopPressed: m.estop_pressed,
      beltRunning: m.belt_running,
      beltSpeed: m.belt_speed,
      bagPresent: m.bag_present,
      lampOk: m.xray_lamp === 'ok',
      leakageDoseRate: m.leakage_dose_rate,
      fault: m.fault,
      beamOnTime: m.beam_on_time,
      ...(m.type === 'event' ? { cause: m.event } : {}),
    },
    receivedAt,
    layout,
    raw,
  );
}
