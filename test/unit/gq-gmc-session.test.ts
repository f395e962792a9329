import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { gqGmc } from '../../devices/gq-gmc/profile.ts';
import type { Reject } from '../../src/core/errors.ts';
import { type DeviceSession, parseSessionOptions } from '../../src/core/profile.ts';
import type { DecodedReading } from '../../src/core/reading.ts';

/** GETCFG of a GMC-320 (real config: 60 = 0.39, 240 = 1.56, 1000 = 6.5 µSv/h; floats little-endian). */
function cfg320(
  points: [number, number][] = [
    [60, 0.39],
    [240, 1.56],
    [1000, 6.5],
  ],
): Buffer {
  const cfg = Buffer.alloc(256, 0xff);
  points.forEach(([cpm, usvh], i) => {
    cfg.writeUInt16BE(cpm, 8 + i * 6);
    cfg.writeFloatLE(usvh, 10 + i * 6);
  });
  return cfg;
}

const REPLIES_320: Record<string, Buffer> = {
  '<GETVER>>': Buffer.from('GMC-320Re 4.26', 'latin1'),
  '<GETSERIAL>>': Buffer.from('f48800671c42c2', 'hex'),
  '<GETCFG>>': cfg320(),
  '<GETCPM>>': Buffer.from('01b6', 'hex'),
  '<GETCPS>>': Buffer.from('801c', 'hex'),
  '<GETVOLT>>': Buffer.from('2a', 'hex'),
  '<GETDATETIME>>': Buffer.from('170b0a102e36aa', 'hex'), // 2023-11-10 16:46:54
};

/**
 * A scripted device: answers each command 5 ms later, one byte per chunk (the awkward split),
 * and stays silent for commands it has no reply for.
 */
function rig(options: Record<string, unknown>, replies: Record<string, Buffer | undefined>) {
  const writes: string[] = [];
  const readings: DecodedReading[] = [];
  const rejects: Reject[] = [];
  const info: object[] = [];
  let session: DeviceSession | undefined;
  const ctx: Parameters<typeof gqGmc.createSession>[0] = {
    now: () => Date.now(),
    async write(bytes) {
      const cmd = Buffer.from(bytes).toString('latin1');
      writes.push(cmd);
      const reply = replies[cmd];
      if (!reply) return;
      setTimeout(() => {
        for (const byte of reply) session?.push(Buffer.from([byte]));
      }, 5);
    },
    emit: (r) => readings.push(r),
    reject: (r) => rejects.push(r),
    options: parseSessionOptions(gqGmc, options),
    log: { debug: () => {}, info: (o) => info.push(o), warn: () => {} },
  };
  session = gqGmc.createSession(ctx);
  return { session, writes, readings, rejects, info, push: (b: Buffer) => session?.push(b) };
}

describe('GQ GMC session, poll mode', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(Date.UTC(2023, 10, 10, 16, 46, 50));
  });
  afterEach(() => vi.useRealTimers());

  it('identifies a GMC-320, then polls counts, battery and clock into one agent-stamped reading', async () => {
    const r = rig({ timezone: 'UTC' }, REPLIES_320);
    r.session.start?.();
    await vi.advanceTimersByTimeAsync(900);
    expect(r.writes).toEqual(['<GETVER>>', '<GETSERIAL>>', '<GETCFG>>', '<GETCPM>>', '<GETCPS>>', '<GETVOLT>>', '<GETDATETIME>>']);
    expect(r.rejects).toEqual([]);
    expect(r.readings).toHaveLength(1);
    const reading = r.readings[0] as DecodedReading;
    expect(reading.ts_source).toBe('agent');
    expect(reading.values).toEqual({
      cpm: 438,
      dose_rate: expect.closeTo(2.847, 6),
      cps: 28, // 0x801C with the reserved bit 15 masked off
      battery_voltage: 4.2,
      clock_offset: (Date.UTC(2023, 10, 10, 16, 46, 54) - reading.ts) / 1000,
    });
    expect(r.info[0]).toMatchObject({ model: 'GMC-320', firmware: '4.26', serial: 'F48800671C42C2', calibration: 'device-cfg' });
    await vi.advanceTimersByTimeAsync(1000);
    expect(r.writes.slice(7)).toEqual(['<GETCPM>>', '<GETCPS>>']);
    expect(r.readings[1]?.values).toEqual({ cpm: 438, dose_rate: expect.closeTo(2.847, 6), cps: 28 });
    r.session.stop();
  });

  it('rejects a request that times out and goes on polling', async () => {
    const r = rig({ timezone: 'UTC', request_timeout_ms: 300 }, { ...REPLIES_320, '<GETCPS>>': undefined });
    r.session.start?.();
    await vi.advanceTimersByTimeAsync(900);
    expect(r.rejects.map((x) => x.code)).toEqual(['RS_ERR_DEVICE_TIMEOUT']);
    expect(r.rejects[0]?.message).toBe('GETCPS: no reply within 300 ms');
    expect(r.readings[0]?.values.cpm).toBe(438);
    expect(r.readings[0]?.values.cps).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1000);
    expect(r.readings).toHaveLength(2);
    expect(r.rejects).toHaveLength(2);
    r.session.stop();
  });

  it('in auto mode keeps asking GETVER until the unit answers, polling nothing meanwhile', async () => {
    const replies: Record<string, Buffer | undefined> = { ...REPLIES_320, '<GETVER>>': undefined };
    const r = rig({ timezone: 'UTC', request_timeout_ms: 200 }, replies);
    r.session.start?.();
    await vi.advanceTimersByTimeAsync(2300);
    expect(r.writes).toEqual(['<GETVER>>', '<GETVER>>', '<GETVER>>']);
    expect(r.rejects.map((x) => x.code)).toEqual(['RS_ERR_DEVICE_TIMEOUT', 'RS_ERR_DEVICE_TIMEOUT', 'RS_ERR_DEVICE_TIMEOUT']);
    replies['<GETVER>>'] = Buffer.from('GMC-500+Re 2.22', 'latin1');
    replies['<GETCPM>>'] = Buffer.from('000004ba', 'hex');
    replies['<GETCPS>>'] = Buffer.from('00000013', 'hex');
    replies['<GETVOLT>>'] = Buffer.from('4.0v\0', 'latin1');
    await vi.advanceTimersByTimeAsync(1500);
    // The 500+ config block is 512 bytes: the 256-byte reply is truncated, so the factory 0.0065 applies.
    expect(r.rejects.at(-1)?.code).toBe('RS_ERR_FRAME_TRUNCATED');
    expect(r.readings[0]?.values).toMatchObject({ cpm: 1210, cps: 19, battery_voltage: 4, dose_rate: expect.closeTo(7.865, 6) });
    expect(r.info[0]).toMatchObject({ model: 'GMC-500+', calibration: 'model-default' });
    r.session.stop();
  });

  it('uses the configured sensitivity when the config block has no calibration points', async () => {
    const r = rig({ timezone: 'UTC', sensitivity: 100, model: '320' }, { ...REPLIES_320, '<GETCFG>>': Buffer.alloc(256, 0xff) });
    r.session.start?.();
    await vi.advanceTimersByTimeAsync(900);
    expect(r.readings[0]?.values.dose_rate).toBe(4.38);
    expect(r.info[0]).toMatchObject({ calibration: 'config', sensitivity_cpm_per_usvh: 100 });
    r.session.stop();
  });

  it('converts the device clock with the configured zone', async () => {
    const r = rig({ timezone: 'Europe/Berlin' }, REPLIES_320);
    r.session.start?.();
    await vi.advanceTimersByTimeAsync(900);
    const reading = r.readings[0] as DecodedReading;
    expect(reading.values.clock_offset).toBe((Date.UTC(2023, 10, 10, 15, 46, 54) - reading.ts) / 1000);
    r.session.stop();
  });
});

