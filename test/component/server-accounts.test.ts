import { afterEach, describe, expect, it } from 'vitest';
import { catalogue } from '../../devices/index.ts';
import { createAlarmEngine } from '../../src/alarms/engine.ts';
import { parseConfig } from '../../src/config/load.ts';
import { buildApp, type RadscreenApp } from '../../src/server/app.ts';
import type { PasswordPolicy } from '../../src/server/auth/password-policy.ts';
import { addUser } from '../../src/server/auth/provision.ts';
import type { Role } from '../../src/server/auth/roles.ts';
import { type AuthStore, openAuthStore } from '../../src/server/auth/store.ts';
import { createLiveState } from '../../src/server/live-state.ts';

/**
 * Accounts through the real HTTP app (Fastify inject, real SQLite store, real scrypt): disable,
 * enable, delete, the last enabled admin, self-service password change, the password policy,
 * idle and absolute session limits, and one-time passwords that must be changed first.
 */
const config = parseConfig('station: { id: st1 }\ndevices: []\n', { catalogue, env: {} });
let t = 1_900_000_000_000;
const now = () => t;
const MIN = 60_000;

const PW: Record<string, string> = {
  admin: 'admin-pass-phrase-1',
  admin2: 'second-admin-pass-phrase',
  op: 'operator-pass-phrase-1',
  tech: 'technician-pass-phrase',
};

const open: { app: RadscreenApp; store: AuthStore }[] = [];
afterEach(async () => {
  for (const o of open.splice(0)) {
    await o.app.close();
    o.store.close();
  }
});

async function setup(opts: { sessionIdleMs?: number; sessionTtlMs?: number; passwordPolicy?: PasswordPolicy } = {}) {
  const store = openAuthStore();
  for (const [name, role] of [
    ['admin', 'admin'],
    ['op', 'operator'],
    ['tech', 'technician'],
  ] as [string, Role][])
    await addUser(store, { name, role, password: PW[name] as string });
  const engine = createAlarmEngine({ now, rules: [] });
  const state = createLiveState({ config, catalogue, engine, now });
  const app = await buildApp({ state, engine, config, auth: store, now, ...opts });
  open.push({ app, store });
  const login = async (username: string, password = PW[username] as string) => {
    const res = await app.inject({ method: 'POST', url: '/api/login', payload: { username, password, bearer: true } });
    return { res, token: res.statusCode === 200 ? (res.json().token as string) : '' };
  };
  const as = (token: string, method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object) =>
    app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload ? { payload } : {}) });
  return { app, store, login, as };
}

