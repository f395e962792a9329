import type { Reject } from '../../src/core/errors.ts';
import { reject } from '../../src/core/errors.ts';

/**
 * Stage 1 of bGeigie decoding (docs/protocols.md §3.2–3.3): one `$…*HH` sentence into typed fields.
 * No units, no readings: that is decode.ts. Every field is checked for syntax as well as the
 * XOR checksum, because two bit flips in one bit position cancel in an XOR.
 */

/** Sentence headers of radiation data this decoder knows (Nano/Zen, Mini, classic, NX, CzechRad). */
export const DATA_HEADERS = ['BNRDD', 'BMRDD', 'BGRDD', 'BNXRDD', 'CZRA1', 'CZRDD'] as const;
export type BgeigieHeader = (typeof DATA_HEADERS)[number];

/** NX status sentences: well-formed, not radiation data, ignored. */
const STATUS_HEADERS = new Set(['BNXSTS']);

/** The Nano firmware swapped fields 13/14 on 2013-02-16 (commit 7859e94 "File format fix"). */
const FIELD_ORDER_CHANGE_MS = Date.UTC(2013, 1, 16);

/** One radiation sentence, fields as the device meant them. */
export interface BgeigieSentence {
  header: BgeigieHeader;
  deviceId: string;
  /** GPS UTC time, ms since the epoch. */
  ts: number;
  /** Counts in the last 60 s (twelve 5-s bins); dead-time compensated when the log header says so. */
  cpm: number;
  /** Counts in the newest 5-s bin. */
  counts5s: number;
  /** Counts since power-on. */
  totalCounts: number;
  /** `A` = the CPM is valid; `V` during the first minute or when CPM is 0. */
  radiationValid: boolean;
  /** Decimal degrees, south negative. */
  latitude: number;
  /** Decimal degrees, west negative. */
  longitude: number;
  /** Metres above sea level, as the GPS reported. */
  altitude: number;
  gpsValid: boolean;
  /** Diagnostics only (docs/protocols.md §3.2): satellites in use, when the sentence carries it. */
  satellites?: number;
  /** Diagnostics only: horizontal dilution of precision (Zen puts PDOP here). */
  hdop?: number;
  /** Diagnostics only: NMEA fix quality (0 none, 1 GPS, 2 DGPS), Mini/classic/NX. */
  fixQuality?: number;
}

export type ParseResult = { sentence: BgeigieSentence } | { status: string } | { reject: Reject };

const CHECKSUMMED = /^\$([^*$]*)\*([0-9A-Fa-f]{2})$/;
const UINT = /^\d{1,9}$/;
const DECIMAL = /^-?\d+(\.\d+)?$/;
const NMEA_COORD = /^-?(\d{1,5})\.(\d{1,8})$/;
const ISO_UTC = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/;

/** XOR of every byte of `body` (the text strictly between `$` and `*`). */
export function computeChecksum(body: string): number {
  let cs = 0;
  for (let i = 0; i < body.length; i += 1) cs ^= body.charCodeAt(i) & 0xff;
  return cs;
}

function fail(code: Reject['code'], message: string, sentence: string): { reject: Reject } {
  return { reject: reject(code, message, Buffer.from(sentence, 'latin1')) };
}

/**
 * NMEA `ddmm.mmmm` / `dddmm.mmmm` to decimal degrees, parsed as text, never by column: the
 * 2012 Nano did not pad longitudes (`445.6503`). The sign comes from the hemisphere letter;
 * a leading `-` (the 2012 TinyGPS bug) is dropped, as the Safecast API does.
 */
export function parseNmeaCoordinate(text: string, hemisphere: string, maxDegrees: number): number | undefined {
  const m = NMEA_COORD.exec(text);
  if (!m) return undefined;
  const [, whole, frac] = m as unknown as [string, string, string];
  const degrees = Number(whole.slice(0, -2) || '0');
  const minutes = Number(`${whole.slice(-2)}.${frac}`);
  if (minutes >= 60) return undefined;
  const value = degrees + minutes / 60;
  if (value > maxDegrees) return undefined;
  return hemisphere === 'S' || hemisphere === 'W' ? -value : value;
}

