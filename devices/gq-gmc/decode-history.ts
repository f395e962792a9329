import type { Reject } from '../../src/core/errors.ts';
import { reject } from '../../src/core/errors.ts';
import type { DecodedReading } from '../../src/core/reading.ts';
import { formatLocal, isValidLocal, type LocalDateTime, localToUtc, readLocalTime } from './decode-clock.ts';

/**
 * The GQ history flash as read with `<SPIR…>>` (docs/protocols.md §1.7): a byte stream of one-byte
 * samples, escaped by `55 AA <code>` for timestamp tags, wider samples, notes and tube selection.
 */

export interface HistoryOptions {
  /** IANA zone the device clock was set to; tags hold wall time without a zone. */
  timeZone: string;
  /**
   * Where the n-th sample after a tag (n = 0, 1, …) sits. `geigerlog` (default; the only real
   * reference pair, flight.bin/flight.his, uses it): CPM modes tag + n min, CPS modes
   * tag + (n+1) s, hourly tag + (n+1) h. `end-of-interval` (pygmc): tag + (n+1) intervals.
   */
  stamp?: 'geigerlog' | 'end-of-interval';
  /** GMC-500+ firmware 1.18/1.21 swapped codes: 02 = u24, 03 = u32, 04 = note. */
  swappedCodes?: boolean;
}

/** One sample from the flash. */
export interface HistorySample {
  /** Byte offset of the sample (of its `55` for escaped ones) in the dump. */
  offset: number;
  /** ms since the epoch (UTC). */
  ts: number;
  /** The device's wall time of the sample, `YYYY-MM-DD hh:mm:ss`. */
  local: string;
  /** What the save mode in force says the value is. */
  unit: 'cpm' | 'cps';
  value: number;
  /** Save mode from the tag: 1 CPS/s, 2 CPM/min, 3 CPM hourly average, 4/5 thresholded 1/2. */
  mode: number;
}

export interface HistoryTag {
  offset: number;
  local: string;
  ts: number;
  mode: number;
}

export interface HistoryResult {
  samples: HistorySample[];
  tags: HistoryTag[];
  /** Notes and location texts written with `55 AA 02`, by offset. */
  notes: { offset: number; text: string }[];
  rejects: Reject[];
}

/** A run this long of 0xFF is unwritten flash: the written part of the segment ends there. */
const ERASED_RUN = 100;

const INTERVAL_S: Record<number, number> = { 1: 1, 2: 60, 3: 3600, 4: 1, 5: 60 };

interface Cursor {
  tag?: { local: LocalDateTime; mode: number };
  n: number;
}

function stampOf(cursor: Cursor, opts: HistoryOptions): number | undefined {
  const tag = cursor.tag;
  const interval = tag ? INTERVAL_S[tag.mode] : undefined;
  if (!tag || interval === undefined) return undefined;
  const cpmMinute = tag.mode === 2 || tag.mode === 5;
  const steps = opts.stamp === 'end-of-interval' || !cpmMinute ? cursor.n + 1 : cursor.n;
  return localToUtc(tag.local, 'UTC') + steps * interval * 1000;
}

/**
 * Decodes a history dump. Starts at the first timestamp tag and then appends the bytes before
 * it, continuing from the last tag (the ring buffer wrapped), as GeigerLog does. Malformed
 * escapes and samples without a usable tag become rejects; decoding goes on.
 */
export function decodeHistory(flash: Buffer, opts: HistoryOptions): HistoryResult {
  const result: HistoryResult = { samples: [], tags: [], notes: [], rejects: [] };
  const cursor: Cursor = { n: 0 };
  const first = findTag(flash, 0);
  let untagged = 0;

  const addSample = (offset: number, value: number, raw: Buffer) => {
    const wallAsUtc = stampOf(cursor, opts);
    const tag = cursor.tag;
    if (!tag) {
      untagged += 1;
      return;
    }
    if (wallAsUtc === undefined) {
      result.rejects.push(reject('RS_ERR_FRAME_RANGE', `sample at ${offset} under save mode ${tag.mode} (history off)`, raw));
      return;
    }
    const wall = new Date(wallAsUtc);
    const local: LocalDateTime = {
      year: wall.getUTCFullYear(),
      month: wall.getUTCMonth() + 1,
      day: wall.getUTCDate(),
      hour: wall.getUTCHours(),
      minute: wall.getUTCMinutes(),
      second: wall.getUTCSeconds(),
    };
    const cps = tag.mode === 1 || tag.mode === 4;
    result.samples.push({
      offset,
      ts: localToUtc(local, opts.timeZone),
      local: formatLocal(local),
      unit: cps ? 'cps' : 'cpm',
      value: cps ? value & 0x3fff : value,
      mode: tag.mode,
    });
    cursor.n += 1;
  };

  const segments: [number, number][] =
    first === -1
      ? [[0, flash.length]]
      : [
          [first, flash.length],
          [0, first],
        ];
  for (const [start, end] of segments) decodeSegment(flash, start, end, opts, cursor, result, addSample);
  if (untagged > 0) {
    result.rejects.push(reject('RS_ERR_FRAME_SYNTAX', `${untagged} samples before any timestamp tag dropped`));
  }
  return result;
}