describe('disable, enable, delete (admin only, audited)', () => {
  it('a disabled user is logged out at once, cannot log in (RS_ERR_USER_DISABLED) until enabled again', async () => {
    const { store, login, as } = await setup();
    const admin = (await login('admin')).token;
    const op = (await login('op')).token;
    expect((await as(op, 'POST', '/api/logout')).statusCode).toBe(200);
    const op2 = (await login('op')).token;

    const disabled = await as(admin, 'POST', '/api/users/op/disable');
    expect(disabled.statusCode).toBe(200);
    expect(disabled.json().user).toMatchObject({ name: 'op', disabled: true });
    // The session the operator still holds is gone: the next action is refused.
    expect((await as(op2, 'GET', '/api/audit')).statusCode).toBe(401);
    expect((await as(op2, 'GET', '/api/me')).json().user).toBeNull();

    const refused = await login('op');
    expect(refused.res.statusCode).toBe(403);
    expect(refused.res.json().code).toBe('RS_ERR_USER_DISABLED');
    // A wrong password still says only "bad user name or password": disabled accounts are not disclosed.
    expect((await login('op', 'wrong-password-guess')).res.json().code).toBe('RS_ERR_AUTH_FAILED');

    const list = await as(admin, 'GET', '/api/users');
    expect(list.json().users.find((u: { name: string }) => u.name === 'op')).toMatchObject({ disabled: true, sessions: 0 });

    expect((await as(admin, 'POST', '/api/users/op/enable')).json().user.disabled).toBe(false);
    expect((await login('op')).res.statusCode).toBe(200);

    const audit = store.listAudit({ target: 'op' });
    expect(audit.find((e) => e.action === 'user.disable')).toMatchObject({ ok: true, user: 'admin', role: 'admin' });
    expect(audit.find((e) => e.action === 'user.enable')).toMatchObject({ ok: true, user: 'admin' });
    expect(audit.find((e) => e.action === 'login' && e.detail.refused === 'user disabled')).toBeDefined();
  });

  it('only an admin may manage users', async () => {
    const { store, login, as } = await setup();
    const op = (await login('op')).token;
    for (const [method, url] of [
      ['POST', '/api/users/tech/disable'],
      ['POST', '/api/users/tech/enable'],
      ['DELETE', '/api/users/tech'],
      ['GET', '/api/users'],
    ] as const) {
      const res = await as(op, method, url);
      expect(res.statusCode, `${method} ${url}`).toBe(403);
      expect(res.json().code).toBe('RS_ERR_FORBIDDEN');
    }
    expect(store.getUser('tech')?.disabled).toBe(false);
  });

  it('delete removes the user and its sessions; its audit entries stay; unknown users are 404', async () => {
    const { store, login, as } = await setup();
    const admin = (await login('admin')).token;
    const tech = (await login('tech')).token;
    expect((await as(tech, 'POST', '/api/logout')).statusCode).toBe(200);
    const tech2 = (await login('tech')).token;
    const del = await as(admin, 'DELETE', '/api/users/tech');
    expect(del.statusCode).toBe(200);
    expect(store.getUser('tech')).toBeUndefined();
    expect((await as(tech2, 'GET', '/api/me')).json().user).toBeNull();
    expect((await login('tech')).res.json().code).toBe('RS_ERR_AUTH_FAILED');
    expect(store.listAudit({ target: 'tech' }).map((e) => e.action)).toEqual(expect.arrayContaining(['user.delete', 'login', 'logout']));
    const missing = await as(admin, 'DELETE', '/api/users/nobody');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().code).toBe('RS_ERR_NOT_FOUND');
    expect((await as(admin, 'POST', '/api/users/no%20such/disable')).statusCode).toBe(400);
  });

  it('the last enabled admin cannot be disabled, deleted or demoted; with a second admin it can', async () => {
    const { store, login, as } = await setup();
    const admin = (await login('admin')).token;
    for (const [method, url, payload] of [
      ['POST', '/api/users/admin/disable', undefined],
      ['DELETE', '/api/users/admin', undefined],
      ['POST', '/api/users', { name: 'admin', role: 'operator', replace: true, password: 'demoted-admin-pass' }],
    ] as const) {
      const res = await as(admin, method, url, payload);
      expect(res.statusCode, `${method} ${url}`).toBe(409);
      expect(res.json()).toMatchObject({ code: 'RS_ERR_CONFLICT', message: expect.stringMatching(/last enabled admin/) });
    }
    expect(store.getUser('admin')).toMatchObject({ role: 'admin', disabled: false });
    expect(store.listAudit({ target: 'admin' }).filter((e) => !e.ok && e.user === 'admin').length).toBe(3);

    const added = await as(admin, 'POST', '/api/users', { name: 'admin2', role: 'admin', password: PW.admin2 });
    expect(added.statusCode).toBe(200);
    const admin2 = (await login('admin2')).token;
    expect((await as(admin2, 'POST', '/api/users/admin/disable')).statusCode).toBe(200);
    // admin2 is now the only enabled admin: it cannot remove itself.
    expect((await as(admin2, 'DELETE', '/api/users/admin2')).statusCode).toBe(409);
  });
});

