import { describe, expect, it } from 'vitest';
import { catalogue } from '../../devices/index.ts';
import { calibrationKindFor, parseCalibrationMessage } from '../../src/agent/calibration.ts';
import type { CalibrationMessage } from '../../src/core/contract.ts';
import { applyCalibration, normaliseReading } from '../../src/core/normalise.ts';
import type { DeviceProfile } from '../../src/core/profile.ts';

const profile = (id: string) => catalogue.get(id) as DeviceProfile;
const cal = (kind: CalibrationMessage['kind'], factor: number): CalibrationMessage => ({
  v: 1,
  station: 's',
  device: 'd',
  calibration_id: 'cal-20250301-abcdef',
  kind,
  factor,
  calibrated_at: 0,
  due: '2026-03-01',
});

describe('calibration in the normalise stage', () => {
  it('gives GM profiles (with a default sensitivity) a sensitivity and the rest a correction', () => {
    expect(calibrationKindFor(profile('mightyohm-geiger'))).toBe('sensitivity');
    expect(calibrationKindFor(profile('gq-gmc'))).toBe('sensitivity');
    expect(calibrationKindFor(profile('radpro'))).toBe('correction');
    expect(calibrationKindFor(profile('xray-parcel-scanner'))).toBe('correction');
  });

  it('recomputes dose_rate = cpm / sensitivity and stamps the id', () => {
    const decoded = {
      ts: 1,
      ts_source: 'agent' as const,
      values: { cps: 2, cpm: 120, dose_rate: 0.68, mode: 'SLOW' },
      quality: 'good' as const,
    };
    const out = applyCalibration(decoded, cal('sensitivity', 150), profile('mightyohm-geiger'));
    expect(out.values).toEqual({ cps: 2, cpm: 120, dose_rate: 0.8, mode: 'SLOW' });
    expect(out.calibration_id).toBe('cal-20250301-abcdef');
    expect(decoded.values.dose_rate).toBe(0.68);
    const r = normaliseReading(decoded, {
      station: 's',
      device: 'd',
      source: 'live',
      profile: profile('mightyohm-geiger'),
      calibration: cal('sensitivity', 150),
    });
    expect(r).toMatchObject({ reading: { values: { dose_rate: 0.8 }, calibration_id: 'cal-20250301-abcdef' } });
  });

  it('multiplies every µSv/h channel by a correction factor, and nothing else', () => {
    const radpro = profile('radpro');
    const decoded = { ts: 1, ts_source: 'agent' as const, values: { cpm: 60, dose_rate: 0.5 }, quality: 'good' as const };
    expect(applyCalibration(decoded, cal('correction', 1.1), radpro).values).toEqual({ cpm: 60, dose_rate: 0.55 });
  });

  it('refuses a message of the wrong kind, device or shape', () => {
    const expected = { station: 's', device: 'd', profile: profile('mightyohm-geiger') };
    const parse = (m: unknown) => parseCalibrationMessage(Buffer.from(JSON.stringify(m)), expected);
    expect(parse(cal('sensitivity', 150)).ok).toBe(true);
    expect(parse(cal('correction', 1.1))).toMatchObject({ ok: false, reason: /takes a sensitivity/ });
    expect(parse({ ...cal('sensitivity', 150), device: 'other' })).toMatchObject({ ok: false, code: 'RS_ERR_PAYLOAD_INVALID' });
    expect(parse({ ...cal('sensitivity', 0) })).toMatchObject({ ok: false, code: 'RS_ERR_PAYLOAD_INVALID' });
    expect(parseCalibrationMessage(Buffer.from('{'), expected)).toMatchObject({ ok: false, code: 'RS_ERR_PAYLOAD_JSON' });
  });
});
