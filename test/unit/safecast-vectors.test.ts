import { describe, expect, it } from 'vitest';
import { decodeBgeigieLine } from '../../devices/safecast-bgeigie/decode.ts';
import { computeChecksum, parseBgeigieSentence, parseGpsTime, parseNmeaCoordinate } from '../../devices/safecast-bgeigie/parse.ts';

/** The real sentences of docs/protocols.md §3.7, with the values given there. */

function readingOf(line: string, opts = {}) {
  const r = decodeBgeigieLine(line, opts);
  if (!('readings' in r)) throw new Error(`expected a reading, got ${JSON.stringify(r)}`);
  expect(r.readings).toHaveLength(1);
  return r.readings[0] as NonNullable<(typeof r.readings)[0]>;
}

function rejectOf(line: string, opts = {}) {
  const r = decodeBgeigieLine(line, opts);
  if (!('reject' in r)) throw new Error(`expected a reject, got ${JSON.stringify(r)}`);
  return r.reject;
}

function sentenceOf(line: string) {
  const r = parseBgeigieSentence(line);
  if (!('sentence' in r)) throw new Error(`expected a sentence, got ${JSON.stringify(r)}`);
  return r.sentence;
}

describe('bGeigie §3.7 vectors', () => {
  it('204-0920.LOG line 3: pre-2013 Nano, first minute V → invalid, unpadded longitude', () => {
    const line = '$BNRDD,204,2012-09-20T15:13:40Z,11,2,11,V,5218.7185,N,445.6503,E,4.80,A,132,6*64';
    const r = readingOf(line);
    expect(r.ts).toBe(1348154020_000);
    expect(r.ts_source).toBe('device');
    expect(r.quality).toBe('invalid');
    expect(r.values.cpm).toBe(11);
    expect(r.values.counts_5s).toBe(2);
    expect(r.values.total_counts).toBe(11);
    expect(r.values.latitude).toBeCloseTo(52.311975, 9);
    expect(r.values.longitude).toBeCloseTo(4.7608383, 7);
    expect(r.values.dose_rate).toBeCloseTo(0.0329341, 6);
    expect(r.values.gps_valid).toBe(true);
    const s = sentenceOf(line);
    expect(s.altitude).toBe(4.8);
    expect(s.hdop).toBeCloseTo(1.32, 10);
    expect(s.satellites).toBe(6);
  });

  it('line 11: first A reading', () => {
    const r = readingOf('$BNRDD,204,2012-09-20T15:14:21Z,25,1,28,A,5218.7197,N,445.6625,E,5.60,A,95,10*7D');
    expect(r.ts).toBe(1348154061_000);
    expect(r.quality).toBe('good');
    expect(r.values.dose_rate).toBeCloseTo(0.07485, 5);
    expect(r.values.latitude).toBeCloseTo(52.311995, 6);
    expect(r.values.longitude).toBeCloseTo(4.7610417, 7);
  });

  it('power-loss truncation is rejected as truncated', () => {
    expect(rejectOf('$BNRDD,204,2012-09-21T03:03:48Z,13,0').code).toBe('RS_ERR_FRAME_TRUNCATED');
  });

  it('bGeigie Mini in the western hemisphere', () => {
    const r = readingOf('$BMRDD,028,2011-12-08T18:15:26Z,5,0,5,V,4141.8847,N,07355.3663,W,29.1,V,0.0,0*7D');
    expect(r.ts).toBe(1323368126_000);
    expect(r.values.latitude).toBeCloseTo(41.698078333, 9);
    expect(r.values.longitude).toBeCloseTo(-73.922771667, 9);
    expect(r.values.cpm).toBe(5);
    expect(r.values.gps_valid).toBe(false);
    expect(r.quality).toBe('invalid');
  });

  it('hand-edited TinyGPS line: bad checksum; lenient decoding takes |lon| with the W sign', () => {
    const line = '$BMRDD,028,2011-12-08T18:17:01Z,34,4,69,A,4141.9017,N,-07355.3558,W,572.2,A,1.4,1*4D';
    const rej = rejectOf(line);
    expect(rej.code).toBe('RS_ERR_FRAME_CHECKSUM');
    expect(rej.message).toBe('checksum 4D given, 60 computed');
    const r = readingOf(line, { verifyChecksum: false });
    expect(r.values.latitude).toBeCloseTo(41.698361667, 9);
    expect(r.values.longitude).toBeCloseTo(-73.922596667, 9);
    expect(r.values.dose_rate).toBeCloseTo(0.1018, 4);
  });

  it('classic bGeigie, lower-case checksums elsewhere, GPS void', () => {
    const r = readingOf('$BGRDD,002,2011-07-05T13:53:37Z,41,4,77,A,3538.5284,N,13943.1506,E,93.0,V,16.0,0*43');
    expect(r.ts).toBe(1309874017_000);
    expect(r.values.latitude).toBeCloseTo(35.64214, 9);
    expect(r.values.longitude).toBeCloseTo(139.719176667, 9);
    expect(r.values.dose_rate).toBeCloseTo(0.1228, 4);
    expect(r.values.gps_valid).toBe(false);
    expect(r.quality).toBe('good');
    expect(readingOf('$BGRDD,002,2011-07-05T13:51:48Z,7,3,7,V,3538.5284,N,13943.1506,E,93.0,V,16.0,0*5c').values.cpm).toBe(7);
  });

  it('device-written negative longitude verifies and keeps the W sign; sensitivity is configurable', () => {
    const line = '$BNRDD,202,2012-07-23T01:49:07Z,33,4,34,A,4232.4106,N,-8312.4727,W,224.70,A,300,5*7A';
    const r = readingOf(line);
    expect(r.values.latitude).toBeCloseTo(42.540177, 6);
    expect(r.values.longitude).toBeCloseTo(-83.207878, 6);
    expect(r.values.dose_rate).toBeCloseTo(0.0988, 4);
    expect(readingOf(line, { sensitivity: 330 }).values.dose_rate).toBeCloseTo(0.1, 10);
  });

  it('bit flips that pass the checksum are caught by field validation', () => {
    const line = '$BNRDD,2709,2016-09-20T04:09:17Z,42,2,3423,A,5147.9350,N,00010>5185,U,84.10,A,10,83*79';
    const rej = rejectOf(line);
    expect(rej.code).toBe('RS_ERR_FRAME_SYNTAX');
    expect(rej.message).toBe('E/W hemisphere "U" is not valid');
    expect(rej.raw?.toString('latin1')).toBe(line);
    // Same flip with a legal hemisphere: the longitude itself is rejected.
    const lonOnly = '$BNRDD,2709,2016-09-20T04:09:17Z,42,2,3423,A,5147.9350,N,00010>5185,E,84.10,A,10,83';
    const body = lonOnly.slice(1);
    const cs = computeChecksum(body).toString(16).toUpperCase().padStart(2, '0');
    expect(rejectOf(`${lonOnly}*${cs}`).message).toBe('longitude "00010>5185" is not valid');
  });

  it('lower-case header with a bad checksum', () => {
    const rej = rejectOf('$BNRdD,2709,2016-09-20T04:09:22Z,45,5,3428,A,5148.0005,N,00010.5344,E,87.20,A,10,83*7E');
    expect(rej.code).toBe('RS_ERR_FRAME_CHECKSUM');
    expect(rej.message).toBe('checksum 7E given, 5E computed');
  });

  it('CzechRad $CZRA1', () => {
    const line = '$CZRA1,0159,2024-04-21T05:16:31Z,42,7,32804,A,5001.1094,N,01420.7866,E,384.69,A,5,193*1C';
    const r = readingOf(line);
    expect(r.ts).toBe(1713676591_000);
    expect(r.values.latitude).toBeCloseTo(50.01849, 9);
    expect(r.values.longitude).toBeCloseTo(14.3464433, 7);
    expect(r.values.dose_rate).toBeCloseTo(0.1257, 4);
    expect(readingOf(line, { sensitivity: 328.5 }).values.dose_rate).toBeCloseTo(0.1279, 4);
    const s = sentenceOf(line);
    expect(s.satellites).toBe(5);
    expect(s.hdop).toBeCloseTo(1.93, 10);
  });

  it('bGeigie Mini, Tokyo', () => {
    const r = readingOf('$BMRDD,101,2012-05-30T03:32:53Z,36,4,39,A,3544.7615,N,13955.0707,E,9.6,A,3.1,1*54');
    expect(r.values.latitude).toBeCloseTo(35.746025, 9);
    expect(r.values.longitude).toBeCloseTo(139.917845, 9);
    expect(r.values.dose_rate).toBeCloseTo(0.1078, 4);
    const s = sentenceOf('$BMRDD,101,2012-05-30T03:32:53Z,36,4,39,A,3544.7615,N,13955.0707,E,9.6,A,3.1,1*54');
    expect(s.hdop).toBe(3.1);
    expect(s.fixQuality).toBe(1);
  });
});