describe('two admins removing each other at once', () => {
  it('exactly one succeeds: the station always keeps an enabled admin', async () => {
    const { store, login, as } = await setup();
    await addUser(store, { name: 'admin2', role: 'admin', password: PW.admin2 as string });
    const [a, b] = [(await login('admin')).token, (await login('admin2')).token];
    const results = await Promise.all([
      as(a, 'POST', '/api/users/admin2/disable'),
      as(b, 'POST', '/api/users/admin/disable'),
      as(a, 'DELETE', '/api/users/admin2'),
      as(b, 'DELETE', '/api/users/admin'),
    ]);
    const enabledAdmins = store.listUsers().filter((u) => u.role === 'admin' && !u.disabled);
    expect(enabledAdmins).toHaveLength(1);
    expect(results.map((r) => r.statusCode)).toContain(409);
  });
});

describe('changing your own password', () => {
  it('needs the current password, applies the policy, ends every other session and keeps this one', async () => {
    const { store, login, as } = await setup();
    const here = (await login('op')).token;
    const elsewhere = (await login('op')).token;
    const change = (current_password: string, new_password: string) =>
      as(here, 'POST', '/api/me/password', { current_password, new_password });

    const wrong = await change('not-my-password', 'a-fresh-pass-phrase');
    expect(wrong.statusCode).toBe(403);
    expect(wrong.json().code).toBe('RS_ERR_AUTH_FAILED');
    for (const weak of ['password', 'Password123!', 'radscreen', 'radscreen2026', 'short1', PW.op as string, 'qwertyuiopasdf']) {
      const res = await change(PW.op as string, weak);
      expect(res.statusCode, weak).toBe(422);
      expect(res.json().code).toBe('RS_ERR_PASSWORD_WEAK');
    }
    // Nothing changed so far: both sessions live.
    expect((await as(elsewhere, 'GET', '/api/me')).json().user?.name).toBe('op');

    const ok = await change(PW.op as string, 'a-fresh-pass-phrase');
    expect(ok.statusCode).toBe(200);
    expect((await as(here, 'GET', '/api/audit')).statusCode).toBe(200);
    expect((await as(elsewhere, 'GET', '/api/audit')).statusCode).toBe(401);
    expect((await login('op')).res.statusCode).toBe(401);
    expect((await login('op', 'a-fresh-pass-phrase')).res.statusCode).toBe(200);
    const audit = store.listAudit({ action: 'user.password' });
    expect(audit.filter((e) => e.ok)).toHaveLength(1);
    expect(audit.filter((e) => !e.ok).length).toBe(8);
    // The audit log never holds a password, right or wrong.
    expect(JSON.stringify(store.listAudit({ limit: 1000 }))).not.toMatch(/fresh-pass|not-my-password|operator-pass/);
  });

  it('a session that guesses the current password is ended after 5 wrong tries, even when they arrive in parallel', async () => {
    const { store, login, as } = await setup();
    const token = (await login('op')).token;
    const guesses = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        as(token, 'POST', '/api/me/password', { current_password: `guess-number-${i}`, new_password: 'a-fresh-pass-phrase' }),
      ),
    );
    const codes = guesses.map((r) => r.statusCode);
    expect(codes.filter((c) => c === 403)).toHaveLength(5);
    expect(codes.filter((c) => c === 401)).toHaveLength(15);
    // The session is gone: the right password no longer helps the holder of this token.
    const right = await as(token, 'POST', '/api/me/password', { current_password: PW.op as string, new_password: 'a-fresh-pass-phrase' });
    expect(right.statusCode).toBe(401);
    expect(store.listAudit({ action: 'user.password' }).filter((e) => !e.ok).length).toBeGreaterThanOrEqual(6);
    // The account itself is not locked: the owner logs in again.
    expect((await login('op')).res.statusCode).toBe(200);
  });

  it('anonymous callers cannot change a password', async () => {
    const { app } = await setup();
    const res = await app.inject({
      method: 'POST',
      url: '/api/me/password',
      payload: { current_password: 'x', new_password: 'a-fresh-pass-phrase' },
    });
    expect(res.statusCode).toBe(401);
  });
});

