import { describe, expect, it } from 'vitest';
import { catalogue, profiles } from '../../devices/index.ts';
import type { ChannelSpec } from '../../src/core/channel.ts';
import { parseReadingsEnvelope } from '../../src/core/contract.ts';
import { normaliseReading } from '../../src/core/normalise.ts';
import type { Reading } from '../../src/core/reading.ts';
import {
  checkReadingContract,
  MAX_READINGS_PAYLOAD_BYTES,
  MAX_READINGS_PER_MESSAGE,
  MAX_VALUES_PER_READING,
} from '../../src/core/reading-contract.ts';
import { DEFAULT_TIMESTAMP_WINDOW } from '../../src/core/time-window.ts';
import { createAdmission } from '../../src/ingest/admission.ts';

const NOW = Date.UTC(2026, 11, 2, 12);
const channels: ChannelSpec[] = [
  { key: 'cpm', unit: 'CPM', label: 'counts', min: 0 },
  { key: 'alarm', unit: 'bool', label: 'alarm', type: 'boolean' },
  { key: 'mode', unit: 'enum', label: 'mode', type: 'enum', values: ['SLOW', 'FAST'] },
] as ChannelSpec[];
const time = { now: NOW, window: DEFAULT_TIMESTAMP_WINDOW };
const check = (values: Record<string, unknown>, ts = NOW) =>
  checkReadingContract({ ts, profile: 'p', values: values as Reading['values'] }, channels, time)?.code;

describe('checkReadingContract', () => {
  it('accepts declared channels of the right type inside range and window', () => {
    expect(check({ cpm: 0, alarm: false, mode: 'FAST' })).toBeUndefined();
  });
  it('refuses an undeclared channel, a wrong type, an out-of-range number or enum word', () => {
    expect(check({ cpm: 1, evil: 1 })).toBe('RS_ERR_CHANNEL_UNKNOWN');
    expect(check({ cpm: '5' })).toBe('RS_ERR_CHANNEL_TYPE');
    expect(check({ alarm: 1 })).toBe('RS_ERR_CHANNEL_TYPE');
    expect(check({ mode: true })).toBe('RS_ERR_CHANNEL_TYPE');
    expect(check({ cpm: -5 })).toBe('RS_ERR_FRAME_RANGE');
    expect(check({ mode: 'TURBO' })).toBe('RS_ERR_FRAME_RANGE');
  });
  it('refuses timestamps outside the window, only when a clock is given', () => {
    expect(check({ cpm: 1 }, Date.UTC(2100, 0, 1))).toBe('RS_ERR_TS_FUTURE');
    expect(check({ cpm: 1 }, NOW - 31 * 86_400_000)).toBe('RS_ERR_TS_PAST');
    expect(checkReadingContract({ ts: Date.UTC(2100, 0, 1), profile: 'p', values: { cpm: 1 } }, channels)).toBeUndefined();
  });
});

describe('catalogue: a field type can never be poisoned through the catalogue itself', () => {
  it('gives every channel key one type across each measurement', () => {
    const types = new Map<string, string>();
    for (const p of profiles)
      for (const c of p.channels) {
        const key = `${p.measurement}.${c.key}`;
        const type = c.type ?? 'number';
        // boolean → influx boolean; number → float; enum → string
        expect({ key, type: types.get(key) ?? type }).toEqual({ key, type });
        types.set(key, type);
      }
  });
});

describe('parseReadingsEnvelope: bounds before and after JSON.parse', () => {
  const one = {
    station: 's',
    device: 'd',
    profile: 'mightyohm-geiger',
    kind: 'dosimeter',
    ts: NOW,
    ts_source: 'agent',
    values: { cpm: 1 },
    quality: 'good',
    source: 'live',
  };
  it('refuses a payload above the byte bound without parsing it', () => {
    const big = Buffer.alloc(MAX_READINGS_PAYLOAD_BYTES + 1, 0x20);
    expect(parseReadingsEnvelope(big)).toMatchObject({ ok: false, code: 'RS_ERR_PAYLOAD_TOO_LARGE' });
  });
  it('refuses too many readings and too many values per reading', () => {
    const many = Buffer.from(JSON.stringify({ v: 1, readings: Array(MAX_READINGS_PER_MESSAGE + 1).fill(one) }));
    expect(parseReadingsEnvelope(many)).toMatchObject({ ok: false, code: 'RS_ERR_PAYLOAD_TOO_LARGE' });
    const values = Object.fromEntries(Array.from({ length: MAX_VALUES_PER_READING + 1 }, (_, i) => [`k${i}`, i]));
    const wide = Buffer.from(JSON.stringify({ v: 1, readings: [{ ...one, values }] }));
    expect(parseReadingsEnvelope(wide)).toMatchObject({ ok: false, code: 'RS_ERR_PAYLOAD_TOO_LARGE' });
    expect(parseReadingsEnvelope(Buffer.from(JSON.stringify({ v: 1, readings: Array(MAX_READINGS_PER_MESSAGE).fill(one) })))).toMatchObject(
      {
        ok: true,
      },
    );
  });
});

