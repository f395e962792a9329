import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeBgeigieLog } from '../../devices/safecast-bgeigie/decode.ts';
import { safecastBgeigie } from '../../devices/safecast-bgeigie/profile.ts';
import type { Reject } from '../../src/core/errors.ts';
import { parseSessionOptions } from '../../src/core/profile.ts';
import type { DecodedReading } from '../../src/core/reading.ts';

const fixture = (name: string) => readFileSync(new URL(`../../devices/safecast-bgeigie/fixtures/${name}`, import.meta.url));

function fakeContext(options: Record<string, unknown> = {}) {
  const readings: DecodedReading[] = [];
  const rejects: Reject[] = [];
  const ctx: Parameters<typeof safecastBgeigie.createSession>[0] = {
    now: () => 0,
    write: async () => {},
    emit: (r) => readings.push(r),
    reject: (r) => rejects.push(r),
    options: parseSessionOptions(safecastBgeigie, options),
    log: { debug() {}, info() {}, warn() {} },
  };
  return { ctx, readings, rejects };
}

/** Feeds `bytes` in chunks whose sizes cycle through `sizes`, so lines split at odd places. */
function feedInChunks(bytes: Buffer, sizes: number[], push: (b: Buffer) => void): void {
  let i = 0;
  for (let k = 0; i < bytes.length; k += 1) {
    const n = sizes[k % sizes.length] as number;
    push(bytes.subarray(i, i + n));
    i += n;
  }
}

describe('bGeigie SD-card logs (golden, real captures)', () => {
  it('bgeigie.log: 23 readings as the Safecast API keeps, 11 of them first-minute V', () => {
    const { readings, rejects } = decodeBgeigieLog(fixture('bgeigie.log'));
    expect(readings).toHaveLength(23);
    expect(rejects).toEqual([]);
    expect(readings.filter((r) => r.quality === 'invalid')).toHaveLength(11);
    expect(readings.at(-1)?.ts).toBe(1309874017_000);
  });

  it('bgeigie_with_corruption.log: the 7 sane lines; fragment, bad checksum and power-loss line rejected', () => {
    const { readings, rejects } = decodeBgeigieLog(fixture('bgeigie_with_corruption.log'));
    expect(readings).toHaveLength(7);
    expect(readings.every((r) => r.quality === 'good')).toBe(true);
    // The embedded `$GPR` splits one line into a truncated $BMRDD and an unknown-checksum fragment.
    expect(rejects.map((r) => r.code)).toEqual(['RS_ERR_FRAME_TRUNCATED', 'RS_ERR_FRAME_CHECKSUM', 'RS_ERR_FRAME_TRUNCATED']);
    expect(readings.map((r) => r.values.cpm)).toEqual([33, 30, 34, 33, 31, 31, 28]);
    expect(readings[0]?.values.longitude).toBeCloseTo(-83.207878, 6);
  });

  it('malformed_bgeigie.log: 7 readings, 4 rejects; the fused line yields its intact second sentence', () => {
    const { readings, rejects } = decodeBgeigieLog(fixture('malformed_bgeigie.log'));
    expect(rejects.map((r) => r.code)).toEqual([
      'RS_ERR_FRAME_SYNTAX', // passes the XOR, `U` hemisphere
      'RS_ERR_FRAME_CHECKSUM', // $BNRdD
      'RS_ERR_FRAME_SYNTAX', // `*40-` trailing garbage
      'RS_ERR_FRAME_SYNTAX', // `*4B\r*` then a fused sentence
    ]);
    expect(readings.map((r) => new Date(r.ts).toISOString().slice(11, 19))).toEqual([
      '04:09:07',
      '04:09:12',
      '04:09:37',
      '04:09:42',
      '04:09:47',
      '04:09:52',
      '04:09:57',
    ]);
    // `# deadtime=on` in the header: the firmware already compensated the CPM.
    expect(readings.every((r) => r.values.dead_time_compensated === true)).toBe(true);
  });

  it('204-0920 Nano 2012 log (first 120 lines): 118 readings, V → A after the first minute', () => {
    const { readings, rejects } = decodeBgeigieLog(fixture('204-0920.head120.LOG'));
    expect(rejects).toEqual([]);
    expect(readings).toHaveLength(118);
    expect(readings.slice(0, 9).map((r) => r.quality)).toEqual([...Array(8).fill('invalid'), 'good']);
    expect(readings[0]?.values).not.toHaveProperty('dead_time_compensated');
  });

  it('bgeigie_nyc.log: 29 readings, all west', () => {
    const { readings, rejects } = decodeBgeigieLog(fixture('bgeigie_nyc.log'));
    expect(rejects).toEqual([]);
    expect(readings).toHaveLength(29);
    expect(readings.every((r) => (r.values.longitude as number) < -73.9)).toBe(true);
  });

  it('several # NEW LOG blocks: dead-time state resets per block, power-loss line in between', () => {
    const text = [
      '# NEW LOG',
      '# format=1.3.4nano',
      '# deadtime=on',
      '$BNRDD,2709,2016-09-20T04:09:07Z,49,3,3419,A,5147.8081,N,00010.4778,E,79.20,A,10,83*71\r',
      '$BNRDD,2709,2016-09-20T04:09:12Z,46,2,3421,A,5147.8714,N,0001',
      '# NEW LOG',
      '# format=1.3.4nano',
      '$BNRDD,2709,2016-09-20T04:09:42Z,46,2,3442,A,5148.2689,N,00010.5727,E,93.20,A,9,93*4D\r',
      '',
    ].join('\n');
    const { readings, rejects } = decodeBgeigieLog(text);
    expect(rejects.map((r) => r.code)).toEqual(['RS_ERR_FRAME_TRUNCATED']);
    expect(readings.map((r) => r.values.dead_time_compensated)).toEqual([true, undefined]);
  });
});