describe('password policy on user creation', () => {
  it('refuses common passwords and the product name even when the minimum length is lowered to 8', async () => {
    const { login, as } = await setup({ passwordPolicy: { minLength: 8 } });
    const admin = (await login('admin')).token;
    for (const password of ['password', 'radscreen', 'PASSWORD', 'iloveyou1', 'baseball!', 'newuser1newuser1', 'aaaaaaaaaa']) {
      const res = await as(admin, 'POST', '/api/users', { name: 'newuser1', role: 'operator', password });
      expect(res.statusCode, password).toBe(422);
      expect(res.json().code).toBe('RS_ERR_PASSWORD_WEAK');
    }
    expect((await as(admin, 'POST', '/api/users', { name: 'newuser1', role: 'operator', password: 'tulip-Anvil' })).statusCode).toBe(200);
  });

  it('uses 12 characters by default, and a generated password always passes', async () => {
    const { login, as } = await setup();
    const admin = (await login('admin')).token;
    const short = await as(admin, 'POST', '/api/users', { name: 'u1', role: 'operator', password: 'tulip-Anvil' });
    expect(short.statusCode).toBe(422);
    expect(short.json().message).toMatch(/at least 12 characters/);
    const generated = await as(admin, 'POST', '/api/users', { name: 'u1', role: 'operator' });
    expect(generated.statusCode).toBe(200);
    expect(generated.json().generated_password).toMatch(/^.{24}$/);
  });
});

describe('session limits', () => {
  it('ends a session after the idle timeout (RS_ERR_SESSION_EXPIRED); actions keep it alive, anonymous polling does not', async () => {
    const { login, as } = await setup({ sessionIdleMs: 30 * MIN });
    const token = (await login('op')).token;
    // Actions every 20 minutes for an hour: still logged in.
    for (let i = 0; i < 3; i++) {
      t += 20 * MIN;
      expect((await as(token, 'GET', '/api/audit')).statusCode).toBe(200);
    }
    // The console polls reads with the cookie; that is not activity.
    for (let i = 0; i < 4; i++) {
      t += 8 * MIN;
      expect((await as(token, 'GET', '/api/devices')).statusCode).toBe(200);
    }
    const res = await as(token, 'GET', '/api/audit');
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe('RS_ERR_SESSION_EXPIRED');
    // It stays ended, and reads see nobody logged in.
    expect((await as(token, 'GET', '/api/audit')).json().code).toBe('RS_ERR_SESSION_EXPIRED');
    expect((await as(token, 'GET', '/api/me')).json().user).toBeNull();
  });

  it('ends a busy session at its absolute lifetime', async () => {
    const { login, as } = await setup({ sessionIdleMs: 30 * MIN, sessionTtlMs: 2 * 60 * MIN });
    const token = (await login('op')).token;
    for (let i = 0; i < 5; i++) {
      t += 20 * MIN;
      expect((await as(token, 'GET', '/api/audit')).statusCode).toBe(200);
    }
    t += 20 * MIN;
    const res = await as(token, 'GET', '/api/audit');
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe('RS_ERR_SESSION_EXPIRED');
  });
});

describe('one-time passwords', () => {
  it('a must-change account may only change its password; afterwards it works normally', async () => {
    const { store, login, as } = await setup();
    const added = await addUser(store, { name: 'boss', role: 'admin', mustChange: true });
    const first = await login('boss', added.generatedPassword);
    expect(first.res.json().user).toMatchObject({ name: 'boss', must_change_password: true });
    const blocked = await as(first.token, 'GET', '/api/users');
    expect(blocked.statusCode).toBe(403);
    expect(blocked.json().code).toBe('RS_ERR_PASSWORD_CHANGE_REQUIRED');
    const changed = await as(first.token, 'POST', '/api/me/password', {
      current_password: added.generatedPassword,
      new_password: 'the-boss-own-phrase',
    });
    expect(changed.statusCode).toBe(200);
    expect(changed.json().user.must_change_password).toBe(false);
    expect((await as(first.token, 'GET', '/api/users')).statusCode).toBe(200);
  });
});
