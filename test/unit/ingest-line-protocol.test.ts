import { describe, expect, it } from 'vitest';
import type { Reading } from '../../src/core/reading.ts';
import { measurementFor, toLineProtocol, toLines } from '../../src/ingest/line-protocol.ts';

const base: Reading = {
  station: 'st-1',
  device: 'geiger.01',
  profile: 'mightyohm-geiger',
  kind: 'dosimeter',
  ts: 1_795_000_000_123,
  ts_source: 'agent',
  values: { dose_rate: 0.12, cpm: 21 },
  quality: 'good',
  source: 'live',
};

describe('toLineProtocol', () => {
  it('writes sorted tags, float numbers, quoted meta fields and an integer µs timestamp (ts * 1000 + seq)', () => {
    expect(toLineProtocol(base)).toBe(
      'radiation,device=geiger.01,profile=mightyohm-geiger,source=live,station=st-1 cpm=21,dose_rate=0.12,quality="good",ts_source="agent" 1795000000123000',
    );
    expect(toLineProtocol({ ...base, seq: 7 })).toMatch(/ 1795000000123007$/);
    expect(toLineProtocol({ ...base, seq: 999 })).toMatch(/ 1795000000123999$/);
  });

  it('gives two readings of one device in the same ms different point identities, and one reading the same twice', () => {
    const stamp = (line: string) => line.slice(line.lastIndexOf(' ') + 1);
    expect(stamp(toLineProtocol({ ...base, seq: 0 }))).not.toBe(stamp(toLineProtocol({ ...base, seq: 1 })));
    expect(toLineProtocol({ ...base, seq: 1 })).toBe(toLineProtocol(structuredClone({ ...base, seq: 1 })));
  });

  it('writes booleans bare and strings quoted with " and \\ escaped', () => {
    const line = toLineProtocol({ ...base, values: { door_open: true, mode: 'say "hi" \\ now', ok: false } });
    expect(line).toContain(' door_open=true,mode="say \\"hi\\" \\\\ now",ok=false,quality="good"');
  });

  it('never adds an integer suffix, so 3 and 3.5 are the same field type', () => {
    expect(toLineProtocol({ ...base, values: { cpm: 3 } })).toMatch(/ cpm=3,/);
    expect(toLineProtocol({ ...base, values: { cpm: 3.5 } })).toMatch(/ cpm=3.5,/);
    expect(toLineProtocol({ ...base, values: { x: 1e-7, y: -0 } })).toMatch(/ x=1e-7,y=0,/);
  });

  it('escapes commas, equals signs and spaces in tag values and field keys', () => {
    // Ids from the schema cannot hold these; a reading built in code still must not break the line.
    const odd = { ...base, station: 'a b,c=d', values: { 'k,e y': 1 } } as unknown as Reading;
    expect(toLineProtocol(odd)).toBe(
      'radiation,device=geiger.01,profile=mightyohm-geiger,source=live,station=a\\ b\\,c\\=d k\\,e\\ y=1,quality="good",ts_source="agent" 1795000000123000',
    );
  });

  it('adds calibration_id when present and lets meta fields shadow a channel of the same name', () => {
    const line = toLineProtocol({ ...base, values: { quality: 5, cpm: 1 }, calibration_id: 'cal-7' });
    expect(line).toContain(' cpm=1,quality="good",ts_source="agent",calibration_id="cal-7" ');
    expect(line.match(/quality=/g)).toHaveLength(1);
  });

  it('gives identical lines for identical readings, whatever the key order of values', () => {
    const a = toLineProtocol({ ...base, values: { cpm: 21, dose_rate: 0.12 } });
    const b = toLineProtocol(structuredClone({ ...base, values: { dose_rate: 0.12, cpm: 21 } }));
    expect(a).toBe(b);
    expect(toLines([base, base])).toEqual([a, a]);
  });
});

describe('measurementFor', () => {
  it('uses the catalogued profile, else xray for scanners and radiation for the rest', () => {
    expect(measurementFor({ profile: 'mightyohm-geiger', kind: 'xray_scanner' })).toBe('radiation');
    expect(measurementFor({ profile: 'acme-unknown', kind: 'xray_scanner' })).toBe('xray');
    expect(measurementFor({ profile: 'acme-unknown', kind: 'survey_meter' })).toBe('radiation');
  });
});