describe('bGeigie live session', () => {
  it.each([[[1]], [[7, 3, 64, 1]], [[90, 2]], [[4096]]])('gives the same results for chunk sizes %j', (sizes) => {
    const bytes = fixture('malformed_bgeigie.log');
    const { ctx, readings, rejects } = fakeContext();
    const session = safecastBgeigie.createSession(ctx);
    feedInChunks(bytes, sizes, (b) => session.push(b));
    session.stop();
    expect(readings).toHaveLength(7);
    expect(rejects.map((r) => r.code)).toEqual([
      'RS_ERR_FRAME_SYNTAX',
      'RS_ERR_FRAME_CHECKSUM',
      'RS_ERR_FRAME_SYNTAX',
      'RS_ERR_FRAME_SYNTAX',
    ]);
    expect(readings[2]?.ts).toBe(Date.UTC(2016, 8, 20, 4, 9, 37));
  });

  it('uses the configured sensitivity and keeps a partial last line buffered, not decoded', () => {
    const { ctx, readings, rejects } = fakeContext({ sensitivity: 330 });
    const session = safecastBgeigie.createSession(ctx);
    session.push(fixture('bgeigie_with_corruption.log'));
    expect(readings).toHaveLength(7);
    expect(readings[0]?.values.dose_rate).toBeCloseTo(0.1, 10);
    expect(rejects).toHaveLength(2); // the power-loss line never got its newline
    expect(safecastBgeigie.optionsSchema?.safeParse({ sensitivity: -1 }).success).toBe(false);
  });

  it('drops noise without a line end as oversize and recovers', () => {
    const { ctx, readings, rejects } = fakeContext();
    const session = safecastBgeigie.createSession(ctx);
    session.push(Buffer.alloc(600, 0x55));
    session.push(Buffer.from('\n$BGRDD,002,2011-07-05T13:53:37Z,41,4,77,A,3538.5284,N,13943.1506,E,93.0,V,16.0,0*43\r\n'));
    expect(rejects[0]?.code).toBe('RS_ERR_FRAME_OVERSIZE');
    expect(readings).toHaveLength(1);
  });
});
