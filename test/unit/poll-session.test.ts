import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Reject } from '../../src/core/errors.ts';
import { createPollSession, type PollRequest } from '../../src/sessions/poll-session.ts';

function harness() {
  const writes: string[] = [];
  const rejects: Reject[] = [];
  const debug: object[] = [];
  let failWrites = false;
  const ctx = {
    write: async (b: Buffer | string) => {
      if (failWrites) throw new Error('port closed');
      writes.push(Buffer.from(b).toString('latin1'));
    },
    reject: (r: Reject) => rejects.push(r),
    log: { debug: (o: object) => debug.push(o), info: () => {}, warn: () => {} },
  };
  return { ctx, writes, rejects, debug, failWrites: () => (failWrites = true) };
}

const hexOf = (label: string, bytes: number, timeoutMs = 500): PollRequest<string> => ({
  label,
  command: `<${label}>>`,
  reply: { kind: 'length', bytes },
  timeoutMs,
  decode: (b) => ({ ok: true, value: b.toString('hex') }),
});

describe('poll session', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('assembles a fixed-length reply fed one byte at a time, and runs requests in order', async () => {
    const h = harness();
    const s = createPollSession(h.ctx);
    const a = s.request(hexOf('A', 4));
    const b = s.request(hexOf('B', 2));
    await vi.advanceTimersByTimeAsync(0);
    expect(h.writes).toEqual(['<A>>']);
    for (const byte of [1, 2, 3, 4]) s.push(Buffer.from([byte]));
    expect(await a).toEqual({ ok: true, value: '01020304' });
    await vi.advanceTimersByTimeAsync(0);
    expect(h.writes).toEqual(['<A>>', '<B>>']);
    s.push(Buffer.from([0xbe, 0xef]));
    expect(await b).toEqual({ ok: true, value: 'beef' });
    expect(s.pending).toBe(0);
  });

  it('splits one chunk across the reply boundary and flushes the extra bytes', async () => {
    const h = harness();
    const s = createPollSession(h.ctx);
    const a = s.request(hexOf('A', 2));
    await vi.advanceTimersByTimeAsync(0);
    s.push(Buffer.from([0x00, 0x17, 0x99, 0x98]));
    expect(await a).toEqual({ ok: true, value: '0017' });
    const b = s.request(hexOf('B', 2));
    await vi.advanceTimersByTimeAsync(0);
    s.push(Buffer.from([0x00]));
    s.push(Buffer.from([0x2a]));
    expect(await b).toEqual({ ok: true, value: '002a' });
    expect(h.debug.some((d) => (d as { hex?: string }).hex === '9998')).toBe(true);
  });

  it('discards stray bytes that arrive with no request outstanding', async () => {
    const h = harness();
    const s = createPollSession(h.ctx);
    s.push(Buffer.from([0xde, 0xad]));
    const a = s.request(hexOf('A', 2));
    await vi.advanceTimersByTimeAsync(0);
    s.push(Buffer.from([0x01, 0x02]));
    expect(await a).toEqual({ ok: true, value: '0102' });
  });

  it('times out with RS_ERR_DEVICE_TIMEOUT and goes on to the next request', async () => {
    const h = harness();
    const s = createPollSession(h.ctx);
    const a = s.request(hexOf('A', 2, 300));
    const b = s.request(hexOf('B', 1, 300));
    await vi.advanceTimersByTimeAsync(299);
    expect(h.rejects).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    const outcome = await a;
    expect(outcome.ok).toBe(false);
    expect(h.rejects.map((r) => r.code)).toEqual(['RS_ERR_DEVICE_TIMEOUT']);
    expect(h.writes).toEqual(['<A>>', '<B>>']);
    s.push(Buffer.from([7]));
    expect(await b).toEqual({ ok: true, value: '07' });
  });

  it('calls a partial reply at the deadline RS_ERR_FRAME_TRUNCATED, keeping the bytes', async () => {
    const h = harness();
    const s = createPollSession(h.ctx);
    const a = s.request(hexOf('A', 4, 300));
    await vi.advanceTimersByTimeAsync(0);
    s.push(Buffer.from([1, 2]));
    await vi.advanceTimersByTimeAsync(300);
    expect((await a).ok).toBe(false);
    expect(h.rejects[0]?.code).toBe('RS_ERR_FRAME_TRUNCATED');
    expect(h.rejects[0]?.raw?.toString('hex')).toBe('0102');
  });

  it('ends an idle-terminated reply after silence, and a terminated one at its terminator', async () => {
    const h = harness();
    const s = createPollSession(h.ctx);
    const idle = s.request({
      ...hexOf('V', 0),
      reply: { kind: 'idle', idleMs: 100, maxBytes: 32 },
      decode: (b) => ({ ok: true, value: b.toString() }),
    });
    await vi.advanceTimersByTimeAsync(0);
    s.push(Buffer.from('GMC-'));
    await vi.advanceTimersByTimeAsync(60);
    s.push(Buffer.from('320Re 4.26'));
    await vi.advanceTimersByTimeAsync(99);
    expect(s.pending).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(await idle).toEqual({ ok: true, value: 'GMC-320Re 4.26' });
    const line = s.request({
      ...hexOf('L', 0),
      reply: { kind: 'terminator', terminator: Buffer.from('\r\n'), maxBytes: 16 },
      decode: (b) => ({ ok: true, value: b.toString() }),
    });
    await vi.advanceTimersByTimeAsync(0);
    s.push(Buffer.from('ok\r'));
    s.push(Buffer.from('\nzz'));
    expect(await line).toEqual({ ok: true, value: 'ok\r\n' });
  });

  it('reports a decoder reject, and a decoder that throws, without wedging the queue', async () => {
    const h = harness();
    const s = createPollSession(h.ctx);
    const bad = s.request({ ...hexOf('A', 1), decode: () => ({ ok: false, reject: { code: 'RS_ERR_FRAME_SYNTAX', message: 'no' } }) });
    const boom = s.request({
      ...hexOf('B', 1),
      decode: () => {
        throw new Error('bug');
      },
    });
    const good = s.request(hexOf('C', 1));
    for (let i = 0; i < 3; i += 1) {
      await vi.advanceTimersByTimeAsync(0);
      s.push(Buffer.from([i]));
    }
    expect((await bad).ok).toBe(false);
    expect((await boom).ok).toBe(false);
    expect(await good).toEqual({ ok: true, value: '02' });
    expect(h.rejects.map((r) => r.code)).toEqual(['RS_ERR_FRAME_SYNTAX', 'RS_ERR_FRAME_SYNTAX']);
  });

  it('routes bytes to the unsolicited handler when set, including during a no-reply request', async () => {
    const h = harness();
    const s = createPollSession(h.ctx);
    const seen: string[] = [];
    s.setUnsolicitedHandler((c) => seen.push(c.toString('hex')));
    const hb = s.request({ ...hexOf('HEARTBEAT1', 0), reply: { kind: 'none' } });
    s.push(Buffer.from([0x00, 0x17]));
    expect(await hb).toEqual({ ok: true, value: undefined });
    s.push(Buffer.from([0x00, 0x18]));
    expect(seen).toEqual(['0017', '0018']);
  });

  it('treats a failed write as a timeout, refuses a full queue, and settles everything on stop', async () => {
    const h = harness();
    const s = createPollSession(h.ctx, { maxQueue: 1 });
    h.failWrites();
    const a = s.request(hexOf('A', 1));
    const b = s.request(hexOf('B', 1));
    const c = s.request(hexOf('C', 1));
    expect((await c).ok).toBe(false);
    expect((await a).ok).toBe(false);
    s.stop();
    expect((await b).ok).toBe(false);
    expect(h.rejects.map((r) => r.code)).toEqual(['RS_ERR_QUEUE_FULL', 'RS_ERR_DEVICE_TIMEOUT', 'RS_ERR_DEVICE_TIMEOUT']);
    expect((await s.request(hexOf('D', 1))).ok).toBe(false);
  });
});

describe('poll session quiet period after a timeout', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('holds the next request back so a late answer is flushed, not read as the next reply', async () => {
    const h = harness();
    const s = createPollSession(h.ctx, { quietAfterTimeoutMs: 100 });
    const a = s.request(hexOf('A', 2, 300));
    const b = s.request(hexOf('B', 2, 300));
    await vi.advanceTimersByTimeAsync(300);
    expect((await a).ok).toBe(false);
    expect(h.writes).toEqual(['<A>>']);
    s.push(Buffer.from([0xaa, 0xaa])); // A's answer, 20 ms too late
    await vi.advanceTimersByTimeAsync(100);
    expect(h.writes).toEqual(['<A>>', '<B>>']);
    s.push(Buffer.from([0x00, 0x01]));
    expect(await b).toEqual({ ok: true, value: '0001' });
  });
});