describe('bGeigie field rules', () => {
  const withChecksum = (body: string) => `$${body}*${computeChecksum(body).toString(16).toUpperCase().padStart(2, '0')}`;

  it('the 2013+ Nano order puts satellites first', () => {
    const s = sentenceOf('$BNRDD,2709,2016-09-20T04:09:07Z,49,3,3419,A,5147.8081,N,00010.4778,E,79.20,A,10,83*71');
    expect(s.satellites).toBe(10);
    expect(s.hdop).toBeCloseTo(0.83, 10);
  });

  it('$BNXRDD carries 16 fields', () => {
    const s = sentenceOf(withChecksum('BNXRDD,300,2014-03-01T10:00:00Z,35,3,900,A,3538.5284,N,13943.1506,E,40.5,A,9,1.1,1'));
    expect([s.header, s.satellites, s.hdop, s.fixQuality, s.cpm]).toEqual(['BNXRDD', 9, 1.1, 1, 35]);
  });

  it('rejects placeholder dates, unknown sentences, trailing garbage; ignores comments and NX status', () => {
    const noGps = withChecksum('BNRDD,2108,2012-00-00T00:00:12Z,0,0,0,V,0000.0000,N,00000.0000,E,0.00,V,0,0');
    expect(rejectOf(noGps).message).toBe('GPS time "2012-00-00T00:00:12Z" is not valid');
    expect(rejectOf(withChecksum('GPRMC,1,2,3')).code).toBe('RS_ERR_FRAME_UNKNOWN');
    expect(rejectOf('$BNRDD,2709,2016-09-20T04:09:27Z,47,5,3433,A,5148.0669,N,00010.5485,E,90.30,A,9,89*40-').code).toBe(
      'RS_ERR_FRAME_SYNTAX',
    );
    expect(decodeBgeigieLine('# NEW LOG')).toEqual({ ignored: '# NEW LOG' });
    expect(decodeBgeigieLine(withChecksum('BNXSTS,300,2014-03-01T10:00:00Z'))).toHaveProperty('ignored');
  });

  it('parses coordinates and times as text, not by column', () => {
    expect(parseNmeaCoordinate('445.6503', 'E', 180)).toBeCloseTo(4.760838333, 9);
    expect(parseNmeaCoordinate('0445.6503', 'W', 180)).toBeCloseTo(-4.760838333, 9);
    expect(parseNmeaCoordinate('5261.0000', 'N', 90)).toBeUndefined(); // 61 minutes
    expect(parseNmeaCoordinate('9100.0000', 'N', 90)).toBeUndefined();
    expect(parseGpsTime('2013-02-29T00:00:00Z')).toBeUndefined();
    expect(parseGpsTime('2016-02-29T23:59:59Z')).toBe(Date.UTC(2016, 1, 29, 23, 59, 59));
  });

  it('dead-time header state shows up on the reading', () => {
    const line = '$BNRDD,2709,2016-09-20T04:09:07Z,49,3,3419,A,5147.8081,N,00010.4778,E,79.20,A,10,83*71';
    expect(readingOf(line, { deadTime: true }).values.dead_time_compensated).toBe(true);
    expect(readingOf(line).values).not.toHaveProperty('dead_time_compensated');
  });
});
