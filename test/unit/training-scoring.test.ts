import { chmodSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { catalogue } from '../../devices/index.ts';
import { simulators } from '../../simulators/index.ts';
import { AlarmActionError } from '../../src/alarms/lifecycle.ts';
import { parseConfig } from '../../src/config/load.ts';
import { startEngineRun } from '../../src/training/engine-run.ts';
import { buildReport } from '../../src/training/report.ts';
import { openTrainingRunStore } from '../../src/training/run-store.ts';
import { listScenarios, type Scenario } from '../../src/training/scenario.ts';
import { createTraineeSession } from '../../src/training/trainee-session.ts';

const T0 = 1_800_000_000_000;
const config = parseConfig('station: { id: st1 }\ndevices: []\n', { catalogue, env: {} });
const shipped = (name: string) => listScenarios().find((e) => e.scenario?.name === name)?.scenario as Scenario;

/** A run whose clock only the test moves (speed so low that pacing never advances it). */
function manualRun(name: string) {
  const run = startEngineRun({ scenario: shipped(name), config, catalogue, simulators, speed: 1e-9, startMs: T0 });
  const session = createTraineeSession(run);
  const to = (s: number) => run.clock.advanceTo(T0 + s * 1000);
  const report = () =>
    buildReport({
      run: run.id,
      scenario: run.scenario,
      trainee: 'alice',
      started_by: 'trainer1',
      mode: 'instructor',
      speed: 1,
      state: run.state(),
      started_at: 0,
      ended_at: null,
      elapsed_s: run.elapsedS(),
      startMs: run.startMs,
      transitions: run.transitions(),
      events: run.events(),
      actions: session.actions(),
    });
  return { run, session, to, report };
}

describe('trainee actions on a run and the score', () => {
  it('xray interlock: on-time acknowledgement, a refused reset with the door open, reset after closing, checklist', async () => {
    const { run, session, to, report } = manualRun('xray-interlock-beam-on');
    to(25);
    const alarm = run.engine.list({ state: 'active' }).find((a) => a.rule === 'xray_interlock_open_beam_on');
    expect(alarm, 'the interlock alarm is up by 25 s').toBeDefined();
    const id = (alarm as { id: string }).id;
    session.alarm(id, 'alice', { kind: 'view_evidence' });
    session.alarm(id, 'alice', { kind: 'acknowledge' });
    expect(() => session.alarm(id, 'alice', { kind: 'reset' })).toThrow(AlarmActionError);
    to(45);
    session.alarm(id, 'alice', { kind: 'reset' });
    session.alarm(id, 'alice', { kind: 'disposition', value: 'true' });
    session.checklist('call-rpo', 'alice');
    await run.stop();
    const r = report();
    const raised = r.alarms.find((a) => a.id === id);
    expect(raised?.response_s).toBe(25 - (raised?.raised_at_s as number));
    expect(r.expected.map((x) => [x.id, x.status])).toEqual([
      ['ack-interlock', 'met'],
      ['call-rpo', 'met'],
      ['reset-after-close', 'met'],
      ['disposition-true', 'met'],
    ]);
    expect(r.errors.map((e) => e.id)).toEqual(['reset-door-open']);
    expect(r.score).toEqual({ earned: 50, penalties: 20, max: 50, percent: 60 });
    expect(r.timeline.some((t) => t.kind === 'scenario' && t.text.includes('openDoor'))).toBe(true);
    expect(r.missed).toEqual([]);
  });

  it('weak Cs-137: acknowledging blind and a wrong nuclide miss the disposition and cost points', async () => {
    const { run, session, to, report } = manualRun('weak-cs137-parcel');
    to(160);
    const alarm = run.engine.list({}).find((a) => a.rule === 'radiation_background');
    expect(alarm).toBeDefined();
    const id = (alarm as { id: string }).id;
    session.alarm(id, 'alice', { kind: 'acknowledge' });
    session.alarm(id, 'alice', { kind: 'disposition', value: 'true', nuclide: 'Co-60' });
    to(300);
    await run.done;
    const r = report();
    expect(r.expected.map((x) => [x.id, x.status])).toEqual([
      ['ack-background', 'met'],
      ['disposition-cs137', 'missed'],
    ]);
    expect(r.missed).toEqual(['Disposition true, nuclide Cs-137']);
    expect(r.errors.map((e) => e.id)).toEqual(['ack-blind']);
    expect(r.score.percent).toBe(Math.round(((10 - 10) / 30) * 100));
  });

  it('a run without actions misses everything and scores 0', async () => {
    const { run, to, report } = manualRun('medical-isotope-parcel');
    to(150);
    await run.done;
    const r = report();
    expect(r.alarms.length).toBeGreaterThan(0);
    expect(r.expected.every((x) => x.status === 'missed')).toBe(true);
    expect(r.score.percent).toBe(0);
  });
});

describe('training run store', () => {
  it('keeps reports per trainee in a 0600 file, newest first, updated at the end', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rs-train-'));
    const path = join(dir, 'training.db');
    const store = openTrainingRunStore(path);
    const { run, to, report } = manualRun('xray-interlock-beam-on');
    store.save({ ...report(), run: 'r1', trainee: 'alice', started_at: 1 });
    store.save({ ...report(), run: 'r2', trainee: 'bob', started_at: 2 });
    store.save({ ...report(), run: 'r3', trainee: 'alice', started_at: 3 });
    to(60);
    await run.done;
    store.save({ ...report(), run: 'r1', trainee: 'alice', started_at: 1, state: 'finished' });
    expect(store.list({ trainee: 'alice' }).map((r) => [r.run, r.state])).toEqual([
      ['r3', 'running'],
      ['r1', 'finished'],
    ]);
    expect(store.report('r1')?.alarms.length).toBeGreaterThan(0);
    store.close();
    expect(statSync(path).mode & 0o777).toBe(0o600);
    chmodSync(path, 0o644);
    openTrainingRunStore(path).close();
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });
});
