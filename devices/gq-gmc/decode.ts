import type { Reject } from '../../src/core/errors.ts';
import { type ErrorCode, reject } from '../../src/core/errors.ts';
import { formatLocal, isValidLocal, localToUtc, readLocalTime } from './decode-clock.ts';
import type { ModelInfo, Series } from './models.ts';
import { seriesOf } from './models.ts';

/**
 * Pure decoders for GQ GMC replies (docs/protocols.md §1.3–§1.6). Bytes in, a value or a typed reject
 * out; no I/O, and the only clock is the time zone passed in. The history-flash decoder lives in
 * decode-history.ts and is re-exported here.
 */
export { decodeHistory, type HistoryOptions, type HistoryResult, type HistorySample, historyToReadings } from './decode-history.ts';

/** A decoded value or a reject; structurally the poll session's `PollResult`. */
export type Decoded<T> = { ok: true; value: T } | { ok: false; reject: Reject };

function ok<T>(value: T): Decoded<T> {
  return { ok: true, value };
}

function fail<T>(code: ErrorCode, message: string, raw?: Buffer): Decoded<T> {
  return { ok: false, reject: reject(code, message, raw) };
}

function checkLength<T>(label: string, reply: Buffer, bytes: number): Decoded<T> | undefined {
  if (reply.length < bytes) return fail('RS_ERR_FRAME_TRUNCATED', `${label}: ${reply.length} of ${bytes} bytes`, reply);
  if (reply.length > bytes) return fail('RS_ERR_FRAME_SYNTAX', `${label}: ${reply.length} bytes, expected ${bytes}`, reply);
  return undefined;
}

function readUnsigned(reply: Buffer): number {
  return reply.length === 2 ? reply.readUInt16BE(0) : reply.readUInt32BE(0);
}

/** GETCPM: counts per minute, u16 BE (RFC1201, never masked) or u32 BE (RFC1801). */
export function decodeCpm(reply: Buffer, model: Pick<ModelInfo, 'countBytes'>): Decoded<number> {
  return checkLength('GETCPM', reply, model.countBytes) ?? ok(readUnsigned(reply));
}

/**
 * GETCPS and each heartbeat sample: counts per second. On RFC1201 units bits 14/15 are reserved
 * and seen set in practice (`80 1C` is 28), so only the low 14 bits count.
 */
export function decodeCps(reply: Buffer, model: Pick<ModelInfo, 'countBytes' | 'cpsMask'>): Decoded<number> {
  return checkLength('GETCPS', reply, model.countBytes) ?? ok((readUnsigned(reply) & model.cpsMask) >>> 0);
}

/** GETVOLT: battery volts; one byte of volts×10, or ASCII like `4.0v\0` / `3.97v`. */
export function decodeVoltage(reply: Buffer, model: Pick<ModelInfo, 'voltage'>): Decoded<number> {
  if (model.voltage === 'byte') return checkLength('GETVOLT', reply, 1) ?? ok((reply[0] ?? 0) / 10);
  const text = reply.toString('latin1').replace(/\0/g, '').trim();
  const m = /^(\d{1,2}(?:\.\d{1,3})?)\s*[vV]?$/.exec(text);
  if (!m?.[1]) return fail('RS_ERR_FRAME_SYNTAX', `GETVOLT: not a voltage: ${JSON.stringify(text)}`, reply);
  return ok(Number(m[1]));
}

/** GETSERIAL: the 7 bytes as 14 upper-case hex digits. */
export function decodeSerial(reply: Buffer): Decoded<string> {
  return checkLength('GETSERIAL', reply, 7) ?? ok(reply.toString('hex').toUpperCase());
}

/** A device clock reading: UTC ms for the configured zone, and the wall time it showed. */
export interface DeviceTime {
  /** ms since the epoch (UTC). */
  ts: number;
  /** The device's wall time, `YYYY-MM-DD hh:mm:ss`. */
  local: string;
}

/**
 * GETDATETIME: `YY MM DD hh mm ss AA`, device-local time converted to UTC with `timeZone`
 * (an IANA name). An unset RTC (`00 00 00 …`) or impossible date is RS_ERR_FRAME_RANGE.
 */
export function decodeDateTime(reply: Buffer, timeZone: string): Decoded<DeviceTime> {
  const bad = checkLength<DeviceTime>('GETDATETIME', reply, 7);
  if (bad) return bad;
  if (reply[6] !== 0xaa) return fail('RS_ERR_FRAME_SYNTAX', 'GETDATETIME: last byte is not 0xAA', reply);
  const t = readLocalTime(reply);
  if (!isValidLocal(t)) return fail('RS_ERR_FRAME_RANGE', `GETDATETIME: clock not set or invalid (${formatLocal(t)})`, reply);
  return ok({ ts: localToUtc(t, timeZone), local: formatLocal(t) });
}