function findTag(flash: Buffer, from: number): number {
  for (let i = flash.indexOf(0x55, from); i !== -1 && i + 2 < flash.length; i = flash.indexOf(0x55, i + 1)) {
    if (flash[i + 1] === 0xaa && flash[i + 2] === 0x00) return i;
  }
  return -1;
}

function decodeSegment(
  flash: Buffer,
  start: number,
  end: number,
  opts: HistoryOptions,
  cursor: Cursor,
  result: HistoryResult,
  addSample: (offset: number, value: number, raw: Buffer) => void,
): void {
  const noteCode = opts.swappedCodes ? 4 : 2;
  const u24Code = opts.swappedCodes ? 2 : 3;
  const u32Code = opts.swappedCodes ? 3 : 4;
  let erased = 0;
  let i = start;
  while (i < end) {
    const b = flash[i] ?? 0xff;
    if (b === 0xff) {
      erased += 1;
      i += 1;
      if (erased >= ERASED_RUN) return;
      continue;
    }
    erased = 0;
    if (b !== 0x55 || flash[i + 1] !== 0xaa || i + 1 >= end) {
      addSample(i, b, flash.subarray(i, i + 1));
      i += 1;
      continue;
    }
    const code = flash[i + 2];
    const need = (n: number) => {
      if (i + n <= end) return true;
      result.rejects.push(
        reject('RS_ERR_FRAME_TRUNCATED', `escape 55 AA ${code ?? '--'} at ${i} runs past the dump`, flash.subarray(i, end)),
      );
      i = end;
      return false;
    };
    if (code === 0) {
      if (!need(12)) return;
      const raw = flash.subarray(i, i + 12);
      const local: LocalDateTime = readLocalTime(flash, i + 3);
      const mode = flash[i + 11] ?? 0xff;
      if (flash[i + 9] !== 0x55 || flash[i + 10] !== 0xaa || !isValidLocal(local) || mode > 5) {
        result.rejects.push(reject('RS_ERR_FRAME_SYNTAX', `malformed timestamp tag at ${i}`, raw));
        cursor.tag = undefined;
      } else {
        cursor.tag = { local, mode };
        cursor.n = 0;
        result.tags.push({ offset: i, local: formatLocal(local), ts: localToUtc(local, opts.timeZone), mode });
      }
      i += 12;
    } else if (code === 1) {
      if (!need(5)) return;
      addSample(i, flash.readUInt16BE(i + 3), flash.subarray(i, i + 5));
      i += 5;
    } else if (code === u24Code) {
      if (!need(6)) return;
      addSample(i, flash.readUIntBE(i + 3, 3), flash.subarray(i, i + 6));
      i += 6;
    } else if (code === u32Code) {
      if (!need(7)) return;
      addSample(i, flash.readUInt32BE(i + 3), flash.subarray(i, i + 7));
      i += 7;
    } else if (code === noteCode) {
      if (!need(4)) return;
      const len = flash[i + 3] ?? 0;
      if (!need(4 + len)) return;
      result.notes.push({ offset: i, text: flash.toString('latin1', i + 4, i + 4 + len) });
      i += 4 + len;
    } else if (code === 5) {
      // Tube selection (500+). pygmc saw the tube byte missing, the next escape right after.
      i += flash[i + 3] === 0x55 && flash[i + 4] === 0xaa ? 3 : 4;
    } else {
      result.rejects.push(reject('RS_ERR_FRAME_UNKNOWN', `unknown escape 55 AA ${code} at ${i}`, flash.subarray(i, i + 3)));
      i += 3;
    }
  }
}

/**
 * History samples as readings stamped by the device clock: `cpm` or `cps` plus `dose_rate`
 * (µSv/h, CPS scaled ×60 before conversion) from `toDoseRate(cpm)`.
 */
export function historyToReadings(samples: readonly HistorySample[], toDoseRate: (cpm: number) => number): DecodedReading[] {
  return samples.map((s) => {
    const cpm = s.unit === 'cpm' ? s.value : s.value * 60;
    return { ts: s.ts, ts_source: 'device', values: { [s.unit]: s.value, dose_rate: toDoseRate(cpm) }, quality: 'good' };
  });
}
