import { afterEach, describe, expect, it } from 'vitest';
import { catalogue } from '../../devices/index.ts';
import { createAlarmEngine } from '../../src/alarms/engine.ts';
import { parseConfig } from '../../src/config/load.ts';
import { buildApp, type RadscreenApp } from '../../src/server/app.ts';
import { addUser } from '../../src/server/auth/provision.ts';
import { type AuthStore, openAuthStore } from '../../src/server/auth/store.ts';
import { createLiveState } from '../../src/server/live-state.ts';
import type { RunProgress, ScenarioRun } from '../../src/training/runner.ts';
import { createTrainingService, type StartRun } from '../../src/training/service.ts';

/** Trainer API through `inject`: listing, one run at a time, refusals mapped and audited, OpenAPI. */
const config = parseConfig('station: { id: st1 }\n', { catalogue, env: {} });
let store: AuthStore;
let app: RadscreenApp;

/** Runs that only record what they were asked; `finishAll` ends them as if their time ran out. */
function recordingRuns() {
  const started: { scenario: string; speed: number; stop: () => Promise<RunProgress> }[] = [];
  const finishers: (() => void)[] = [];
  const startRun: StartRun = async (scenario, { runId, speed }) => {
    let state: RunProgress['state'] = 'running';
    let resolve: (p: RunProgress) => void = () => {};
    const done = new Promise<RunProgress>((r) => {
      resolve = r;
    });
    const progress = (): RunProgress => ({
      ...{ run: runId, scenario: scenario.name, state, elapsed_s: 1, duration_s: scenario.duration_s },
      ...{ readings_published: 3, alarms_raised: 0, last_action: null, error: null },
    });
    const end = (s: RunProgress['state']) => {
      state = s;
      resolve(progress());
      return progress();
    };
    finishers.push(() => end('finished'));
    const run: ScenarioRun = { id: runId, devices: ['training-x'], mode: 'memory', progress, done, stop: async () => end('stopped') };
    started.push({ scenario: scenario.name, speed, stop: run.stop });
    return run;
  };
  return {
    startRun,
    started,
    finishAll: () => {
      for (const f of finishers) f();
    },
  };
}

async function setUp(startRun?: StartRun) {
  store = openAuthStore();
  await addUser(store, { name: 'trainer', role: 'trainer', password: 'trainer-password' });
  const engine = createAlarmEngine({ now: Date.now });
  const state = createLiveState({ config, catalogue, engine, now: Date.now });
  const training = createTrainingService(startRun ? { startRun } : {});
  app = await buildApp({ state, engine, config, auth: store, training });
  const trainer = { authorization: `Bearer ${store.createSession('trainer', Date.now() + 3_600_000, Date.now())}` };
  return { trainer };
}

afterEach(async () => {
  await app?.close();
  store?.close();
});

