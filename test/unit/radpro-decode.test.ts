import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeRadproDatalog } from '../../devices/radpro/datalog.ts';
import { composeRadproReading, parseRadproNumber, parseRadproReply, parseRadproUint32 } from '../../devices/radpro/decode.ts';

const fixtureUrl = (name: string) => new URL(`../../devices/radpro/fixtures/${name}`, import.meta.url);

interface ExpectedReading {
  ts: number;
  pulse_count: number;
  cpm?: number;
  dose_rate?: number;
}
const expected = JSON.parse(readFileSync(fixtureUrl('datalog.expected.json'), 'utf8')) as Record<
  string,
  { sensitivity: number; readings: ExpectedReading[]; rejects: string[] }
>;

describe('Rad Pro replies', () => {
  it('reads OK, OK <value>, ERROR and rejects anything else', () => {
    expect(parseRadproReply('OK 142.857')).toEqual({ ok: true, value: '142.857' });
    expect(parseRadproReply('OK')).toEqual({ ok: true, value: '' });
    expect(parseRadproReply('ERROR')).toEqual({ ok: false });
    const r = parseRadproReply('ok 1');
    expect('reject' in r && r.reject.code).toBe('RS_ERR_FRAME_SYNTAX');
  });

  it('parses fixed-decimal numbers and u32 strictly', () => {
    expect(parseRadproNumber('-5.0')).toBe(-5);
    expect(parseRadproNumber('0.0002420')).toBe(0.000242);
    expect(parseRadproNumber('1e3')).toBeUndefined();
    expect(parseRadproNumber('')).toBeUndefined();
    expect(parseRadproUint32('4294967295')).toBe(4294967295);
    expect(parseRadproUint32('4294967296')).toBeUndefined();
    expect(parseRadproUint32('-1')).toBeUndefined();
  });
});

describe('Rad Pro poll reading (§2.4 vector)', () => {
  it('OK 142.857 with sensitivity 153.8 → 142.857 CPM, 0.9288 µSv/h, device time', () => {
    const r = composeRadproReading(
      { tubeRate: 142.857, pulseCount: 1500, deviceTime: 1690000000, batteryVoltage: 1.421, sensitivity: 153.8 },
      5,
    );
    if (!('readings' in r)) throw new Error('expected a reading');
    expect(r.readings[0]).toEqual({
      ts: 1690000000_000,
      ts_source: 'device',
      quality: 'good',
      values: { cpm: 142.857, dose_rate: 142.857 / 153.8, pulse_count: 1500, battery_voltage: 1.421 },
    });
    expect(r.readings[0]?.values.dose_rate).toBeCloseTo(0.9288, 4);
  });

  it('falls back to agent time for an unset clock; no sensitivity → no dose rate', () => {
    const r = composeRadproReading({ tubeRate: 20, deviceTime: 1000 }, 1_700_000_000_123);
    if (!('readings' in r)) throw new Error('expected a reading');
    expect(r.readings[0]).toEqual({ ts: 1_700_000_000_123, ts_source: 'agent', quality: 'good', values: { cpm: 20 } });
  });

  it('rejects a negative rate', () => {
    const r = composeRadproReading({ tubeRate: -1 }, 0);
    expect('reject' in r && r.reject.code).toBe('RS_ERR_FRAME_RANGE');
  });
});

describe('Rad Pro datalog (golden)', () => {
  it.each(Object.keys(expected))('%s', (name) => {
    const want = expected[name] as (typeof expected)[string];
    const reply = readFileSync(fixtureUrl(name), 'latin1').replace(/\r\n$/, '');
    const { readings, rejects } = decodeRadproDatalog(reply, want.sensitivity);
    expect(rejects.map((r) => r.code)).toEqual(want.rejects);
    expect(readings).toHaveLength(want.readings.length);
    readings.forEach((r, i) => {
      const w = want.readings[i] as ExpectedReading;
      expect(r.ts).toBe(w.ts);
      expect(r.ts_source).toBe('device');
      expect(r.values.pulse_count).toBe(w.pulse_count);
      expect(r.values.cpm).toBe(w.cpm);
      if (w.dose_rate === undefined) expect(r.values).not.toHaveProperty('dose_rate');
      else expect(r.values.dose_rate).toBeCloseTo(w.dose_rate, 8);
    });
  });

  it('finds columns by name, tolerates extra columns, rejects a non-OK reply', () => {
    const { readings } = decodeRadproDatalog('OK tubePulseCount,time,extra;;10,1690000000,x;70,1690000060,y');
    expect(readings.map((r) => r.values)).toEqual([{ pulse_count: 10 }, { pulse_count: 70, cpm: 60 }]);
    expect(decodeRadproDatalog('ERROR').rejects.map((r) => r.code)).toEqual(['RS_ERR_FRAME_SYNTAX']);
    expect(decodeRadproDatalog('OK a,b;;1,2').rejects.map((r) => r.code)).toEqual(['RS_ERR_FRAME_UNKNOWN']);
  });

  it('handles an empty datalog', () => {
    expect(decodeRadproDatalog('OK time,tubePulseCount')).toEqual({ readings: [], rejects: [] });
  });
});
