import { type Reject, reject } from '../../src/core/errors.ts';
import type { DecodedReading } from '../../src/core/reading.ts';

/**
 * DATA_BUF (virtual string 0x100) records, README.md §3: each is `u8 seq`, `u8 eid`, `u8 gid`,
 * `i32 LE ts` (10 ms units against a base the host may set), then a body whose size the (eid, gid)
 * pair fixes. The buffer holds what the device logged since the last read.
 */

/** Dose rate and dose are in the device's "R"-based unit: µSv/h = 10 000 × value (README.md §3). */
export const DEVICE_DOSE_TO_USV = 10_000;

/** Body sizes, bytes, of the fixed-size groups (eid 0); eid 1 groups carry a sample count. */
const FIXED_BODY: Readonly<Record<number, number>> = { 0: 15, 1: 8, 2: 16, 3: 14, 4: 16, 5: 16, 6: 6, 7: 4, 8: 6, 9: 6 };
/** eid 1 sample blocks: bytes per sample by gid, after `u16 n`, `u32 period ms`. */
const SAMPLE_BYTES: Readonly<Record<number, number>> = { 1: 8, 2: 16, 3: 14 };

export interface DataBufRecord {
  seq: number;
  eid: number;
  gid: number;
  /** Device time stamp, 10 ms units. */
  ts: number;
  body: Buffer;
}

/** Splits a DATA_BUF into records; stops at a sequence gap, an unknown group or a cut record. */
export function splitDataBuf(data: Buffer): { records: DataBufRecord[]; reject?: Reject } {
  const records: DataBufRecord[] = [];
  let at = 0;
  let expected: number | undefined;
  while (data.length - at >= 7) {
    const seq = data.readUInt8(at);
    const eid = data.readUInt8(at + 1);
    const gid = data.readUInt8(at + 2);
    const ts = data.readInt32LE(at + 3);
    if (expected !== undefined && seq !== expected)
      return {
        records,
        reject: reject('RS_ERR_FRAME_SYNTAX', `DATA_BUF: sequence jumps from ${expected} to ${seq}`, data.subarray(at, at + 32)),
      };
    let size: number | undefined;
    if (eid === 0) size = FIXED_BODY[gid];
    else if (eid === 1 && SAMPLE_BYTES[gid] !== undefined && data.length - at >= 13)
      size = 6 + data.readUInt16LE(at + 7) * (SAMPLE_BYTES[gid] as number);
    if (size === undefined)
      return {
        records,
        reject: reject('RS_ERR_FRAME_UNKNOWN', `DATA_BUF: unknown record group eid=${eid} gid=${gid}`, data.subarray(at, at + 32)),
      };
    if (data.length - at - 7 < size)
      return {
        records,
        reject: reject('RS_ERR_FRAME_TRUNCATED', `DATA_BUF: eid=${eid} gid=${gid} record cut short`, data.subarray(at, at + 32)),
      };
    records.push({ seq, eid, gid, ts, body: data.subarray(at + 7, at + 7 + size) });
    at += 7 + size;
    expected = (seq + 1) % 256;
  }
  if (at < data.length)
    return { records, reject: reject('RS_ERR_FRAME_TRUNCATED', `DATA_BUF: ${data.length - at} trailing bytes`, data.subarray(at)) };
  return { records };
}

/** Device-reported values must be finite and non-negative; NaN or −0.3 µSv/h is a broken record. */
const plausible = (...xs: number[]) => xs.every((x) => Number.isFinite(x) && x >= 0);
/** f32 values rounded to what an f32 holds (7 significant digits), so JSON shows 0.12, not 0.11999999731779099. */
const f32 = (x: number) => Number(x.toPrecision(7));

/**
 * Readings from one DATA_BUF read. RealTimeData (0,0) gives `cps` and `dose_rate`; RareData (0,3)
 * gives accumulated `dose`, `temperature` and `battery_level`. Other groups (history, events, raw samples)
 * are skipped. The agent does not set the device's time base (it writes nothing unasked), so the
 * newest record is stamped `receivedAt` and older ones keep their spacing before it.
 */
export function decodeDataBuf(data: Buffer, receivedAt: number): { readings: DecodedReading[]; rejects: Reject[] } {
  const { records, reject: cut } = splitDataBuf(data);
  const rejects: Reject[] = cut ? [cut] : [];
  const readings: DecodedReading[] = [];
  const newest = records.reduce((m, r) => Math.max(m, r.ts), Number.NEGATIVE_INFINITY);
  for (const r of records) {
    const ts = Math.round(receivedAt - (newest - r.ts) * 10);
    if (r.eid === 0 && r.gid === 0) {
      const countRate = r.body.readFloatLE(0);
      const doseRate = r.body.readFloatLE(4);
      if (!plausible(countRate, doseRate)) {
        rejects.push(reject('RS_ERR_FRAME_RANGE', `RealTimeData: count rate ${countRate}, dose rate ${doseRate}`, r.body));
        continue;
      }
      readings.push({
        ts,
        ts_source: 'agent',
        quality: 'good',
        values: { cps: f32(countRate), dose_rate: f32(doseRate * DEVICE_DOSE_TO_USV) },
      });
    } else if (r.eid === 0 && r.gid === 3) {
      const dose = r.body.readFloatLE(4);
      const temperature = (r.body.readUInt16LE(8) - 2000) / 100;
      const battery = r.body.readUInt16LE(10) / 100;
      if (!plausible(dose) || battery > 100) {
        rejects.push(reject('RS_ERR_FRAME_RANGE', `RareData: dose ${dose}, battery ${battery} %`, r.body));
        continue;
      }
      readings.push({
        ts,
        ts_source: 'agent',
        quality: 'good',
        values: { dose: f32(dose * DEVICE_DOSE_TO_USV), temperature, battery_level: battery },
      });
    }
  }
  return { readings, rejects };
}
