import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeHistory, historyToReadings, linearCurve } from '../../devices/gq-gmc/decode.ts';

const fixtures = new URL('../../devices/gq-gmc/fixtures/', import.meta.url);
const flight = readFileSync(new URL('flight.bin', fixtures));
const his = readFileSync(new URL('flight.his', fixtures), 'latin1');

/** flight.his data lines: `  12, 2017-01-11 20:41:47,     13,       ` = byte index, device time, CPM. */
const expected = his
  .split('\n')
  .filter((l) => l.trim() !== '' && !l.startsWith('#'))
  .map((l) => {
    const [offset, local, cpm] = l.split(',').map((f) => f.trim());
    return { offset: Number(offset), local, value: Number(cpm) };
  });

/** Tag comment lines: `#   71, 2017-01-11 21:41:53, Date&Time Stamp; …`. */
const expectedTags = his
  .split('\n')
  .filter((l) => l.includes('Date&Time Stamp'))
  .map((l) => {
    const [offset, local] = l
      .slice(1)
      .split(',')
      .map((f) => f.trim());
    return { offset: Number(offset), local };
  });

describe('GQ GMC history flash (SPIR) against GeigerLog', () => {
  const result = decodeHistory(flight, { timeZone: 'UTC' });

  it('decodes every sample of flight.bin exactly as flight.his lists it', () => {
    expect(expected).toHaveLength(806);
    expect(result.samples).toHaveLength(806);
    expect(result.samples.map((s) => ({ offset: s.offset, local: s.local, value: s.value }))).toEqual(expected);
    expect(result.rejects).toEqual([]);
  });

  it('finds the 14 timestamp tags at GeigerLog offsets, all in save mode 2 (CPM per minute)', () => {
    expect(result.tags.map((t) => ({ offset: t.offset, local: t.local }))).toEqual(expectedTags);
    expect(result.tags).toHaveLength(14);
    expect(new Set(result.tags.map((t) => t.mode))).toEqual(new Set([2]));
  });

  it('stamps the first sample at its tag time and the peak at 22:00:53 device time', () => {
    expect(result.samples[0]).toMatchObject({
      offset: 12,
      local: '2017-01-11 20:41:47',
      ts: Date.UTC(2017, 0, 11, 20, 41, 47),
      unit: 'cpm',
      value: 13,
    });
    const peak = result.samples.reduce((a, b) => (b.value > a.value ? b : a));
    expect(peak).toMatchObject({ offset: 102, value: 249, local: '2017-01-11 22:00:53' });
    expect(result.samples.at(-1)).toMatchObject({ offset: 973, value: 9, local: '2017-01-12 10:08:36' });
  });

  it('applies the configured device zone: Europe/Berlin wall time is one hour ahead of UTC in January', () => {
    const berlin = decodeHistory(flight, { timeZone: 'Europe/Berlin' });
    expect(berlin.samples[0]?.ts).toBe(Date.UTC(2017, 0, 11, 19, 41, 47));
    expect(berlin.samples[0]?.local).toBe('2017-01-11 20:41:47');
  });

  it('offers the end-of-interval convention: every sample one minute later', () => {
    const late = decodeHistory(flight, { timeZone: 'UTC', stamp: 'end-of-interval' });
    expect(late.samples[0]?.local).toBe('2017-01-11 20:42:47');
    expect(late.samples).toHaveLength(806);
  });

  it('turns samples into device-stamped readings with dose rate', () => {
    const readings = historyToReadings(result.samples.slice(0, 1), linearCurve(1 / 0.0065).toDoseRate);
    expect(readings[0]?.ts_source).toBe('device');
    expect(readings[0]?.values.cpm).toBe(13);
    expect(readings[0]?.values.dose_rate).toBeCloseTo(0.0845, 10);
  });
});

describe('GQ GMC history escapes', () => {
  const tag = (mode: number) => [0x55, 0xaa, 0x00, 0x18, 0x01, 0x08, 0x11, 0x36, 0x39, 0x55, 0xaa, mode];

  it('decodes CPS mode samples, u16 (masked), u24, u32, notes and tube selection', () => {
    const bytes = Buffer.from([
      ...tag(1),
      0x05,
      0x55,
      0xaa,
      0x01,
      0x80,
      0x1c, // u16 with a reserved bit: 28 CPS
      0x55,
      0xaa,
      0x02,
      0x02,
      0x48,
      0x69, // note "Hi"
      0x55,
      0xaa,
      0x05,
      0x01, // tube 1
      0x55,
      0xaa,
      0x03,
      0x00,
      0x01,
      0x00, // u24 = 256, masked as CPS → 256
      0x55,
      0x07, // 0x55 not followed by 0xAA: an ordinary sample of 85
    ]);
    const r = decodeHistory(bytes, { timeZone: 'UTC' });
    expect(r.samples.map((s) => [s.value, s.local])).toEqual([
      [5, '2024-01-08 17:54:58'],
      [28, '2024-01-08 17:54:59'],
      [256, '2024-01-08 17:55:00'],
      [85, '2024-01-08 17:55:01'],
      [7, '2024-01-08 17:55:02'],
    ]);
    expect(r.notes).toEqual([{ offset: 18, text: 'Hi' }]);
    expect(r.rejects).toEqual([]);
  });

  it('stops at unwritten flash, rejects untagged samples and truncated tags', () => {
    const erased = Buffer.concat([Buffer.from([...tag(2), 10, 11]), Buffer.alloc(120, 0xff), Buffer.from([99])]);
    expect(decodeHistory(erased, { timeZone: 'UTC' }).samples.map((s) => s.value)).toEqual([10, 11]);
    const untagged = decodeHistory(Buffer.from([1, 2, 3]), { timeZone: 'UTC' });
    expect(untagged.samples).toEqual([]);
    expect(untagged.rejects.map((r) => r.code)).toEqual(['RS_ERR_FRAME_SYNTAX']);
    const cut = decodeHistory(Buffer.from(tag(2).slice(0, 8)), { timeZone: 'UTC' });
    expect(cut.rejects.map((r) => r.code)).toEqual(['RS_ERR_FRAME_TRUNCATED']);
  });

  it('appends the bytes before the first tag after the rest, continuing the last tag (wrapped ring)', () => {
    const bytes = Buffer.from([7, 8, ...tag(2), 1, 2]);
    const r = decodeHistory(bytes, { timeZone: 'UTC' });
    expect(r.samples.map((s) => [s.offset, s.value, s.local])).toEqual([
      [14, 1, '2024-01-08 17:54:57'],
      [15, 2, '2024-01-08 17:55:57'],
      [0, 7, '2024-01-08 17:56:57'],
      [1, 8, '2024-01-08 17:57:57'],
    ]);
  });
});
