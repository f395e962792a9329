import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  buildDoseCurve,
  type Decoded,
  decodeCalibration,
  decodeCpm,
  decodeCps,
  decodeDateTime,
  decodeSerial,
  decodeVersion,
  decodeVoltage,
  linearCurve,
} from '../../devices/gq-gmc/decode.ts';
import { localToUtc } from '../../devices/gq-gmc/decode-clock.ts';
import { describeModel, type Series } from '../../devices/gq-gmc/models.ts';

interface ReplyFixture {
  device: string;
  series: Series;
  model: string;
  command: string;
  reply_hex: string;
  expect: Record<string, unknown>;
}
interface CalibrationFixture {
  device: string;
  cfg_bytes: 256 | 512;
  points: [number, number][];
  cpm: number;
  expect_dose_rate: number;
}
const golden = JSON.parse(readFileSync(new URL('../../devices/gq-gmc/fixtures/replies.json', import.meta.url), 'utf8')) as {
  time_zone: string;
  replies: ReplyFixture[];
  calibration: CalibrationFixture[];
};

function value<T>(d: Decoded<T>): T {
  if (!d.ok) throw new Error(`${d.reject.code}: ${d.reject.message}`);
  return d.value;
}

describe('GQ GMC reply decoders against the golden replies (docs/protocols.md §1.10)', () => {
  for (const f of golden.replies) {
    it(`${f.device}: ${f.command} ${f.reply_hex}`, () => {
      const model = describeModel(f.series, f.model);
      const reply = Buffer.from(f.reply_hex, 'hex');
      const e = f.expect;
      if (f.command === '<GETVER>>') expect(value(decodeVersion(reply))).toEqual(e.version);
      if (f.command === '<GETCPM>>') {
        const cpm = value(decodeCpm(reply, model));
        expect(cpm).toBe(e.cpm);
        // The model's factory sensitivity (§1.8) turns it into the document's dose rate.
        if (e.dose_rate !== undefined) expect(linearCurve(model.defaultSensitivity).toDoseRate(cpm)).toBeCloseTo(e.dose_rate as number, 4);
      }
      if (f.command === '<GETCPS>>' || f.command === '<HEARTBEAT1>>') expect(value(decodeCps(reply, model))).toBe(e.cps);
      if (f.command === '<GETVOLT>>') expect(value(decodeVoltage(reply, model))).toBe(e.battery_voltage);
      if (f.command === '<GETSERIAL>>') expect(value(decodeSerial(reply))).toBe(e.serial);
      if (f.command === '<GETDATETIME>>') expect(value(decodeDateTime(reply, golden.time_zone))).toEqual({ ts: e.ts, local: e.local });
    });
  }
});