describe('admission rules (ingest)', () => {
  const admit = createAdmission({
    catalogue,
    known: { station: 'st', devices: [{ id: 'g1', profile: 'mightyohm-geiger' }] },
    now: () => NOW,
  });
  const r = (over: Record<string, unknown>) => ({
    station: 'st',
    device: 'g1',
    profile: 'mightyohm-geiger',
    kind: 'dosimeter',
    ts: NOW - 1000,
    ts_source: 'device',
    values: { cpm: 3 },
    quality: 'good',
    source: 'live',
    ...over,
  });
  const codeOf = (reading: Record<string, unknown>, topic = `radscreen/v1/${reading.station}/${reading.device}/readings`) => {
    const a = admit(topic, Buffer.from(JSON.stringify({ v: 1, readings: [reading] })));
    if (!a.ok) return a.code;
    return a.refused[0]?.code ?? 'accepted';
  };
  it('accepts configured devices, training-<id> devices of training runs, and replays of any device', () => {
    expect(codeOf(r({}))).toBe('accepted');
    expect(codeOf(r({ device: 'training-chute', source: 'training' }))).toBe('accepted');
    expect(codeOf(r({ device: 'old-meter', source: 'replay', ts: NOW - 400 * 86_400_000 }))).toBe('accepted');
  });
  it('refuses unknown devices, other stations, a training prefix outside training, a changed profile, a topic mismatch', () => {
    expect(codeOf(r({ device: 'phantom' }))).toBe('RS_ERR_DEVICE_UNKNOWN');
    expect(codeOf(r({ station: 'other' }))).toBe('RS_ERR_DEVICE_UNKNOWN');
    expect(codeOf(r({ device: 'training-chute', source: 'live' }))).toBe('RS_ERR_DEVICE_UNKNOWN');
    expect(codeOf(r({ profile: 'gq-gmc' }))).toBe('RS_ERR_DEVICE_MISMATCH');
    expect(codeOf(r({}), 'radscreen/v1/st/other-device/readings')).toBe('RS_ERR_DEVICE_MISMATCH');
    expect(codeOf(r({ profile: 'no-such-profile' }))).toBe('RS_ERR_UNKNOWN_PROFILE');
  });
  it('never lets a replay into the future', () => {
    expect(codeOf(r({ device: 'old-meter', source: 'replay', ts: NOW + 86_400_000 }))).toBe('RS_ERR_TS_FUTURE');
  });
});

describe('the agent applies the same contract (normalise stage)', () => {
  const profile = catalogue.get('mightyohm-geiger');
  if (!profile) throw new Error('mightyohm-geiger missing from the catalogue');
  const origin = { station: 'st', device: 'g1', source: 'live' as const, profile };
  const decoded = (values: Record<string, unknown>) =>
    ({ ts: NOW, ts_source: 'device', values, quality: 'good' }) as Parameters<typeof normaliseReading>[0];
  const codeOf = (values: Record<string, unknown>) => {
    const r = normaliseReading(decoded(values), origin);
    return 'reject' in r ? r.reject.code : 'accepted';
  };
  it('refuses a string on a number channel, an undeclared channel and an out-of-range value, like ingest', () => {
    expect(codeOf({ cpm: 5, dose_rate: 0.03 })).toBe('accepted');
    expect(codeOf({ cpm: 'x' })).toBe('RS_ERR_CHANNEL_TYPE');
    expect(codeOf({ cpm: 1, evil: 1 })).toBe('RS_ERR_CHANNEL_UNKNOWN');
    expect(codeOf({ cpm: -5 })).toBe('RS_ERR_FRAME_RANGE');
  });
});