/** What GETVER says: model name, firmware, and the series the name belongs to. */
export interface DeviceVersion {
  /** e.g. `GMC-320`, `GMC-300S`, `GMC-320+V5`, `GMC-500+`. */
  model: string;
  /** e.g. `4.26`; `RADP` for Rad Pro's GMC-800 emulation. */
  firmware: string;
  series: Series;
}

/**
 * GETVER: `GMC-300Re 4.54`, `GMC-800Re1.08`, `GMC-320+V5\0RRe 5.73` (a NUL and a stray `R` seen
 * on real units). Split on the `Re` before the firmware; unknown model numbers are rejected.
 */
export function decodeVersion(reply: Buffer): Decoded<DeviceVersion> {
  const text = reply.toString('latin1').replace(/[\0\s]+$/, '');
  const m = /^(GMC-\d{3}[^\s\0]*?)\0?R?Re ?([\w.]+)$/.exec(text);
  if (!m?.[1] || !m[2]) return fail('RS_ERR_FRAME_SYNTAX', `GETVER: not a GQ version string: ${JSON.stringify(text)}`, reply);
  const series = seriesOf(m[1]);
  if (!series) return fail('RS_ERR_FRAME_UNKNOWN', `GETVER: unknown GQ model ${m[1]}`, reply);
  return ok({ model: m[1], firmware: m[2], series });
}

/** One GETCFG calibration point: this many CPM shows as this many µSv/h. */
export interface CalibrationPoint {
  cpm: number;
  usvh: number;
}

/**
 * The three calibration points of a GETCFG block (offsets 8/10, 14/16, 20/22: u16 BE CPM and a
 * float32 µSv/h, little-endian on 256-byte blocks, big-endian on 512-byte ones). Points that are
 * erased flash (0xFFFF) or not finite and positive are dropped; none left means "not present".
 */
export function decodeCalibration(cfg: Buffer, model: Pick<ModelInfo, 'cfgBytes'>): Decoded<CalibrationPoint[]> {
  const bad = checkLength<CalibrationPoint[]>('GETCFG', cfg, model.cfgBytes);
  if (bad) return bad;
  const points: CalibrationPoint[] = [];
  for (const at of [8, 14, 20]) {
    const cpm = cfg.readUInt16BE(at);
    const usvh = model.cfgBytes === 256 ? cfg.readFloatLE(at + 2) : cfg.readFloatBE(at + 2);
    if (cpm === 0 || cpm === 0xffff || !Number.isFinite(usvh) || usvh <= 0) continue;
    points.push({ cpm, usvh });
  }
  return ok(points);
}

/** A CPM → µSv/h conversion and the sensitivity it amounts to near background. */
export interface DoseCurve {
  /** µSv/h for a CPM value; never negative. */
  toDoseRate(cpm: number): number;
  /** CPM per µSv/h of the first segment, for logs and the README's "which convention" question. */
  sensitivity: number;
}

/** A straight line through the origin: µSv/h = CPM / S. */
export function linearCurve(sensitivity: number): DoseCurve {
  return { toDoseRate: (cpm) => cpm / sensitivity, sensitivity };
}

/**
 * The device's own conversion (§1.6): prepend (0, 0), join consecutive points, skip a pair whose
 * CPM does not rise (the 500+'s second-tube point), use the first segment reaching the reading,
 * extrapolate the last one. Undefined when no segment is left, or when the first segment is far
 * outside any GM tube (1–10000 CPM per µSv/h): then the block is not trusted at all.
 */
export function buildDoseCurve(points: readonly CalibrationPoint[]): DoseCurve | undefined {
  const segments: [CalibrationPoint, CalibrationPoint][] = [];
  let from: CalibrationPoint = { cpm: 0, usvh: 0 };
  for (const to of points) {
    if (to.cpm <= from.cpm) continue;
    segments.push([from, to]);
    from = to;
  }
  const first = segments[0];
  if (!first) return undefined;
  const sensitivity = first[1].cpm / first[1].usvh;
  if (!(sensitivity >= 1 && sensitivity <= 10_000)) return undefined;
  return {
    sensitivity,
    toDoseRate(cpm) {
      const seg = segments.find(([, b]) => b.cpm >= cpm) ?? segments[segments.length - 1] ?? first;
      const [a, b] = seg;
      return Math.max(0, a.usvh + ((cpm - a.cpm) * (b.usvh - a.usvh)) / (b.cpm - a.cpm));
    },
  };
}
