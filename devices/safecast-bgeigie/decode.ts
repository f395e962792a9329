import type { Reject } from '../../src/core/errors.ts';
import type { DecodedReading } from '../../src/core/reading.ts';
import { convert } from '../../src/core/units.ts';
import type { LineResult } from '../../src/sessions/line-session.ts';
import { parseBgeigieSentence } from './parse.ts';

/**
 * Stage 2 of bGeigie decoding: sentences into canonical readings, plus the `#` header lines
 * that frame each power cycle's log block (docs/protocols.md §3.4). Pure: no clock, no I/O.
 */

/** Safecast's LND 7317 figure (Nano `cpmf=334`, Zen `USH_DIVIDER`), CPM per µSv/h. */
export const LND7317_SENSITIVITY = 334;

export interface BgeigieDecodeOptions {
  /** CPM per µSv/h; default {@link LND7317_SENSITIVITY}. */
  sensitivity?: number;
  /**
   * What the current log block's `# deadtime=` header said: true means the CPM field is
   * already dead-time compensated by the firmware. Undefined when no header was seen (live
   * streams joined mid-way); the reading then carries no `dead_time_compensated` value.
   */
  deadTime?: boolean;
  /** False tolerates wrong checksums (forensics on hand-edited logs); never set for live data. */
  verifyChecksum?: boolean;
}

/** What the `#` lines of the current log block said. `# NEW LOG` starts a fresh block. */
export interface BgeigieLogState {
  deadTime?: boolean;
  /** `# format=` value, e.g. `1.0.0nano`, `1.3.4nano`, `1.2.0-zen/drives`. */
  format?: string;
}

/**
 * Applies a header or comment line to `state`. Returns false when the line is not a `#` line.
 * Unknown `#` lines (classic field descriptions, `# nm=…` settings, free comments) are skipped.
 */
export function applyHeaderLine(line: string, state: BgeigieLogState): boolean {
  const text = line.trim();
  if (!text.startsWith('#')) return false;
  const body = text.slice(1).trim();
  if (body === 'NEW LOG') {
    delete state.deadTime;
    delete state.format;
  } else if (/^deadtime\s*=\s*on$/i.test(body)) state.deadTime = true;
  else if (/^deadtime\s*=\s*off$/i.test(body)) state.deadTime = false;
  else if (body.startsWith('format=')) state.format = body.slice('format='.length);
  return true;
}

/**
 * Splits a raw line into sentence candidates at every `$`, because real logs hold fused
 * sentences (a bit flip turned a line feed into `*`) and embedded `$GPR…` fragments. Noise
 * before the first `$` is returned as its own candidate so that it is rejected, not lost.
 */
export function splitSentences(line: string): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = line.indexOf('$', 1); i !== -1; i = line.indexOf('$', i + 1)) {
    out.push(line.slice(start, i));
    start = i;
  }
  out.push(line.slice(start));
  return out.map((s) => s.replace(/[\r\n]+$/, '')).filter((s) => s.trim().length > 0);
}

/**
 * Decodes one sentence (`$…*HH`) into one reading. Blank lines and `#` lines are `ignored`;
 * everything else that is not a valid radiation sentence is a typed reject. A `V` radiation
 * flag (first minute, or CPM 0) keeps the reading but marks it `invalid`: the value is real
 * but must not raise alarms or enter averages. Lines holding several sentences: see
 * {@link splitSentences}.
 *
 * Channels: `cpm` CPM, `counts_5s` counts, `total_counts` counts, `dose_rate` µSv/h
 * (CPM / sensitivity), `latitude`/`longitude` decimal degrees, `gps_valid` bool, and
 * `dead_time_compensated` bool when the log header said. `ts` is the GPS time (`device`).
 */
export function decodeBgeigieLine(line: string, opts: BgeigieDecodeOptions = {}): LineResult {
  const text = line.replace(/[\r\n]+$/, '');
  if (text.trim() === '' || text.trimStart().startsWith('#')) return { ignored: text };
  const parsed = parseBgeigieSentence(text, opts.verifyChecksum ?? true);
  if ('reject' in parsed) return parsed;
  if ('status' in parsed) return { ignored: text };
  const s = parsed.sentence;
  const values: DecodedReading['values'] = {
    cpm: s.cpm,
    counts_5s: s.counts5s,
    total_counts: s.totalCounts,
    dose_rate: convert.cpmToUSvh(s.cpm, opts.sensitivity ?? LND7317_SENSITIVITY),
    latitude: s.latitude,
    longitude: s.longitude,
    gps_valid: s.gpsValid,
  };
  if (opts.deadTime !== undefined) values.dead_time_compensated = opts.deadTime;
  return { readings: [{ ts: s.ts, ts_source: 'device', values, quality: s.radiationValid ? 'good' : 'invalid' }] };
}

/**
 * Decodes one raw line with header tracking and fused-sentence recovery: the shared step of
 * the live session and the SD-card file reader. Returns one result per sentence candidate.
 */
export function decodeBgeigieRawLine(line: string, state: BgeigieLogState, opts: BgeigieDecodeOptions = {}): LineResult[] {
  const text = line.replace(/[\r\n]+$/, '');
  if (applyHeaderLine(text, state) || text.trim() === '') return [{ ignored: text }];
  const lineOpts: BgeigieDecodeOptions = state.deadTime === undefined ? opts : { ...opts, deadTime: state.deadTime };
  return splitSentences(text).map((sentence) => decodeBgeigieLine(sentence, lineOpts));
}

/** Everything one SD-card log file yielded. */
export interface BgeigieLogResult {
  readings: DecodedReading[];
  rejects: Reject[];
}

/**
 * Decodes a whole SD-card log (any mix of LF and CRLF, several `# NEW LOG` blocks). A last
 * line cut by power loss, with no `*checksum`, is rejected as RS_ERR_FRAME_TRUNCATED.
 */
export function decodeBgeigieLog(file: string | Buffer, opts: BgeigieDecodeOptions = {}): BgeigieLogResult {
  const text = typeof file === 'string' ? file : file.toString('latin1');
  const state: BgeigieLogState = {};
  const readings: DecodedReading[] = [];
  const rejects: Reject[] = [];
  for (const line of text.split('\n')) {
    for (const result of decodeBgeigieRawLine(line, state, opts)) {
      if ('readings' in result) readings.push(...result.readings);
      else if ('reject' in result) rejects.push(result.reject);
    }
  }
  return { readings, rejects };
}
