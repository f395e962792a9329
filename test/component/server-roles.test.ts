import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogue } from '../../devices/index.ts';
import { simulators } from '../../simulators/index.ts';
import { createAlarmEngine } from '../../src/alarms/engine.ts';
import { type AlarmRule, baseEvidence, numberOf } from '../../src/alarms/rule.ts';
import { openCalibrationStore } from '../../src/calibration/store.ts';
import { parseConfig } from '../../src/config/load.ts';
import type { Reading } from '../../src/core/reading.ts';
import { buildApp, type RadscreenApp } from '../../src/server/app.ts';
import { hashPassword } from '../../src/server/auth/passwords.ts';
import { addUser } from '../../src/server/auth/provision.ts';
import { PERMISSIONS, type Role, RoleSchema } from '../../src/server/auth/roles.ts';
import { type AuthStore, openAuthStore } from '../../src/server/auth/store.ts';
import { createLiveState } from '../../src/server/live-state.ts';
import { createTrainingDesk, type TrainingDesk } from '../../src/training/desk.ts';
import { openTrainingRunStore } from '../../src/training/run-store.ts';
import type { RunProgress } from '../../src/training/runner.ts';
import { createTrainingService } from '../../src/training/service.ts';
import { waitFor } from '../support/wait.ts';

/**
 * Role by route: every mutating route the app registers (collected by the guard's onRoute hook,
 * so a new route cannot be forgotten) must refuse an anonymous caller (401) and every role that
 * lacks its permission (403) without changing anything, and accept the role that holds it.
 */
const CONFIG = `
station: { id: st1, name: Roles }
devices:
  - id: geiger-1
    profile: mightyohm-geiger
    simulate: {}
`;
const config = parseConfig(CONFIG, { catalogue, env: {} });

/** A latching dose-rate rule, so that reset has something to reset. */
const latching: AlarmRule = {
  id: 'test_latch',
  latching: true,
  evaluate(r, active) {
    const v = numberOf(r, 'dose_rate');
    if (v === undefined) return { action: 'none' };
    const evidence = baseEvidence(r, 'dose_rate', v, 'uSv/h', 1);
    if (v > 1) return active ? { action: 'hold', evidence } : { action: 'raise', evidence, severity: 'high', message: 'dose rate high' };
    return active ? { action: 'clear', evidence, message: 'back to normal' } : { action: 'none' };
  },
};

let t = 1_800_000_000_000;
const now = () => t;

function reading(dose: number): Reading {
  t += 1000;
  return {
    station: 'st1',
    device: 'geiger-1',
    profile: 'mightyohm-geiger',
    kind: 'dosimeter',
    ts: t,
    ts_source: 'agent',
    values: { dose_rate: dose },
    quality: 'good',
    source: 'live',
  };
}

/** Training with stand-in runs: this test checks who may start and stop, not the pipeline (test/simulator/training-runner). */
function fakeTraining() {
  return createTrainingService({
    now,
    startRun: async (scenario, { runId }) => {
      let state: RunProgress['state'] = 'running';
      let resolve: (p: RunProgress) => void = () => {};
      const done = new Promise<RunProgress>((r) => {
        resolve = r;
      });
      const progress = (): RunProgress => ({
        ...{ run: runId, scenario: scenario.name, state, elapsed_s: 0, duration_s: scenario.duration_s },
        ...{ readings_published: 0, alarms_raised: 0, last_action: null, error: null },
      });
      const stop = async () => {
        state = 'stopped';
        resolve(progress());
        return progress();
      };
      return { id: runId, devices: [], mode: 'memory', progress, done, stop };
    },
  });
}