describe('GQ GMC number rules', () => {
  const m300 = describeModel('300');
  const m500 = describeModel('500');

  it('masks 300-series CPS to 14 bits but never CPM, and never masks 500-series counts', () => {
    expect(value(decodeCps(Buffer.from([0x80, 0x1c]), m300))).toBe(28);
    expect(value(decodeCps(Buffer.from([0x40, 0x01]), m300))).toBe(1);
    expect(value(decodeCps(Buffer.from([0x3f, 0xff]), m300))).toBe(16383);
    expect(value(decodeCpm(Buffer.from([0xff, 0xff]), m300))).toBe(65535);
    expect(value(decodeCps(Buffer.from([0x00, 0x00, 0x80, 0x1c]), m500))).toBe(0x801c);
    expect(value(decodeCpm(Buffer.from([0xff, 0xff, 0xff, 0xff]), m500))).toBe(4294967295);
  });

  it('rejects replies of the wrong width with typed codes', () => {
    const short = decodeCpm(Buffer.from([0x01]), m300);
    expect(short.ok ? undefined : short.reject.code).toBe('RS_ERR_FRAME_TRUNCATED');
    const long = decodeCpm(Buffer.from([0, 0, 1]), m300);
    expect(long.ok ? undefined : long.reject.code).toBe('RS_ERR_FRAME_SYNTAX');
  });

  it('reads both voltage formats and refuses text that is not one', () => {
    expect(value(decodeVoltage(Buffer.from([0x62]), m300))).toBe(9.8);
    expect(value(decodeVoltage(Buffer.from('3.97v', 'latin1'), m500))).toBe(3.97);
    const bad = decodeVoltage(Buffer.from('abcde', 'latin1'), m500);
    expect(bad.ok ? undefined : bad.reject.code).toBe('RS_ERR_FRAME_SYNTAX');
  });

  it('rejects an unset RTC and a reply without the 0xAA trailer', () => {
    const unset = decodeDateTime(Buffer.from('000000000000aa', 'hex'), 'UTC');
    expect(unset.ok ? undefined : unset.reject.code).toBe('RS_ERR_FRAME_RANGE');
    const noTrailer = decodeDateTime(Buffer.from('170b0a0c0f0500', 'hex'), 'UTC');
    expect(noTrailer.ok ? undefined : noTrailer.reject.code).toBe('RS_ERR_FRAME_SYNTAX');
  });

  it('converts device-local clocks with the configured zone, DST included', () => {
    const reply = Buffer.from('170b0a0c0f05aa', 'hex'); // 2023-11-10 12:15:05 local
    expect(value(decodeDateTime(reply, 'America/New_York')).ts).toBe(Date.UTC(2023, 10, 10, 17, 15, 5));
    expect(value(decodeDateTime(reply, 'Asia/Kolkata')).ts).toBe(Date.UTC(2023, 10, 10, 6, 45, 5));
    const summer = { year: 2024, month: 7, day: 1, hour: 12, minute: 0, second: 0 };
    expect(localToUtc(summer, 'Europe/Berlin')).toBe(Date.UTC(2024, 6, 1, 10, 0, 0));
    // 02:30 does not exist on 2024-03-31 in Berlin: it moves forward to 03:30 CEST.
    expect(localToUtc({ ...summer, month: 3, day: 31, hour: 2, minute: 30 }, 'Europe/Berlin')).toBe(Date.UTC(2024, 2, 31, 1, 30));
    // 02:30 happens twice on 2024-10-27: the first (CEST) occurrence wins.
    expect(localToUtc({ ...summer, month: 10, day: 27, hour: 2, minute: 30 }, 'Europe/Berlin')).toBe(Date.UTC(2024, 9, 27, 0, 30));
  });

  it('rejects version strings that are not GQ ones, and unknown models', () => {
    const junk = decodeVersion(Buffer.from('hello', 'latin1'));
    expect(junk.ok ? undefined : junk.reject.code).toBe('RS_ERR_FRAME_SYNTAX');
    const unknown = decodeVersion(Buffer.from('GMC-999Re 1.00', 'latin1'));
    expect(unknown.ok ? undefined : unknown.reject.code).toBe('RS_ERR_FRAME_UNKNOWN');
    expect(value(decodeVersion(Buffer.from('GMC-800Re RADP', 'latin1')))).toEqual({ model: 'GMC-800', firmware: 'RADP', series: '800' });
  });

  it('refines the model from GETVER: 300S tube, 510 one-byte voltage', () => {
    expect(describeModel('300', 'GMC-300S').defaultSensitivity).toBe(161.5);
    expect(describeModel('320', 'GMC-320').defaultSensitivity).toBeCloseTo(153.846, 3);
    expect(describeModel('500', 'GMC-510').voltage).toBe('byte');
    expect(describeModel('800').voltage).toBe('none');
  });
});

describe('GQ GMC calibration from GETCFG', () => {
  for (const f of golden.calibration) {
    it(`${f.device}: ${f.cpm} CPM → ${f.expect_dose_rate} µSv/h`, () => {
      const cfg = Buffer.alloc(f.cfg_bytes, 0xff);
      f.points.forEach(([cpm, usvh], i) => {
        cfg.writeUInt16BE(cpm, 8 + i * 6);
        if (f.cfg_bytes === 256) cfg.writeFloatLE(usvh, 10 + i * 6);
        else cfg.writeFloatBE(usvh, 10 + i * 6);
      });
      const points = value(decodeCalibration(cfg, { cfgBytes: f.cfg_bytes }));
      expect(points.map((p) => p.cpm)).toEqual(f.points.map((p) => p[0]));
      const curve = buildDoseCurve(points);
      expect(curve?.toDoseRate(f.cpm)).toBeCloseTo(f.expect_dose_rate, 5);
    });
  }

  it('interpolates between points and extrapolates the last segment', () => {
    const curve = buildDoseCurve([
      { cpm: 100, usvh: 1 },
      { cpm: 200, usvh: 3 },
    ]);
    expect(curve?.toDoseRate(50)).toBeCloseTo(0.5, 10);
    expect(curve?.toDoseRate(150)).toBeCloseTo(2, 10);
    expect(curve?.toDoseRate(300)).toBeCloseTo(5, 10);
    expect(curve?.sensitivity).toBe(100);
  });

  it('treats an erased block as "no calibration" and refuses absurd points', () => {
    expect(value(decodeCalibration(Buffer.alloc(256, 0xff), { cfgBytes: 256 }))).toEqual([]);
    expect(buildDoseCurve([])).toBeUndefined();
    expect(buildDoseCurve([{ cpm: 1, usvh: 1000 }])).toBeUndefined();
    const short = decodeCalibration(Buffer.alloc(100), { cfgBytes: 256 });
    expect(short.ok ? undefined : short.reject.code).toBe('RS_ERR_FRAME_TRUNCATED');
  });
});
