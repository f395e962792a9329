import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { catalogue } from '../../devices/index.ts';
import { simulators } from '../../simulators/index.ts';
import { createAlarmEngine } from '../../src/alarms/engine.ts';
import { parseConfig } from '../../src/config/load.ts';
import { buildApp, type RadscreenApp } from '../../src/server/app.ts';
import { addUser } from '../../src/server/auth/provision.ts';
import { type AuthStore, openAuthStore } from '../../src/server/auth/store.ts';
import { createLiveState } from '../../src/server/live-state.ts';
import { createTrainingDesk } from '../../src/training/desk.ts';
import { toScenarioYaml } from '../../src/training/replay-format.ts';
import type { RunReport } from '../../src/training/report.ts';
import { openTrainingRunStore } from '../../src/training/run-store.ts';
import { SCENARIO_DIR } from '../../src/training/scenario.ts';
import { createTrainingService } from '../../src/training/service.ts';
import { waitFor } from '../support/wait.ts';

/** Trainee runs through the real app (inject): assignment, the trainee's actions, the report, isolation from live. */
const config = parseConfig('station: { id: st1 }\n', { catalogue, env: {} });
let store: AuthStore;
let app: RadscreenApp;

afterEach(async () => {
  await app?.close();
  store?.close();
});

async function setUp(dir?: string) {
  store = openAuthStore();
  for (const [name, role] of [
    ['trainer', 'trainer'],
    ['alice', 'operator'],
    ['bob', 'operator'],
  ] as const)
    await addUser(store, { name, role, password: `${name}-password-long` });
  const engine = createAlarmEngine({ now: Date.now });
  const state = createLiveState({ config, catalogue, engine, now: Date.now });
  app = await buildApp({
    state,
    engine,
    config,
    auth: store,
    ...(dir
      ? {
          training: createTrainingService({ dir }),
          trainingDesk: createTrainingDesk({ store: openTrainingRunStore(), config, catalogue, simulators, dir }),
        }
      : {}),
  });
  const as = (user: string) => ({ authorization: `Bearer ${store.createSession(user, Date.now() + 3_600_000, Date.now())}` });
  return { engine, trainer: as('trainer'), alice: as('alice'), bob: as('bob') };
}