/** A fresh engine and app sharing the one auth store (so sessions carry over). */
async function fixture(store: AuthStore) {
  const engine = createAlarmEngine({ now, rules: [latching] });
  const state = createLiveState({ config, catalogue, engine, now });
  const training = fakeTraining();
  const calibrations = openCalibrationStore();
  const desk = createTrainingDesk({ store: openTrainingRunStore(), config, catalogue, simulators });
  const app = await buildApp({ state, engine, config, auth: store, now, training, calibrations, trainingDesk: desk });
  app.addHook('onClose', async () => calibrations.close());
  const pendingCalibration = () =>
    calibrations.requests.create(
      {
        device: 'geiger-1',
        profile: 'mightyohm-geiger',
        kind: 'sensitivity',
        factor: 300,
        calibrated_at: t,
        due: '2099-01-01',
        reference: { nuclide: 'Cs-137', dose_rate_usvh: 10, certificate: 'cert-1' },
        technician: 'setup',
        comment: null,
        recorded_at: t,
      },
      { min: 87, max: 263 },
      t,
    ).request_id;
  const feed = (dose: number) => engine.evaluate(reading(dose));
  // Clear first: a still-active alarm would swallow the raise (one active alarm per device and rule).
  const raise = () => {
    feed(0.1);
    const id = feed(2).find((tr) => tr.kind === 'raised')?.alarm.id;
    if (!id) throw new Error('fixture did not raise an alarm');
    return id;
  };
  return { app, engine, feed, raise, training, pendingCalibration, desk };
}

/** A trainee run of the interlock scenario for the user named like `role` (its trainee), at the fastest speed. */
function traineeRun(desk: TrainingDesk, role: Role): string {
  return desk.start('xray-interlock-beam-on', { trainee: role, started_by: role, speed: 100, mode: 'self_paced' }).run;
}

/** The run's first alarm, once its engine has raised one. */
async function firstRunAlarm(desk: TrainingDesk, run: string): Promise<string> {
  let id = '';
  await waitFor(
    () => {
      id = desk.alarms(run)[0]?.id ?? '';
      return id !== '';
    },
    { timeoutMs: 15_000 },
  );
  return id;
}
type Fixture = Awaited<ReturnType<typeof fixture>>;

/** Who may call each guarded route, written out here rather than read from PERMISSIONS, so a widened permission fails the test. */
const ALL: Role[] = ['operator', 'technician', 'trainer', 'admin'];
const EXPECTED: Record<string, Role[]> = {
  'POST /api/logout': ALL,
  'POST /api/users': ['admin'],
  'POST /api/alarms/:id/ack': ['operator'],
  'POST /api/alarms/:id/shelve': ['operator'],
  'POST /api/alarms/:id/unshelve': ['operator'],
  'POST /api/alarms/:id/silence': ['operator'],
  'POST /api/alarms/:id/reset': ['operator'],
  'POST /api/alarms/:id/disposition': ['operator'],
  'POST /api/devices/:id/out-of-service': ['technician'],
  'POST /api/devices/:id/calibrations': ['technician'],
  'POST /api/calibration-requests/:id/approve': ['technician', 'admin'],
  'POST /api/calibration-requests/:id/reject': ['technician', 'admin'],
  'POST /api/training/scenarios/:name/start': ['trainer'],
  'POST /api/training/runs/:id/stop': ['trainer'],
  'POST /api/training/scenarios/:name/runs': ['trainer'],
  'POST /api/training/scenarios/:name/self': ['operator', 'technician'],
  'POST /api/training/runs/:id/alarms/:alarm/:action': ['operator', 'technician'],
  'POST /api/training/runs/:id/devices/:device/out-of-service': ['operator', 'technician'],
  'POST /api/training/runs/:id/checklist/:item': ['operator', 'technician'],
  'POST /api/training/runs/:id/end': ALL,
  'POST /api/users/:name/disable': ['admin'],
  'POST /api/users/:name/enable': ['admin'],
  'DELETE /api/users/:name': ['admin'],
  'POST /api/me/password': ALL,
};

/** A user to disable, enable or delete, made in the app's own store. */
async function victim(f: Fixture, disabled = false): Promise<string> {
  const name = `victim${t++}`;
  await addUser(f.app.radscreenAuth.store, { name, role: 'trainer' });
  if (disabled) f.app.radscreenAuth.store.setUserDisabled(name, true);
  return name;
}

