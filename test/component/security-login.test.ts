import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { catalogue } from '../../devices/index.ts';
import { createAlarmEngine } from '../../src/alarms/engine.ts';
import { parseConfig } from '../../src/config/load.ts';
import { buildApp, type RadscreenApp } from '../../src/server/app.ts';
import { addUser } from '../../src/server/auth/provision.ts';
import { type AuthStore, openAuthStore } from '../../src/server/auth/store.ts';
import { createLiveState } from '../../src/server/live-state.ts';

/**
 * Issue 9 "Login": throttling that is atomic (the attempt is reserved before the scrypt await),
 * per (user, address) with backoff instead of a lock-out a third party can trigger, a coarse
 * per-address limit, bounded scrypt work, and bounded auditing of refused anonymous requests.
 */
const config = parseConfig('station: { id: st1 }\ndevices: []\n', { catalogue, env: {} });
const OP_PASSWORD = 'amber-Rook-7431-tundra';
const SUP_PASSWORD = 'violet-Gale-2290-harbor';

let store: AuthStore;
let app: RadscreenApp;

beforeEach(async () => {
  store = openAuthStore();
  await addUser(store, { name: 'op', role: 'operator', password: OP_PASSWORD });
  await addUser(store, { name: 'sup', role: 'technician', password: SUP_PASSWORD });
  const engine = createAlarmEngine({ now: Date.now });
  app = await buildApp({ state: createLiveState({ config, catalogue, engine, now: Date.now }), engine, config, auth: store });
});

afterEach(async () => {
  await app.close();
  store.close();
});

function login(username: string, password: string, ip: string) {
  return app.inject({ method: 'POST', url: '/api/login', remoteAddress: ip, payload: { username, password } });
}

/** Scrypt checks the server ran, from its own counter on /metrics. */
async function checks(): Promise<number> {
  const text = (await app.inject('/metrics')).body;
  const line = text.split('\n').find((l) => l.startsWith('radscreen_login_checks_total'));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('login throttling', () => {
  it('300 parallel guesses from one address run at most a handful of password checks', async () => {
    const replies = await Promise.all(Array.from({ length: 300 }, (_, i) => login('op', `wrong-guess-${i}`, '10.9.9.9')));
    const checked = replies.filter((r) => r.statusCode === 401).length;
    const throttled = replies.filter((r) => r.statusCode === 429);
    // Every 401 is a guess that was actually checked against the hash.
    expect(checked).toBeLessThanOrEqual(3);
    expect(await checks()).toBe(checked);
    expect(throttled.length).toBe(300 - checked);
    expect(throttled[0]?.json()).toMatchObject({ code: 'RS_ERR_AUTH_THROTTLED' });
    expect(Number(throttled[0]?.headers['retry-after'])).toBeGreaterThan(0);
    // A legitimate user at another address gets in at once, first try.
    expect((await login('op', OP_PASSWORD, '10.1.1.1')).statusCode).toBe(200);
  });

  it('bad guesses against one user lock out neither that user elsewhere nor other users at the same address', async () => {
    for (let i = 0; i < 12; i++) await login('op', `wrong-guess-${i}`, '10.9.9.9');
    // The guesser itself now waits, growing with every failure.
    const refused = await login('op', OP_PASSWORD, '10.9.9.9');
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // Another user at the same address (a shared console PC) and the same user elsewhere are not locked out.
    expect((await login('sup', SUP_PASSWORD, '10.9.9.9')).statusCode).toBe(200);
    expect((await login('op', OP_PASSWORD, '10.1.1.1')).statusCode).toBe(200);
  });

  it('a coarse per-address limit stops one address spraying many user names', async () => {
    const replies = await Promise.all(Array.from({ length: 100 }, (_, i) => login(`user${i}`, 'wrong-guess', '10.8.8.8')));
    const checked = replies.filter((r) => r.statusCode === 401).length;
    expect(checked).toBeLessThanOrEqual(30);
    expect(await checks()).toBe(checked);
    // The rest: 429 from the address limit, or 503 while the check queue was full.
    expect(replies.filter((r) => r.statusCode === 429).length).toBeGreaterThanOrEqual(70);
    expect(replies.filter((r) => [401, 429, 503].includes(r.statusCode)).length).toBe(100);
  });

  it('400 parallel logins from one address do not queue a real login from another behind them', async () => {
    const flood = Array.from({ length: 400 }, (_, i) => login(`user${i}`, 'wrong-guess', '10.7.7.7'));
    const real = login('sup', SUP_PASSWORD, '10.1.1.2');
    const [realReply, floodReplies] = await Promise.all([real, Promise.all(flood)]);
    expect(realReply.statusCode).toBe(200);
    // Before the fix all 400 were checked (one scrypt each), the real login last.
    const checked = floodReplies.filter((r) => r.statusCode === 401).length;
    expect(checked).toBeLessThanOrEqual(30);
    expect(await checks()).toBe(checked + 1);
  });

  it('a flood from many addresses runs a bounded number of checks and refuses the rest at once (503)', async () => {
    const replies = await Promise.all(Array.from({ length: 400 }, (_, i) => login(`user${i}`, 'wrong-guess', `10.5.${i >> 8}.${i & 255}`)));
    const checked = replies.filter((r) => r.statusCode === 401).length;
    const busy = replies.filter((r) => r.statusCode === 503);
    // 2 running + 8 queued at most at any moment; requests arrive over time, so a few more may get a turn.
    expect(checked).toBeLessThan(100);
    expect(checked + busy.length).toBe(400);
    expect(busy[0]?.json()).toMatchObject({ code: 'RS_ERR_AUTH_THROTTLED' });
    expect((await login('sup', SUP_PASSWORD, '10.1.1.3')).statusCode).toBe(200);
  });
});

describe('auditing refused anonymous requests', () => {
  it('300 anonymous actions from one address add a bounded number of audit rows, with the count', async () => {
    const before = store.listAudit({ limit: 10_000 }).length;
    await Promise.all(
      Array.from({ length: 300 }, () => app.inject({ method: 'POST', url: '/api/alarms/a1/ack', remoteAddress: '10.6.6.6', payload: {} })),
    );
    const during = store.listAudit({ limit: 10_000 }).length - before;
    expect(during).toBeLessThanOrEqual(2);
    await app.close();
    const rows = store.listAudit({ limit: 10_000 }).slice(0, store.listAudit({ limit: 10_000 }).length - before);
    expect(rows.length).toBeLessThanOrEqual(2);
    const counted = rows.reduce((n, r) => n + (typeof r.detail.count === 'number' ? r.detail.count : 1), 0);
    expect(counted).toBe(300);
    expect(rows.every((r) => r.ip === '10.6.6.6' && r.action === 'alarm.acknowledge' && !r.ok)).toBe(true);
  });
});