describe('trainer API', () => {
  it('lists the shipped scenarios to anyone, with their training device ids', async () => {
    await setUp();
    const res = await app.inject({ method: 'GET', url: '/api/training/scenarios' });
    expect(res.statusCode).toBe(200);
    const body = res.json() as { available: boolean; scenarios: { name: string; devices: { id: string }[] }[] };
    expect(body.available).toBe(false);
    const scanner = body.scenarios.find((s) => s.name === 'xray-interlock-beam-on');
    expect(scanner?.devices).toEqual([{ id: 'training-parcel-scanner', profile: 'xray-parcel-scanner' }]);
  });

  it('runs one scenario at a time, stops it, and audits starts, stops and refusals', async () => {
    const runs = recordingRuns();
    const { trainer } = await setUp(runs.startRun);
    const start = (name: string, body: object = {}) =>
      app.inject({ method: 'POST', url: `/api/training/scenarios/${name}/start`, payload: body, headers: trainer });
    const first = await start('medical-isotope-parcel', { speed: 5 });
    expect(first.statusCode).toBe(200);
    const run = first.json().run as { run: string; state: string; started_by: string; speed: number };
    expect(run).toMatchObject({ state: 'running', started_by: 'trainer', speed: 5, scenario: 'medical-isotope-parcel' });
    expect(runs.started).toEqual([expect.objectContaining({ scenario: 'medical-isotope-parcel', speed: 5 })]);

    const busy = await start('weak-cs137-parcel');
    expect(busy.statusCode).toBe(409);
    expect(busy.json()).toMatchObject({ code: 'RS_ERR_CONFLICT', message: expect.stringMatching(/still running/) });
    expect((await start('no-such-scenario')).json()).toMatchObject({ statusCode: 404, code: 'RS_ERR_NOT_FOUND' });
    expect((await start('weak-cs137-parcel', { speed: 0 })).json()).toMatchObject({ statusCode: 400, code: 'RS_ERR_HTTP_BODY' });

    const list = (await app.inject({ method: 'GET', url: '/api/training/runs' })).json() as { runs: { run: string; state: string }[] };
    expect(list.runs.map((r) => [r.run, r.state])).toEqual([[run.run, 'running']]);

    const stop = await app.inject({ method: 'POST', url: `/api/training/runs/${run.run}/stop`, payload: {}, headers: trainer });
    expect(stop.json().run).toMatchObject({ state: 'stopped', stopped_by: 'trainer' });
    expect(stop.json().run.ended_at).toEqual(expect.any(Number));
    const again = await app.inject({ method: 'POST', url: `/api/training/runs/${run.run}/stop`, payload: {}, headers: trainer });
    expect(again.statusCode).toBe(200);
    const unknown = await app.inject({ method: 'POST', url: '/api/training/runs/nope/stop', payload: {}, headers: trainer });
    expect(unknown.statusCode).toBe(404);

    // A run that ends by itself frees the desk for the next one.
    expect((await start('weak-cs137-parcel')).statusCode).toBe(200);
    runs.finishAll();
    await new Promise((r) => setImmediate(r));
    expect((await start('geiger-cable-pulled')).statusCode).toBe(200);

    const audit = store.listAudit({ limit: 100 }).filter((e) => e.action.startsWith('training.'));
    expect(audit.filter((e) => e.ok).map((e) => [e.action, e.target])).toEqual(
      expect.arrayContaining([
        ['training.start', 'medical-isotope-parcel'],
        ['training.stop', run.run],
      ]),
    );
    expect(audit.some((e) => !e.ok && e.target === 'weak-cs137-parcel' && /still running/.test(String(e.detail.refused)))).toBe(true);
  });

  it('answers 503 when the server has no broker to run scenarios on', async () => {
    const { trainer } = await setUp();
    const res = await app.inject({ method: 'POST', url: '/api/training/scenarios/weak-cs137-parcel/start', payload: {}, headers: trainer });
    expect(res.statusCode).toBe(503);
    expect(res.json().code).toBe('RS_ERR_TRAINING_UNAVAILABLE');
  });

  it('documents the routes in OpenAPI', async () => {
    await setUp();
    const paths = Object.keys((await app.inject({ method: 'GET', url: '/docs/json' })).json().paths);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/api/training/scenarios',
        '/api/training/runs',
        '/api/training/scenarios/{name}/start',
        '/api/training/runs/{id}/stop',
      ]),
    );
  });
});

describe('training run boundaries', () => {
  it('announces the run devices before a run and again once it has ended', async () => {
    const runs = recordingRuns();
    const calls: string[] = [];
    const service = createTrainingService({
      startRun: runs.startRun,
      onRunStarting: (devices) => void calls.push(`starting ${devices.join(',')}`),
      onRunEnded: (devices) => void calls.push(`ended ${devices.join(',')}`),
    });
    await service.start('xray-interlock-beam-on', { user: 'trainer' });
    expect(calls).toEqual(['starting training-parcel-scanner']);
    runs.finishAll();
    await new Promise((r) => setImmediate(r));
    expect(calls).toEqual(['starting training-parcel-scanner', 'ended training-x']);
  });

  it('lets the live state forget a device and tells its listeners', () => {
    const engine = createAlarmEngine({ now: Date.now });
    const state = createLiveState({ config, catalogue, engine, now: Date.now });
    const removed: string[] = [];
    state.on('removed', (id) => void removed.push(id));
    state.applyStatus({
      v: 1,
      station: 'st1',
      device: 'training-x',
      profile: 'mightyohm-geiger',
      state: 'online',
      ts: Date.now(),
      detail: {},
    });
    expect(state.device('training-x')).toBeDefined();
    state.removeDevice('training-x');
    state.removeDevice('training-x');
    expect(state.device('training-x')).toBeUndefined();
    expect(removed).toEqual(['training-x']);
    // Its agent's parting offline status does not bring it back; a new run's online status does.
    const status = { v: 1 as const, station: 'st1', device: 'training-x', profile: 'mightyohm-geiger', ts: Date.now(), detail: {} };
    state.applyStatus({ ...status, state: 'offline' });
    expect(state.device('training-x')).toBeUndefined();
    state.applyStatus({ ...status, state: 'online' });
    expect(state.device('training-x')?.reported_status).toBe('online');
  });
});