/** Every role gets the same current password, so one request body fits whichever role sends it. */
const SHARED_CURRENT = 'shared-current-pass-for-roles';
let sharedHash: string | undefined;

/**
 * How to prepare a target and a valid request for each guarded route, for the role that will send
 * it; `id` fills in `:id` (or `:name`), or `url` is the whole path for routes with more parameters.
 */
type Prepared = { id: string; body: unknown; url?: string };
const CASES: Record<string, (f: Fixture, role: Role) => Prepared | Promise<Prepared>> = {
  'POST /api/logout': () => ({ id: '', body: {} }),
  'POST /api/users': () => ({ id: '', body: { name: `u${t++}`, role: 'trainer' } }),
  'POST /api/alarms/:id/ack': (f) => ({ id: f.raise(), body: { comment: 'seen on camera' } }),
  'POST /api/alarms/:id/shelve': (f) => ({ id: f.raise(), body: { duration_s: 600, comment: 'known source in store room' } }),
  'POST /api/alarms/:id/unshelve': (f) => {
    const id = f.raise();
    f.engine.shelve(id, { user: 'setup', until: t + 600_000, comment: 'setup' });
    return { id, body: {} };
  },
  'POST /api/alarms/:id/silence': (f) => ({ id: f.raise(), body: { duration_s: 30 } }),
  'POST /api/alarms/:id/reset': (f) => {
    const id = f.raise();
    f.feed(0.1);
    return { id, body: { comment: 'parcel inspected' } };
  },
  'POST /api/alarms/:id/disposition': (f) => ({ id: f.raise(), body: { value: 'innocent', nuclide: 'K-40', comment: 'fertiliser' } }),
  'POST /api/devices/:id/out-of-service': () => ({ id: 'geiger-1', body: { on: true, comment: 'calibration' } }),
  'POST /api/devices/:id/calibrations': () => ({
    id: 'geiger-1',
    body: { factor: 171, due: '2099-01-01', reference: { nuclide: 'Cs-137', dose_rate_usvh: 10, certificate: 'cert-1' } },
  }),
  // A request by someone else, so that each approving role is a second person.
  'POST /api/calibration-requests/:id/approve': (f) => ({ id: f.pendingCalibration(), body: {} }),
  'POST /api/calibration-requests/:id/reject': (f) => ({ id: f.pendingCalibration(), body: { comment: 'wrong tube' } }),
  'POST /api/training/scenarios/:name/start': () => ({ id: 'xray-interlock-beam-on', body: { speed: 2 } }),
  'POST /api/training/runs/:id/stop': async (f) => ({
    id: (await f.training.start('geiger-cable-pulled', { user: 'setup' })).run,
    body: {},
  }),
  'POST /api/training/scenarios/:name/runs': () => ({ id: 'xray-interlock-beam-on', body: { trainee: 'operator', speed: 100 } }),
  'POST /api/training/scenarios/:name/self': () => ({ id: 'xray-interlock-beam-on', body: { speed: 100 } }),
  // Trainee routes: the run's trainee is the acting user, so each role gets a run of its own.
  'POST /api/training/runs/:id/alarms/:alarm/:action': async (f, role) => {
    const run = traineeRun(f.desk, role);
    const alarm = await firstRunAlarm(f.desk, run);
    return { id: run, body: {}, url: `/api/training/runs/${run}/alarms/${encodeURIComponent(alarm)}/view_evidence` };
  },
  'POST /api/training/runs/:id/devices/:device/out-of-service': (f, role) => {
    const run = traineeRun(f.desk, role);
    return { id: run, body: { on: true }, url: `/api/training/runs/${run}/devices/training-parcel-scanner/out-of-service` };
  },
  'POST /api/training/runs/:id/checklist/:item': (f, role) => {
    const run = traineeRun(f.desk, role);
    return { id: run, body: {}, url: `/api/training/runs/${run}/checklist/call-rpo` };
  },
  'POST /api/training/runs/:id/end': (f, role) => ({ id: traineeRun(f.desk, role), body: {} }),
  'POST /api/users/:name/disable': async (f) => ({ id: await victim(f), body: {} }),
  'POST /api/users/:name/enable': async (f) => ({ id: await victim(f, true), body: {} }),
  'DELETE /api/users/:name': async (f) => ({ id: await victim(f), body: undefined }),
  'POST /api/me/password': async (f) => {
    sharedHash ??= await hashPassword(SHARED_CURRENT);
    for (const role of RoleSchema.options) f.app.radscreenAuth.store.setPassword(role, sharedHash);
    return { id: '', body: { current_password: SHARED_CURRENT, new_password: 'a-brand-new-pass-phrase' } };
  },
};