describe('GQ GMC session, heartbeat mode', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('stops any old stream, identifies, starts HEARTBEAT1 and decodes split, masked samples', async () => {
    const r = rig({ timezone: 'UTC', mode: 'heartbeat' }, REPLIES_320);
    r.session.start?.();
    await vi.advanceTimersByTimeAsync(2000);
    expect(r.writes).toEqual(['<HEARTBEAT0>>', '<GETVER>>', '<GETSERIAL>>', '<GETCFG>>', '<GETVOLT>>', '<GETDATETIME>>', '<HEARTBEAT1>>']);
    expect(r.readings).toHaveLength(1); // battery and clock
    r.push(Buffer.from([0x80]));
    r.push(Buffer.from([0x1c, 0x00]));
    r.push(Buffer.from([0x17]));
    expect(r.readings.slice(1).map((x) => [x.values.cps, x.values.cpm, x.quality])).toEqual([
      [28, 1680, 'suspect'],
      [23, 1530, 'suspect'],
    ]);
    expect(r.readings[2]?.values.dose_rate).toBeCloseTo(1530 * 0.0065, 6);
    r.session.stop();
    expect(r.writes.at(-1)).toBe('<HEARTBEAT0>>');
  });

  it('reports 60 s of samples as a good CPM equal to their sum', async () => {
    const r = rig(
      { timezone: 'UTC', mode: 'heartbeat', model: '500' },
      { ...REPLIES_320, '<GETVER>>': Buffer.from('GMC-500+Re 2.22', 'latin1') },
    );
    r.session.start?.();
    await vi.advanceTimersByTimeAsync(4000);
    const before = r.readings.length;
    for (let i = 0; i < 60; i += 1) {
      r.push(Buffer.from([0, 0, 0, i % 2 === 0 ? 19 : 21]));
      await vi.advanceTimersByTimeAsync(1000);
    }
    const last = r.readings.at(-1) as DecodedReading;
    expect(r.readings.length - before).toBe(60);
    expect(last.values.cpm).toBe(1200);
    expect(last.quality).toBe('good');
    r.session.stop();
  });

  it('drops a partial sample left hanging and restarts a silent stream', async () => {
    const r = rig({ timezone: 'UTC', mode: 'heartbeat' }, REPLIES_320);
    r.session.start?.();
    await vi.advanceTimersByTimeAsync(2000);
    r.push(Buffer.from([0x00]));
    await vi.advanceTimersByTimeAsync(600);
    r.push(Buffer.from([0x00, 0x05]));
    expect(r.rejects.map((x) => x.code)).toEqual(['RS_ERR_FRAME_TRUNCATED']);
    expect(r.readings.at(-1)?.values.cps).toBe(5);
    const writes = r.writes.length;
    await vi.advanceTimersByTimeAsync(6000);
    expect(r.rejects.map((x) => x.code)).toEqual(['RS_ERR_FRAME_TRUNCATED', 'RS_ERR_DEVICE_TIMEOUT']);
    expect(r.writes.slice(writes)).toEqual(['<HEARTBEAT0>>', '<HEARTBEAT1>>']);
    r.session.stop();
  });
});
