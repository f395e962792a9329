import type { Alarm, AlarmTransition } from '../alarms/types.ts';
import { type Config, ConfigSchema } from '../config/schema.ts';
import type { DeviceProfile } from '../core/profile.ts';
import type { SimulatorFactory } from '../core/simulator.ts';
import { clockProblems, type EngineRun, startEngineRun } from './engine-run.ts';
import { buildReport, type RunReport } from './report.ts';
import type { StoredRunSummary, TrainingRunStore } from './run-store.ts';
import { listScenarios, SCENARIO_DIR, type Scenario } from './scenario.ts';
import { type AlarmActionInput, createTraineeSession, type TraineeSession } from './trainee-session.ts';

/** Why the desk refused; the routes map these to 404, 403 and 409. */
export class TraineeRunError extends Error {
  constructor(
    readonly code: 'not_found' | 'forbidden' | 'busy' | 'invalid',
    message: string,
  ) {
    super(message);
  }
}

/** At most this many runs at once: each one is an engine and simulators in this process. */
export const MAX_ACTIVE_RUNS = 8;

interface Entry {
  run: EngineRun;
  session: TraineeSession;
  trainee: string | null;
  started_by: string;
  mode: RunReport['mode'];
  started_at: number;
  ended_at: number | null;
}

/**
 * Trainee runs: a trainer starts a scenario for a named trainee (or a trainee starts one alone,
 * self-paced); each run has its own engine on its own clock (src/training/engine-run.ts), so
 * several trainees can work the same scenario at once and nothing reaches the live station. The
 * trainee works the run's alarms; every action is recorded and the run is scored. Runs and
 * reports are stored (TrainingRunStore) when they start and when they end.
 */
export interface TrainingDesk {
  scenarios(): Scenario[];
  start(name: string, o: { trainee: string | null; started_by: string; speed: number; mode: RunReport['mode'] }): RunReport;
  /** The run's alarms (its own engine), newest first. */
  alarms(run: string): Alarm[];
  act(run: string, user: string, alarm: string, input: AlarmActionInput): AlarmTransition[];
  outOfService(run: string, user: string, device: string, on: boolean): AlarmTransition[];
  checklist(run: string, user: string, item: string): void;
  /** The scenario's checklist items (things the trainee ticks, e.g. "call the RPO") and whether each is ticked. */
  checklistOf(run: string): { id: string; label: string; done: boolean }[];
  /** Live report of a running run, or the stored one. */
  report(run: string): RunReport | undefined;
  list(o?: { trainee?: string }): StoredRunSummary[];
  stop(run: string): Promise<RunReport>;
  close(): Promise<void>;
}

export function createTrainingDesk(opts: {
  store: TrainingRunStore;
  /** The station's config; without `alarms` (tests, a bare app) the defaults of the config schema. */
  config: Pick<Config, 'station'> & Partial<Pick<Config, 'alarms' | 'time_window'>>;
  catalogue: ReadonlyMap<string, DeviceProfile>;
  simulators: ReadonlyMap<string, SimulatorFactory>;
  dir?: string;
  now?: () => number;
}): TrainingDesk {
  const now = opts.now ?? Date.now;
  const full = ConfigSchema.parse({ station: opts.config.station });
  const config = {
    station: opts.config.station,
    alarms: opts.config.alarms ?? full.alarms,
    time_window: opts.config.time_window ?? full.time_window,
  };
  const runs = new Map<string, Entry>();
  let seq = 0;
  const load = () =>
    listScenarios(opts.dir ?? SCENARIO_DIR).flatMap((e) => (e.scenario && clockProblems(e.scenario).length === 0 ? [e.scenario] : []));
  const reportOf = (e: Entry): RunReport =>
    buildReport({
      run: e.run.id,
      scenario: e.run.scenario,
      trainee: e.trainee,
      started_by: e.started_by,
      mode: e.mode,
      speed: e.run.speed,
      state: e.run.state(),
      started_at: e.started_at,
      ended_at: e.ended_at,
      elapsed_s: e.run.elapsedS(),
      startMs: e.run.startMs,
      transitions: e.run.transitions(),
      events: e.run.events(),
      actions: e.session.actions(),
    });
  const entry = (id: string) => {
    const e = runs.get(id);
    if (!e) throw new TraineeRunError('not_found', `no running training run '${id}'`);
    return e;
  };
  /** Only the run's trainee works its alarms (a run without a trainee: anyone allowed to act). */
  const asTrainee = (id: string, user: string) => {
    const e = entry(id);
    if (e.run.state() !== 'running') throw new TraineeRunError('invalid', `training run ${id} has ended`);
    if (e.trainee !== null && e.trainee !== user) throw new TraineeRunError('forbidden', `training run ${id} is ${e.trainee}'s`);
    return e;
  };

  return {
    scenarios: load,
    start(name, o) {
      const scenario = load().find((s) => s.name === name);
      if (!scenario) throw new TraineeRunError('not_found', `no scenario '${name}' that runs on a training clock`);
      const active = [...runs.values()].filter((e) => e.run.state() === 'running');
      if (active.length >= MAX_ACTIVE_RUNS) throw new TraineeRunError('busy', `${active.length} training runs are running; stop one first`);
      if (o.trainee !== null && active.some((e) => e.trainee === o.trainee))
        throw new TraineeRunError('busy', `${o.trainee} is already in a training run`);
      seq += 1;
      const run = startEngineRun({
        scenario,
        config,
        catalogue: opts.catalogue,
        simulators: opts.simulators,
        speed: o.speed,
        runId: `t${now().toString(36)}-${seq}`,
      });
      const e: Entry = {
        run,
        // The actions' transitions go into the run's list, so the report sees an acknowledgement
        // (and disposition) even when no later transition of that alarm carries it.
        session: createTraineeSession(run, (ts) => run.record(ts)),
        trainee: o.trainee,
        started_by: o.started_by,
        mode: o.mode,
        started_at: now(),
        ended_at: null,
      };
      runs.set(run.id, e);
      run.done.then(() => {
        e.ended_at = now();
        opts.store.save(reportOf(e));
        run.engine.close();
        runs.delete(run.id);
      });
      const r = reportOf(e);
      opts.store.save(r);
      return r;
    },
    alarms: (id) => entry(id).run.engine.list({ limit: 200 }),
    act: (id, user, alarm, input) => asTrainee(id, user).session.alarm(alarm, user, input),
    outOfService: (id, user, device, on) => asTrainee(id, user).session.outOfService(device, user, on),
    checklist: (id, user, item) => asTrainee(id, user).session.checklist(item, user),
    checklistOf(id) {
      const e = entry(id);
      const ticked = new Set(e.session.actions().flatMap((a) => (a.kind === 'checklist' && a.ok && a.item ? [a.item] : [])));
      return e.run.scenario.expected.flatMap((x) =>
        x.action === 'checklist' ? [{ id: x.id, label: x.label, done: ticked.has(x.id) }] : [],
      );
    },
    report(id) {
      const e = runs.get(id);
      return e ? reportOf(e) : opts.store.report(id);
    },
    list: (o = {}) => opts.store.list(o.trainee === undefined ? {} : { trainee: o.trainee }),
    async stop(id) {
      const e = entry(id);
      await e.run.stop();
      return opts.store.report(id) ?? reportOf(e);
    },
    async close() {
      await Promise.all([...runs.values()].map((e) => e.run.stop()));
    },
  };
}
