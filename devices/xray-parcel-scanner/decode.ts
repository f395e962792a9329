import { reject } from '../../src/core/errors.ts';
import type { LineResult } from '../../src/sessions/line-session.ts';
import { EVENT_CAUSES, type EventCause, type InterlockState, statusToReading, type XrayLayout, type XrayStatus } from './channels.ts';

/**
 * XRS line protocol (README.md in this folder): `$XRS,<type>,<seq>,<fields…>*HH` with HH the
 * XOR of every byte between `$` and `*`. Pure: no clock (the receive time is passed in), no I/O.
 */

/** Fields after `<seq>` on a STA line; an EVT line has one more (the cause) in front. */
export const STATUS_FIELD_COUNT = 16;

/**
 * The XRS checksum: XOR of the bytes of `body` (everything between `$` and `*`, exclusive),
 * as two uppercase hex digits.
 */
export function xrsChecksum(body: string): string {
  let x = 0;
  for (let i = 0; i < body.length; i++) x ^= body.charCodeAt(i) & 0xff;
  return x.toString(16).toUpperCase().padStart(2, '0');
}

const NUMBER = /^\d{1,6}(\.\d{1,4})?$/;
const INTEGER = /^\d{1,10}$/;
const BIT = /^[01]$/;
const SEQ = /^\d{1,5}$/;
const DOORS = /^[COX]{1,8}$/;
const PANELS = /^(-|[CO]{1,8})$/;
const FAULT = /^[a-z][a-z0-9_]{0,15}$/;
const PRINTABLE = /^[\x20-\x7e]*$/;

class FieldError extends Error {}

function field(fields: readonly string[], i: number, pattern: RegExp, name: string): string {
  const v = fields[i] as string;
  if (!pattern.test(v)) throw new FieldError(`${name} ${JSON.stringify(v.slice(0, 20))} is malformed`);
  return v;
}

function interlocks(text: string): InterlockState[] {
  if (text === '-') return [];
  return [...text].map((c) => (c === 'C' ? 'closed' : c === 'O' ? 'open' : 'disagree'));
}

/** Parses the 16 status fields starting at `at`; throws FieldError on a malformed field. */
function parseStatusFields(f: readonly string[], at: number): XrayStatus {
  const num = (i: number, name: string) => Number(field(f, at + i, NUMBER, name));
  const bit = (i: number, name: string) => field(f, at + i, BIT, name) === '1';
  const lamp = f[at + 12];
  if (lamp !== 'OK' && lamp !== 'FAULT') throw new FieldError(`lamp ${JSON.stringify(lamp?.slice(0, 20))} is not OK|FAULT`);
  return {
    tubeVoltageSet: num(0, 'kV setpoint'),
    tubeVoltage: num(1, 'kV'),
    tubeCurrentSet: num(2, 'mA setpoint'),
    tubeCurrent: num(3, 'mA'),
    beamOn: bit(4, 'beam'),
    doors: interlocks(field(f, at + 5, DOORS, 'doors')),
    panels: interlocks(field(f, at + 6, PANELS, 'panels')),
    keyOn: bit(7, 'key'),
    estopPressed: bit(8, 'estop'),
    beltRunning: bit(9, 'belt'),
    beltSpeed: num(10, 'belt speed'),
    bagPresent: bit(11, 'bag'),
    lampOk: lamp === 'OK',
    leakageDoseRate: num(13, 'leakage'),
    fault: field(f, at + 14, FAULT, 'fault'),
    beamOnTime: Number(field(f, at + 15, INTEGER, 'beam-on time')),
  };
}

/**
 * Decodes one XRS line (without its CR LF) received at `receivedAt` (ms since the epoch).
 *
 * Returns one reading for STA and EVT lines (EVT adds the `event` channel), `ignored` for INF
 * lines, or a reject: no `*HH` at the end → RS_ERR_FRAME_TRUNCATED; bad checksum →
 * RS_ERR_FRAME_CHECKSUM; another talker or type → RS_ERR_FRAME_UNKNOWN; wrong field count or
 * a malformed field → RS_ERR_FRAME_SYNTAX; a value outside its channel range, or door/panel
 * counts other than `layout` → RS_ERR_FRAME_RANGE. Never throws.
 */
export function decodeXrayLine(line: string, receivedAt: number, layout: XrayLayout = {}): LineResult {
  const text = line.endsWith('\r') ? line.slice(0, -1) : line;
  const raw = Buffer.from(text, 'latin1');
  const fail = (code: Parameters<typeof reject>[0], message: string): LineResult => ({ reject: reject(code, message, raw) });
  if (!text.startsWith('$')) return fail('RS_ERR_FRAME_SYNTAX', `no leading $: ${JSON.stringify(text.slice(0, 40))}`);
  const star = text.lastIndexOf('*');
  // A line cut short (power loss, a lost byte in the CR LF) has no star or fewer than two digits after it.
  if (star === -1 || text.length - star - 1 < 2) return fail('RS_ERR_FRAME_TRUNCATED', 'line ends before its *HH checksum');
  const sent = text.slice(star + 1);
  if (!/^[0-9A-Fa-f]{2}$/.test(sent))
    return fail('RS_ERR_FRAME_SYNTAX', `checksum field ${JSON.stringify(sent.slice(0, 8))} is not two hex digits`);
  const body = text.slice(1, star);
  const expected = xrsChecksum(body);
  if (sent.toUpperCase() !== expected) return fail('RS_ERR_FRAME_CHECKSUM', `checksum ${sent}, computed ${expected}`);
  if (!PRINTABLE.test(body) || body.includes('$') || body.includes('*'))
    return fail('RS_ERR_FRAME_SYNTAX', 'non-printable or reserved byte in the body');
  const f = body.split(',');
  if (f[0] !== 'XRS') return fail('RS_ERR_FRAME_UNKNOWN', `talker ${JSON.stringify((f[0] ?? '').slice(0, 8))} is not XRS`);
  const type = f[1] ?? '';
  if (type !== 'STA' && type !== 'EVT' && type !== 'INF')
    return fail('RS_ERR_FRAME_UNKNOWN', `line type ${JSON.stringify(type.slice(0, 8))}`);
  if (!SEQ.test(f[2] ?? '') || Number(f[2]) > 65535)
    return fail('RS_ERR_FRAME_SYNTAX', `sequence ${JSON.stringify((f[2] ?? '').slice(0, 8))} is not 0–65535`);
  if (type === 'INF') return { ignored: text };
  const at = type === 'EVT' ? 4 : 3;
  if (f.length !== at + STATUS_FIELD_COUNT)
    return fail('RS_ERR_FRAME_SYNTAX', `${type} has ${f.length - 3} fields, expected ${at - 3 + STATUS_FIELD_COUNT}`);
  let status: XrayStatus;
  try {
    status = parseStatusFields(f, at);
  } catch (e) {
    if (e instanceof FieldError) return fail('RS_ERR_FRAME_SYNTAX', e.message);
    throw e;
  }
  if (type === 'EVT') {
    const cause = f[3] as string;
    if (!(EVENT_CAUSES as readonly string[]).includes(cause))
      return fail('RS_ERR_FRAME_SYNTAX', `event cause ${JSON.stringify(cause.slice(0, 16))}`);
    status.cause = cause as EventCause;
  }
  return statusToReading(status, receivedAt, layout, raw);
}
