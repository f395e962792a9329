import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogue } from '../../devices/index.ts';
import { createAlarmEngine } from '../../src/alarms/engine.ts';
import { parseConfig } from '../../src/config/load.ts';
import { buildApp, type RadscreenApp } from '../../src/server/app.ts';
import { addUser } from '../../src/server/auth/provision.ts';
import { type AuthStore, openAuthStore } from '../../src/server/auth/store.ts';
import { createLiveState } from '../../src/server/live-state.ts';

/**
 * Issue 9 "security headers (CSP, frame-ancestors) via @fastify/helmet; an Origin check on
 * state-changing routes": a cross-site page must not be able to log an operator out, log
 * someone in, or act with their cookie; the console must not be framable.
 */
const config = parseConfig('station: { id: st1 }\ndevices: []\n', { catalogue, env: {} });
const PASSWORD = 'amber-Rook-7431-tundra';
const HOST = '127.0.0.1:8080';

let store: AuthStore;
let app: RadscreenApp;

beforeAll(async () => {
  store = openAuthStore();
  await addUser(store, { name: 'boss', role: 'admin', password: PASSWORD });
  const engine = createAlarmEngine({ now: Date.now });
  app = await buildApp({ state: createLiveState({ config, catalogue, engine, now: Date.now }), engine, config, auth: store });
});

afterAll(async () => {
  await app.close();
  store.close();
});

async function session(): Promise<string> {
  const r = await app.inject({
    method: 'POST',
    url: '/api/login',
    headers: { host: HOST },
    payload: { username: 'boss', password: PASSWORD },
  });
  expect(r.statusCode).toBe(200);
  return String(r.headers['set-cookie']).split(';')[0] as string;
}

describe('security headers', () => {
  it('the console is served with a CSP that forbids inline script and framing', async () => {
    const r = await app.inject({ url: '/', headers: { host: HOST } });
    expect(r.statusCode).toBe(200);
    const csp = String(r.headers['content-security-policy']);
    const directives = new Map(
      csp
        .split(';')
        .map((d) => d.trim().split(/\s+/) as [string, ...string[]])
        .map(([k, ...v]) => [k, v]),
    );
    expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
    expect(directives.get('script-src')).toEqual(["'self'"]);
    expect(directives.get('style-src')).toEqual(["'self'"]);
    expect(directives.get('object-src')).toEqual(["'none'"]);
    // Over plain HTTP neither HSTS nor an upgrade to https (which would break a LAN console).
    expect(directives.has('upgrade-insecure-requests')).toBe(false);
    expect(r.headers['strict-transport-security']).toBeUndefined();
    expect(r.headers['x-frame-options']).toBe('DENY');
    expect(r.headers['x-content-type-options']).toBe('nosniff');
  });

  it('the session cookie is HttpOnly and SameSite=Strict (Secure only over TLS: security-tls.test.ts)', async () => {
    const r = await app.inject({
      method: 'POST',
      url: '/api/login',
      headers: { host: HOST },
      payload: { username: 'boss', password: PASSWORD },
    });
    expect(String(r.headers['set-cookie'])).toMatch(/HttpOnly/);
    expect(String(r.headers['set-cookie'])).toMatch(/SameSite=Strict/);
  });
});

describe('origin check on state-changing routes', () => {
  it('a cross-site logout is refused (403 RS_ERR_ORIGIN) and the session survives', async () => {
    const cookie = await session();
    for (const headers of [{ origin: 'http://evil.example' }, { origin: 'http://127.0.0.1:9999' }, { 'sec-fetch-site': 'same-site' }]) {
      const r = await app.inject({ method: 'POST', url: '/api/logout', headers: { host: HOST, cookie, ...headers } });
      expect(r.statusCode, JSON.stringify(headers)).toBe(403);
      expect(r.json()).toMatchObject({ code: 'RS_ERR_ORIGIN' });
    }
    const me = await app.inject({ url: '/api/me', headers: { host: HOST, cookie } });
    expect(me.json().user).toMatchObject({ name: 'boss' });
    // The console's own requests (same origin) and scripts without an Origin still work.
    const own = await app.inject({
      method: 'POST',
      url: '/api/logout',
      headers: { host: HOST, cookie, origin: `http://${HOST}`, 'sec-fetch-site': 'same-origin' },
    });
    expect(own.statusCode).toBe(200);
  });

  it('a cross-site login is refused (no login CSRF)', async () => {
    const r = await app.inject({
      method: 'POST',
      url: '/api/login',
      headers: { host: HOST, origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' },
      payload: { username: 'boss', password: PASSWORD },
    });
    expect(r.statusCode).toBe(403);
    expect(r.headers['set-cookie']).toBeUndefined();
  });

  it('every POST/PUT/PATCH/DELETE route refuses a cross-site request before it runs', async () => {
    const cookie = await session();
    const routes = app.radscreenAuth.routes;
    expect(routes.length).toBeGreaterThan(5);
    for (const route of routes) {
      const url = route.url.replace(/:(\w+)/g, 'x1');
      const r = await app.inject({
        method: route.method as 'POST',
        url,
        headers: { host: HOST, cookie, origin: 'http://evil.example' },
        payload: {},
      });
      expect(r.statusCode, `${route.method} ${route.url}`).toBe(403);
      expect(r.json().code, `${route.method} ${route.url}`).toBe('RS_ERR_ORIGIN');
    }
  });
});