/** `YYYY-MM-DDThh:mm:ssZ` to ms, or undefined for placeholder dates (month/day `00`) and impossible times. */
export function parseGpsTime(text: string): number | undefined {
  const m = ISO_UTC.exec(text);
  if (!m) return undefined;
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  // The bGeigie dates from 2011; a year outside 2010–2099 is a GPS that has not got the time yet.
  if (y < 2010 || y > 2099 || h > 23 || mi > 59 || s > 59) return undefined;
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(ms);
  if (back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return undefined;
  return ms;
}

/**
 * Parses one sentence. `sentence` must start at `$`; anything after `*HH` is trailing garbage
 * and rejected. With `verifyChecksum: false` a wrong checksum is tolerated (for forensic
 * reading of hand-edited logs only; the agent always verifies).
 */
export function parseBgeigieSentence(sentence: string, verifyChecksum = true): ParseResult {
  if (!sentence.startsWith('$')) return fail('RS_ERR_FRAME_SYNTAX', 'sentence does not start with $', sentence);
  const star = sentence.indexOf('*');
  if (star === -1) return fail('RS_ERR_FRAME_TRUNCATED', 'sentence ends before its *checksum (power loss?)', sentence);
  const m = CHECKSUMMED.exec(sentence);
  if (!m) return fail('RS_ERR_FRAME_SYNTAX', `garbage around the checksum: ${JSON.stringify(sentence.slice(star, star + 8))}`, sentence);
  const [, body, csText] = m as unknown as [string, string, string];
  const computed = computeChecksum(body);
  if (verifyChecksum && computed !== Number.parseInt(csText, 16)) {
    const hex = computed.toString(16).toUpperCase().padStart(2, '0');
    return fail('RS_ERR_FRAME_CHECKSUM', `checksum ${csText} given, ${hex} computed`, sentence);
  }
  const f = body.split(',');
  const header = f[0] ?? '';
  if (STATUS_HEADERS.has(header)) return { status: header };
  if (!(DATA_HEADERS as readonly string[]).includes(header)) return fail('RS_ERR_FRAME_UNKNOWN', `unknown sentence $${header}`, sentence);
  return parseFields(header as BgeigieHeader, f, sentence);
}

function parseFields(header: BgeigieHeader, f: string[], sentence: string): ParseResult {
  const expected = header === 'BNXRDD' ? 16 : 15;
  if (f.length !== expected) return fail('RS_ERR_FRAME_SYNTAX', `$${header} has ${f.length} fields, expected ${expected}`, sentence);
  const [, id, time, cpm, cp5s, total, rad, lat, ns, lon, ew, alt, gps, f13, f14, f15] = f as [
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string,
    string | undefined,
  ];
  const bad = (what: string, value: string) => fail('RS_ERR_FRAME_SYNTAX', `${what} ${JSON.stringify(value)} is not valid`, sentence);
  if (!/^\d{1,5}$/.test(id)) return bad('device id', id);
  const ts = parseGpsTime(time);
  if (ts === undefined) return bad('GPS time', time);
  if (!UINT.test(cpm)) return bad('CPM', cpm);
  if (!UINT.test(cp5s)) return bad('5-s count', cp5s);
  if (!UINT.test(total)) return bad('total count', total);
  if (rad !== 'A' && rad !== 'V') return bad('radiation flag', rad);
  if (ns !== 'N' && ns !== 'S') return bad('N/S hemisphere', ns);
  if (ew !== 'E' && ew !== 'W') return bad('E/W hemisphere', ew);
  const latitude = parseNmeaCoordinate(lat, ns, 90);
  if (latitude === undefined) return bad('latitude', lat);
  const longitude = parseNmeaCoordinate(lon, ew, 180);
  if (longitude === undefined) return bad('longitude', lon);
  if (!DECIMAL.test(alt)) return bad('altitude', alt);
  if (gps !== 'A' && gps !== 'V') return bad('GPS flag', gps);
  for (const extra of [f13, f14, f15]) if (extra !== undefined && !DECIMAL.test(extra)) return bad('GPS diagnostic', extra);
  return {
    sentence: {
      header,
      deviceId: id,
      ts,
      cpm: Number(cpm),
      counts5s: Number(cp5s),
      totalCounts: Number(total),
      radiationValid: rad === 'A',
      latitude,
      longitude,
      altitude: Number(alt),
      gpsValid: gps === 'A',
      ...parseDiagnostics(header, ts, Number(f13), Number(f14), f15 === undefined ? undefined : Number(f15)),
    },
  };
}

/** Fields 13–15 mean different things per header and Nano firmware date (docs/protocols.md §3.2). */
function parseDiagnostics(
  header: BgeigieHeader,
  ts: number,
  f13: number,
  f14: number,
  f15: number | undefined,
): Pick<BgeigieSentence, 'satellites' | 'hdop' | 'fixQuality'> {
  switch (header) {
    case 'BMRDD':
    case 'BGRDD':
      return { hdop: f13, fixQuality: f14 };
    case 'BNXRDD':
      return f15 === undefined ? { satellites: f13, hdop: f14 } : { satellites: f13, hdop: f14, fixQuality: f15 };
    default:
      // Nano logs cannot say which firmware wrote them except through the date; all pre-2013
      // logs come from the old order (HDOP×100, then satellites).
      if (header === 'BNRDD' && ts < FIELD_ORDER_CHANGE_MS) return { hdop: f13 / 100, satellites: f14 };
      return { satellites: f13, hdop: f14 / 100 };
  }
}
