import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { CheckPool, LoginThrottle } from '../../src/server/auth/login-throttle.ts';
import { RefusalAudit } from '../../src/server/auth/refusal-audit.ts';
import type { AuditEntry } from '../../src/server/auth/store.ts';
import { SseClient } from '../../src/server/sse-client.ts';

/** The rules behind docs/security-web.md, on a fake clock (the real-process tests are in test/integration). */

describe('LoginThrottle', () => {
  it('backs off 1, 2, 4 … s per (user, address) after the third failure, capped at 5 min', () => {
    const t = new LoginThrottle({ now: () => 0 });
    expect([1, 2, 3, 4, 5, 12, 30].map((f) => t.delayAfter(f))).toEqual([0, 0, 1000, 2000, 4000, 300_000, 300_000]);
  });

  it('holds back only the failing pair, forgets it after 15 min, and frees it on success', () => {
    let now = 0;
    const t = new LoginThrottle({ now: () => now });
    const fail = () => {
      const slot = t.reserve('op', 'A');
      if (!('release' in slot)) throw new Error(`refused: ${slot.reason}`);
      slot.release('failed');
    };
    fail();
    fail();
    fail();
    expect(t.reserve('op', 'A')).toMatchObject({ retryAfterMs: 1000 });
    now += 1000;
    fail();
    expect(t.reserve('op', 'A')).toMatchObject({ retryAfterMs: 2000 });
    const other = t.reserve('sup', 'A');
    expect('release' in other).toBe(true);
    if ('release' in other) other.release('ok');
    now += 15 * 60_000 + 1;
    const again = t.reserve('op', 'A');
    expect('release' in again).toBe(true);
  });

  it('allows one check per user name at a time, whatever the address', () => {
    const t = new LoginThrottle({ now: () => 0 });
    const first = t.reserve('op', 'A');
    expect(t.reserve('op', 'B')).toMatchObject({ retryAfterMs: 1000 });
    if ('release' in first) first.release('ok');
    expect('release' in t.reserve('op', 'B')).toBe(true);
  });
});

describe('CheckPool', () => {
  it('runs at most `concurrency` checks, queues `maxQueued`, refuses the rest', async () => {
    const pool = new CheckPool({ concurrency: 2, maxQueued: 3, registry: new Registry() });
    let running = 0;
    let peak = 0;
    const gates: (() => void)[] = [];
    const check = () =>
      new Promise<boolean>((resolve) => {
        running++;
        peak = Math.max(peak, running);
        gates.push(() => {
          running--;
          resolve(true);
        });
      });
    const results = Array.from({ length: 10 }, () => pool.run(check));
    const refused = await Promise.all(results.slice(5));
    expect(refused).toEqual([undefined, undefined, undefined, undefined, undefined]);
    while (gates.length > 0 || running > 0) {
      gates.shift()?.();
      await new Promise((r) => setImmediate(r));
    }
    expect(await Promise.all(results.slice(0, 5))).toEqual([true, true, true, true, true]);
    expect(peak).toBe(2);
  });
});

describe('RefusalAudit', () => {
  it('writes the first refusal per key and minute at once and the rest as one counted row', () => {
    let now = 120_000;
    const rows: Omit<AuditEntry, 'seq'>[] = [];
    const audit = new RefusalAudit({ append: (e) => rows.push(e), now: () => now });
    const r = { action: 'alarm.acknowledge', code: 'RS_ERR_AUTH_REQUIRED', ip: '10.0.0.9', target: 'a1', refused: 'not logged in' };
    for (let i = 0; i < 50; i++) audit.record(r);
    audit.record({ ...r, ip: '10.0.0.8' });
    expect(rows).toHaveLength(2);
    audit.flush();
    expect(rows).toHaveLength(2); // the minute is not over
    now += 60_000;
    audit.flush();
    expect(rows).toHaveLength(3);
    expect(rows[2]).toMatchObject({ ip: '10.0.0.9', ok: false, detail: { count: 49, aggregated: true, code: 'RS_ERR_AUTH_REQUIRED' } });
  });
});

/** A ServerResponse stand-in whose socket never drains: write() returns false once `capacity` is used up. */
function stuckResponse(capacity: number) {
  const res = new EventEmitter() as EventEmitter & {
    writableLength: number;
    destroyed: boolean;
    write(c: string): boolean;
    destroy(): void;
  };
  res.writableLength = 0;
  res.destroyed = false;
  let used = 0;
  res.write = (c: string) => {
    const n = Buffer.byteLength(c);
    if (used + n <= capacity) used += n;
    else res.writableLength += n;
    return res.writableLength === 0;
  };
  res.destroy = () => {
    res.destroyed = true;
    res.emit('close');
  };
  return res;
}

describe('SseClient', () => {
  it('drops a client whose queue passes the byte bound (the snapshot has its own allowance)', () => {
    const res = stuckResponse(0);
    const drops: string[] = [];
    const client = new SseClient(res as unknown as ServerResponse, {
      limits: { maxStreams: 1, bufferBytes: 1000, stallMs: 60_000 },
      now: () => 0,
      onDrop: (reason) => drops.push(reason),
    });
    client.send('x'.repeat(5000), { initial: true });
    expect(drops).toEqual([]);
    client.send('y'.repeat(900));
    expect(drops).toEqual([]);
    client.send('z'.repeat(200));
    expect(drops).toEqual(['buffer']);
    expect(res.destroyed).toBe(true);
  });

  it('drops a client whose socket stays blocked longer than the stall bound, and not one that drains', () => {
    let now = 0;
    const res = stuckResponse(10);
    const drops: string[] = [];
    const client = new SseClient(res as unknown as ServerResponse, {
      limits: { maxStreams: 1, bufferBytes: 1_000_000, stallMs: 30_000 },
      now: () => now,
      onDrop: (reason) => drops.push(reason),
    });
    client.send('a'.repeat(20));
    now = 29_000;
    client.checkStall();
    res.emit('drain');
    now = 40_000;
    client.checkStall();
    expect(drops).toEqual([]);
    client.send('b');
    now = 70_001;
    client.checkStall();
    expect(drops).toEqual(['stall']);
  });
});
