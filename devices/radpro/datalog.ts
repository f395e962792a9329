import type { Reject } from '../../src/core/errors.ts';
import { reject } from '../../src/core/errors.ts';
import type { DecodedReading } from '../../src/core/reading.ts';
import { convert } from '../../src/core/units.ts';

/**
 * Rad Pro datalog download (docs/protocols.md §2.4): `OK time,tubePulseCount;;t,c;t,c;…` in one
 * line. An empty record (`;;`) starts a logging session. Counts are cumulative, so
 * cpm = Δcount × 60 / Δt, and the first record of a session has no rate (as radpro-tool).
 */

export interface RadproDatalogResult {
  readings: DecodedReading[];
  rejects: Reject[];
}

interface Previous {
  time: number;
  count: number;
}

/**
 * Decodes a whole `GET datalog` reply. The header names the columns; we find `time` and
 * `tubePulseCount` by name so a firmware that adds columns still decodes, and a record we
 * cannot read (unknown type, marker, garbage) is one RS_ERR_FRAME_UNKNOWN reject that also
 * breaks the rate chain: a rate across it would span an event we do not understand. Time or
 * count going backwards (clock set, count reset) is RS_ERR_FRAME_RANGE; that record then starts
 * a new chain without a rate.
 *
 * Readings: `ts` = record time (device clock), `pulse_count` counts; from the second record of
 * a session on, `cpm` CPM and, when `sensitivity` (CPM per µSv/h) is given, `dose_rate` µSv/h.
 */
export function decodeRadproDatalog(reply: string, sensitivity?: number): RadproDatalogResult {
  const readings: DecodedReading[] = [];
  const rejects: Reject[] = [];
  const raw = (text: string) => Buffer.from(text, 'latin1');
  if (!reply.startsWith('OK ')) {
    rejects.push(reject('RS_ERR_FRAME_SYNTAX', `datalog reply is not OK: ${JSON.stringify(reply.slice(0, 40))}`, raw(reply.slice(0, 64))));
    return { readings, rejects };
  }
  const [header = '', ...records] = reply.slice(3).split(';');
  const columns = header.split(',');
  const timeAt = columns.indexOf('time');
  const countAt = columns.indexOf('tubePulseCount');
  if (timeAt === -1 || countAt === -1) {
    rejects.push(reject('RS_ERR_FRAME_UNKNOWN', `datalog columns ${JSON.stringify(header)} lack time/tubePulseCount`, raw(header)));
    return { readings, rejects };
  }
  let previous: Previous | undefined;
  for (const record of records) {
    if (record === '') {
      previous = undefined; // session boundary
      continue;
    }
    const fields = record.split(',');
    const time = toUint(fields[timeAt]);
    const count = toUint(fields[countAt]);
    if (fields.length !== columns.length || time === undefined || count === undefined) {
      rejects.push(reject('RS_ERR_FRAME_UNKNOWN', `unreadable datalog record ${JSON.stringify(record.slice(0, 40))}`, raw(record)));
      previous = undefined;
      continue;
    }
    const values: DecodedReading['values'] = { pulse_count: count };
    if (previous !== undefined) {
      const dt = time - previous.time;
      const dc = count - previous.count;
      if (dt <= 0 || dc < 0) {
        // The record itself is fine; it just starts a new chain, like a session start.
        rejects.push(reject('RS_ERR_FRAME_RANGE', `datalog went backwards at ${record} (Δt ${dt} s, Δcount ${dc})`, raw(record)));
      } else {
        const cpm = (dc * 60) / dt;
        values.cpm = cpm;
        if (sensitivity !== undefined) values.dose_rate = convert.cpmToUSvh(cpm, sensitivity);
      }
    }
    readings.push({ ts: time * 1000, ts_source: 'device', values, quality: 'good' });
    previous = { time, count };
  }
  return { readings, rejects };
}

function toUint(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d{1,10}$/.test(text)) return undefined;
  const n = Number(text);
  return n <= 0xffff_ffff ? n : undefined;
}