describe('role by route', () => {
  const store = openAuthStore();
  let routes: RadscreenApp['radscreenAuth']['routes'] = [];

  /** A fresh session per call: logout would otherwise end the session later checks rely on. */
  function sessionOf(role: Role): string {
    return store.createSession(role, t + 3_600_000, t);
  }

  beforeAll(async () => {
    for (const role of RoleSchema.options) await addUser(store, { name: role, role, password: `${role}-password` });
    const f = await fixture(store);
    routes = f.app.radscreenAuth.routes;
    await f.app.close();
  });
  afterAll(() => store.close());

  it('knows every guarded route and has a case for each', () => {
    const guarded = routes.filter((r) => r.access.permission).map((r) => `${r.method} ${r.url}`);
    expect(guarded.length).toBeGreaterThanOrEqual(9);
    expect(guarded.sort()).toEqual(Object.keys(CASES).sort());
    // The only open mutating route is login.
    expect(routes.filter((r) => r.access.public).map((r) => `${r.method} ${r.url}`)).toEqual(['POST /api/login']);
  });

  for (const [key, prepare] of Object.entries(CASES)) {
    it(`${key}: 401 without login, 403 for the wrong roles, success for the right one`, async () => {
      const route = routes.find((r) => `${r.method} ${r.url}` === key);
      expect(route).toBeDefined();
      const permission = route?.access.permission as keyof typeof PERMISSIONS | 'authenticated';
      const allowed = EXPECTED[key] as Role[];
      // The route's declared permission must grant exactly the expected roles.
      expect(permission === 'authenticated' ? ALL : [...PERMISSIONS[permission]]).toEqual(allowed);
      const f = await fixture(store);
      try {
        const urlOf = (p: Prepared) => p.url ?? key.slice(key.indexOf(' ') + 1).replace(/:(id|name)\b/, encodeURIComponent(p.id));
        const first = await prepare(f, allowed[0] as Role);
        const { id, body } = first;
        const url = urlOf(first);
        const before = id && key.includes('/alarms/') ? f.engine.history(id).length : 0;
        const method = key.slice(0, key.indexOf(' ')) as 'POST' | 'DELETE';
        const send = (role?: Role) =>
          f.app.inject({
            method,
            url,
            payload: body as object,
            headers: role ? { authorization: `Bearer ${sessionOf(role)}` } : {},
          });

        const anon = await send();
        expect(anon.statusCode).toBe(401);
        expect(anon.json().code).toBe('RS_ERR_AUTH_REQUIRED');
        // A cookie with a made-up token is no better than none.
        const forged = await f.app.inject({ method, url, payload: body as object, headers: { cookie: 'rs_session=forged' } });
        expect(forged.statusCode).toBe(401);

        for (const role of RoleSchema.options.filter((r) => !allowed.includes(r))) {
          const res = await send(role);
          expect(res.statusCode, `${role} on ${key}`).toBe(403);
          expect(res.json().code).toBe('RS_ERR_FORBIDDEN');
        }
        if (before) expect(f.engine.history(id).length).toBe(before);

        for (const role of allowed) {
          // Alarm actions change state, so each allowed role gets a freshly prepared target.
          const target =
            role === allowed[0]
              ? { id, url }
              : await (async () => {
                  const p = await prepare(f, role);
                  return { id: p.id, url: urlOf(p) };
                })();
          const res = await f.app.inject({
            method,
            url: target.url,
            payload: body as object,
            headers: { authorization: `Bearer ${sessionOf(role)}` },
          });
          expect(res.statusCode, `${role} on ${key}: ${res.body}`).toBe(200);
        }
        if (before) expect(f.engine.history(id).length).toBeGreaterThan(before);

        const audit = store
          .listAudit({ limit: 1000 })
          .filter((e) => e.ts === t || e.target === (id || null) || e.action === route?.access.action);
        expect(audit.some((e) => !e.ok && e.user === null)).toBe(true);
        if (allowed.length < RoleSchema.options.length) expect(audit.some((e) => !e.ok && e.user !== null)).toBe(true);
        expect(audit.some((e) => e.ok && allowed.includes(e.role as Role))).toBe(true);
      } finally {
        await f.app.close();
      }
    });
  }

  it('reading needs no login; the audit log and the user list do', async () => {
    const f = await fixture(store);
    const id = f.raise();
    for (const url of [
      '/',
      '/api/devices',
      '/api/alarms',
      '/api/alarms/kpis',
      `/api/alarms/${encodeURIComponent(id)}`,
      '/api/me',
      '/api/training/scenarios',
      '/api/training/runs',
      '/docs/json',
    ])
      expect((await f.app.inject({ method: 'GET', url })).statusCode, url).toBe(200);
    // /healthz answers 503 while the fixture stores nothing; what matters here is that it needs no login.
    expect((await f.app.inject({ method: 'GET', url: '/healthz' })).json()).toHaveProperty('status');
    expect((await f.app.inject({ method: 'GET', url: '/api/audit' })).statusCode).toBe(401);
    expect((await f.app.inject({ method: 'GET', url: '/api/users' })).statusCode).toBe(401);
    const as = (role: Role, url: string) => f.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${sessionOf(role)}` } });
    expect((await as('operator', '/api/audit')).statusCode).toBe(200);
    expect((await as('admin', '/api/audit')).statusCode).toBe(200);
    expect((await as('trainer', '/api/audit')).statusCode).toBe(403);
    expect((await as('technician', '/api/audit')).statusCode).toBe(403);
    expect((await as('operator', '/api/users')).statusCode).toBe(403);
    const names = ((await as('admin', '/api/users')).json().users as { name: string }[]).map((u) => u.name);
    expect(names).toEqual(expect.arrayContaining(['operator', 'technician', 'trainer', 'admin']));
    await f.app.close();
  });

  it('refuses an expired session', async () => {
    const f = await fixture(store);
    const id = f.raise();
    const token = store.createSession('operator', t + 1, t);
    t += 10;
    const res = await f.app.inject({
      method: 'POST',
      url: `/api/alarms/${encodeURIComponent(id)}/ack`,
      payload: {},
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.statusCode).toBe(401);
    await f.app.close();
  });
});

describe('alarm KPIs', () => {
  it('are served on /api/alarms/kpis and on /metrics', async () => {
    const store = openAuthStore();
    const f = await fixture(store);
    const id = f.raise();
    t += 5000;
    f.engine.acknowledge(id, { user: 'op' });
    const k = await f.app.inject({ method: 'GET', url: '/api/alarms/kpis?window_h=1' });
    expect(k.statusCode).toBe(200);
    expect(k.json()).toMatchObject({
      window_h: 1,
      raised: 1,
      acknowledged: 1,
      time_to_ack_s: { p50: 5 },
      flood: { station: 'st1', active: false },
    });
    const m = await f.app.inject({ method: 'GET', url: '/metrics' });
    expect(m.statusCode).toBe(200);
    expect(m.headers['content-type']).toMatch(/^text\/plain/);
    expect(m.body).toMatch(/^radscreen_alarms_open\{state="all"\} 1$/m);
    expect(m.body).toMatch(/^radscreen_alarms_open\{state="unacknowledged"\} 0$/m);
    expect(m.body).toMatch(/^radscreen_alarm_flood_active\{station="st1"\} 0$/m);
    expect((await f.app.inject({ method: 'GET', url: '/api/alarms/kpis?window_h=0' })).statusCode).toBe(400);
    await f.app.close();
    store.close();
  });
});
