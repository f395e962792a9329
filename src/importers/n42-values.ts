/**
 * Value syntax of ANSI N42.42-2011 (xsd:duration, xsd:dateTime, numbers, channel lists).
 * Each parser returns undefined (or a message) instead of guessing: the document layer turns
 * that into a problem naming the element.
 */

const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** A finite decimal number as xsd:double writes it; undefined for anything else. */
export function parseDecimal(text: string | undefined): number | undefined {
  if (text === undefined || !DECIMAL.test(text)) return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

const DURATION = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

/**
 * xsd:duration in seconds (`PT613S`, `PT1824.650024S`, `P1DT2H`). Years and months have no
 * fixed length, so a duration using them is refused rather than approximated.
 */
export function parseDurationSeconds(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const m = DURATION.exec(text);
  // `P` and `PT` alone match the pattern but say nothing.
  if (!m || text === 'P' || text.endsWith('T')) return undefined;
  if (m[1] !== undefined || m[2] !== undefined) return undefined;
  const [d, h, min, s] = [m[3], m[4], m[5], m[6]].map((v) => (v === undefined ? 0 : Number(v))) as [number, number, number, number];
  return d * 86_400 + h * 3_600 + min * 60 + s;
}

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?$/;

/**
 * xsd:dateTime in ms since the epoch. A time without an offset (RadiaCode exports local time
 * without `Z`, docs/protocols.md §6.2) is read as UTC: the file does not say which zone it meant.
 */
export function parseDateTimeMs(text: string | undefined): { ms: number; zoned: boolean } | undefined {
  if (!text) return undefined;
  const m = DATE_TIME.exec(text);
  if (!m) return undefined;
  const [mo, d, h, mi, s] = [m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number];
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return undefined;
  const ms = Date.parse(m[8] ? text : `${text}Z`);
  if (!Number.isFinite(ms) || ms < 0) return undefined;
  return { ms, zoned: m[8] !== undefined };
}

/** Spectra larger than this are refused: no real instrument has more, and a fuzzed run-length must not eat memory. */
export const MAX_CHANNELS = 1 << 20;

/** Channel count and total counts of a `ChannelData` list, or the reason it is unreadable. */
export type ChannelSummary = { ok: true; channels: number; total: number } | { ok: false; problem: string };

/**
 * Reads a whitespace-separated channel list. With `CountedZeroes` a `0` is followed by how many
 * zero channels it stands for (docs/protocols.md §6.1).
 */
export function summariseChannels(text: string, compression: string): ChannelSummary {
  if (compression !== 'None' && compression !== 'CountedZeroes')
    return { ok: false, problem: `compressionCode '${compression}' is not None or CountedZeroes` };
  const tokens = text.split(/\s+/).filter((t) => t.length > 0);
  if (tokens.length === 0) return { ok: false, problem: 'no channel values' };
  let channels = 0;
  let total = 0;
  for (let i = 0; i < tokens.length; i++) {
    const v = parseDecimal(tokens[i]);
    if (v === undefined || v < 0)
      return { ok: false, problem: `channel value '${String(tokens[i]).slice(0, 20)}' is not a non-negative number` };
    if (compression === 'CountedZeroes' && v === 0) {
      const run = parseDecimal(tokens[++i]);
      if (run === undefined || !Number.isInteger(run) || run < 1)
        return { ok: false, problem: 'CountedZeroes: a 0 must be followed by a zero count ≥ 1' };
      channels += run;
    } else {
      channels += 1;
      total += v;
    }
    if (channels > MAX_CHANNELS) return { ok: false, problem: `more than ${MAX_CHANNELS} channels` };
  }
  return { ok: true, channels, total };
}

/**
 * The channel list itself (not only its summary): `CountedZeroes` runs expanded to zeros.
 * Same rules and limits as {@link summariseChannels}; returns the problem instead of throwing.
 */
export function expandChannels(text: string, compression: string): { ok: true; counts: number[] } | { ok: false; problem: string } {
  const summary = summariseChannels(text, compression);
  if (!summary.ok) return summary;
  const tokens = text.split(/\s+/).filter((t) => t.length > 0);
  const counts: number[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const v = Number(tokens[i]);
    if (compression === 'CountedZeroes' && v === 0) {
      const run = Number(tokens[++i]);
      for (let k = 0; k < run; k++) counts.push(0);
    } else counts.push(v);
  }
  return { ok: true, counts };
}