describe('trainee runs', () => {
  it('a trainer assigns a run to alice; alice works its alarm; the report scores her; nothing reaches the live engine', async () => {
    const { engine, trainer, alice, bob } = await setUp();
    const kpisBefore = await app.inject({ method: 'GET', url: '/api/alarms/kpis' });
    const start = await app.inject({
      method: 'POST',
      url: '/api/training/scenarios/xray-interlock-beam-on/runs',
      headers: trainer,
      payload: { trainee: 'alice', speed: 10 },
    });
    expect(start.statusCode, start.body).toBe(200);
    const run = (start.json() as { run: RunReport }).run.run;
    const refused = await app.inject({
      method: 'POST',
      url: '/api/training/scenarios/xray-interlock-beam-on/runs',
      headers: alice,
      payload: { trainee: 'alice' },
    });
    expect(refused.statusCode).toBe(403);

    let alarmId = '';
    await waitFor(
      async () => {
        const res = await app.inject({ method: 'GET', url: `/api/training/runs/${run}/alarms`, headers: alice });
        const a = (res.json() as { alarms: { id: string; rule: string }[] }).alarms.find((x) => x.rule === 'xray_interlock_open_beam_on');
        alarmId = a?.id ?? '';
        return Boolean(a);
      },
      { timeoutMs: 10_000 },
    );
    const act = (headers: Record<string, string>, action: string, payload: object = {}) =>
      app.inject({ method: 'POST', url: `/api/training/runs/${run}/alarms/${encodeURIComponent(alarmId)}/${action}`, headers, payload });
    expect((await act(bob, 'acknowledge')).statusCode, "bob may not work alice's run").toBe(403);
    expect((await act(alice, 'view_evidence')).statusCode).toBe(200);
    expect((await act(alice, 'acknowledge')).statusCode).toBe(200);
    expect((await act(alice, 'disposition', { value: 'true' })).statusCode).toBe(200);
    expect(
      (await app.inject({ method: 'POST', url: `/api/training/runs/${run}/checklist/call-rpo`, headers: alice, payload: {} })).statusCode,
    ).toBe(200);

    let report: RunReport | undefined;
    await waitFor(
      async () => {
        report = (await app.inject({ method: 'GET', url: `/api/training/runs/${run}/report`, headers: trainer })).json() as RunReport;
        return report.state === 'finished';
      },
      { timeoutMs: 15_000 },
    );
    const r = report as RunReport;
    expect(r.trainee).toBe('alice');
    expect(r.actions.map((a) => a.kind)).toEqual(['view_evidence', 'acknowledge', 'disposition', 'checklist']);
    expect(r.actions.find((a) => a.kind === 'acknowledge')?.response_s).toBeGreaterThanOrEqual(0);
    expect(r.alarms.find((a) => a.id === alarmId)?.response_s).not.toBeNull();
    expect(r.expected.find((x) => x.id === 'ack-interlock')?.status).toBe('met');
    expect(r.score.max).toBeGreaterThan(0);
    expect(r.score.percent).toBeGreaterThan(0);

    const html = await app.inject({ method: 'GET', url: `/api/training/runs/${run}/report.html`, headers: alice });
    expect(html.headers['content-type']).toContain('text/html');
    expect(html.body).toContain(`Score ${r.score.percent} %`);
    expect((await app.inject({ method: 'GET', url: `/api/training/runs/${run}/report`, headers: bob })).statusCode).toBe(404);
    const list = (await app.inject({ method: 'GET', url: '/api/training/trainees/alice/runs', headers: trainer })).json() as {
      runs: { run: string }[];
    };
    expect(list.runs.map((x) => x.run)).toContain(run);

    expect(engine.list()).toEqual([]);
    const kpisAfter = await app.inject({ method: 'GET', url: '/api/alarms/kpis' });
    expect(kpisAfter.json()).toEqual(kpisBefore.json());
  }, 30_000);

  it('self-paced: alice starts alone, ends early; the trainer sees her report', async () => {
    const { trainer, alice } = await setUp();
    const start = await app.inject({
      method: 'POST',
      url: '/api/training/scenarios/medical-isotope-parcel/self',
      headers: alice,
      payload: { speed: 5 },
    });
    expect(start.statusCode, start.body).toBe(200);
    const run = (start.json() as { run: RunReport }).run;
    expect(run.mode).toBe('self_paced');
    const end = await app.inject({ method: 'POST', url: `/api/training/runs/${run.run}/end`, headers: alice, payload: {} });
    expect(end.statusCode, end.body).toBe(200);
    const r = (await app.inject({ method: 'GET', url: `/api/training/runs/${run.run}/report`, headers: trainer })).json() as RunReport;
    expect([r.trainee, r.state, r.mode]).toEqual(['alice', 'stopped', 'self_paced']);
    expect(r.expected.map((x) => x.status)).toEqual(['not_raised', 'not_raised']);
  });

  it('a recorded replay is listed for trainee runs only (Assign, not Start) and a trainer assigns it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rs-replay-desk-'));
    copyFileSync(join(SCENARIO_DIR, 'xray-interlock-beam-on.yaml'), join(dir, 'xray-interlock-beam-on.yaml'));
    // A recorded source pass: 1 Hz readings, 5 µSv/h from 10 s to 30 s.
    const replay = Array.from({ length: 40 }, (_, i) => ({
      t_s: i + 1,
      values: { dose_rate: i >= 9 && i < 30 ? 5 : 0.1 },
      quality: 'good',
    }));
    const recorded = {
      name: 'recorded-pass',
      title: 'Recorded pass',
      description: 'd',
      duration_s: 45,
      devices: [{ id: 'device-1', profile: 'mightyohm-geiger', replay }],
    };
    writeFileSync(join(dir, 'recorded-pass.yaml'), toScenarioYaml(recorded));
    const { trainer, alice } = await setUp(dir);
    const list = (await app.inject({ method: 'GET', url: '/api/training/scenarios' })).json() as {
      scenarios: { name: string; broker: boolean; trainee: boolean }[];
    };
    expect(list.scenarios.map((x) => [x.name, x.broker, x.trainee])).toEqual([
      ['recorded-pass', false, true],
      ['xray-interlock-beam-on', true, true],
    ]);
    const start = await app.inject({
      method: 'POST',
      url: '/api/training/scenarios/recorded-pass/runs',
      headers: trainer,
      payload: { trainee: 'alice', speed: 20 },
    });
    expect(start.statusCode, start.body).toBe(200);
    const run = (start.json() as { run: RunReport }).run.run;
    await waitFor(
      async () => {
        const res = await app.inject({ method: 'GET', url: `/api/training/runs/${run}/alarms`, headers: alice });
        return (res.json() as { alarms: { rule: string; device: string }[] }).alarms.some(
          (a) => a.rule === 'dose_rate_high' && a.device === 'training-device-1',
        );
      },
      { timeoutMs: 10_000 },
    );
  });
});
