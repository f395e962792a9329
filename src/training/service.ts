import type { AlarmTransition } from '../alarms/types.ts';
import type { RunProgress, ScenarioRun } from './runner.ts';
import { listScenarios, SCENARIO_DIR, type Scenario } from './scenario.ts';

/** A scenario as the API lists it. */
export interface ScenarioSummary {
  name: string;
  title: string;
  description: string;
  duration_s: number;
  /** Device ids on the wire (`training-<id>`) with their profiles. */
  devices: { id: string; profile: string }[];
}

/** A run as the API shows it: the runner's progress plus who started it and when (ms since the epoch). */
export interface TrainingRunView extends RunProgress {
  title: string;
  devices: string[];
  speed: number;
  started_at: number;
  started_by: string;
  ended_at: number | null;
  stopped_by: string | null;
}

/** Why the service refused; the routes map these to 404, 409 and 503. */
export class TrainingError extends Error {
  constructor(
    readonly code: 'not_found' | 'busy' | 'unavailable',
    message: string,
  ) {
    super(message);
  }
}

/** Starts one run of a scenario (src/training/runner.ts runScenario with the station's wiring bound in). */
export type StartRun = (
  scenario: Scenario,
  opts: { runId: string; speed: number; watchAlarms?: (l: (t: AlarmTransition) => void) => () => void },
) => Promise<ScenarioRun>;

/** What the trainer routes use. One run at a time: scenarios share device ids such as `training-chute-geiger`. */
export interface TrainingService {
  /** Whether scenarios can be started (the server knows the broker URL). */
  available: boolean;
  scenarios(): ScenarioSummary[];
  /** Newest first; at most the last 20. */
  runs(): TrainingRunView[];
  start(name: string, opts: { user: string; speed?: number }): Promise<TrainingRunView>;
  /** Stops a running run; a run that has ended already is returned as it is. */
  stop(id: string, user: string): Promise<TrainingRunView>;
  /** Stops any running run (server shutdown). */
  close(): Promise<void>;
}

const KEEP_RUNS = 20;

/**
 * The server's training desk: lists the scenarios in `dir` (invalid files are left out, and shown
 * by `radscreen scenario list`), starts one run at a time through `startRun` and keeps the last
 * runs for `GET /api/training/runs`. Without `startRun` (no broker URL) it lists but refuses to start.
 */
export function createTrainingService(opts: {
  dir?: string;
  startRun?: StartRun;
  watchAlarms?: (l: (t: AlarmTransition) => void) => () => void;
  /** Called with the run's device ids before it starts and once it has ended (finished, stopped or failed). */
  onRunStarting?(devices: string[]): void;
  onRunEnded?(devices: string[]): void;
  now?: () => number;
}): TrainingService {
  const dir = opts.dir ?? SCENARIO_DIR;
  const now = opts.now ?? Date.now;
  const runs: { run: ScenarioRun; view: Omit<TrainingRunView, keyof RunProgress>; final?: RunProgress }[] = [];
  let seq = 0;

  // Replays (`scenario record`) play only on their own engine (trainee runs), never through a broker.
  const load = () => listScenarios(dir).flatMap((e) => (e.scenario && !e.scenario.devices.some((d) => d.replay) ? [e.scenario] : []));
  const viewOf = (r: (typeof runs)[number]): TrainingRunView => ({ ...(r.final ?? r.run.progress()), ...r.view });
  const active = () => runs.find((r) => !r.final);

  return {
    available: Boolean(opts.startRun),
    scenarios: () =>
      load().map((s) => ({
        name: s.name,
        title: s.title,
        description: s.description,
        duration_s: s.duration_s,
        devices: s.devices.map((d) => ({ id: `training-${d.id}`, profile: d.profile })),
      })),
    runs: () => runs.map(viewOf),
    async start(name, { user, speed = 1 }) {
      if (!opts.startRun) throw new TrainingError('unavailable', 'this server was started without a broker URL for training runs');
      const scenario = load().find((s) => s.name === name);
      if (!scenario) throw new TrainingError('not_found', `no scenario '${name}'`);
      const busy = active();
      if (busy) throw new TrainingError('busy', `training run ${busy.run.id} (${busy.view.title}) is still running; stop it first`);
      seq += 1;
      const runId = `${now().toString(36)}-${seq}`;
      opts.onRunStarting?.(scenario.devices.map((d) => `training-${d.id}`));
      const run = await opts.startRun(scenario, { runId, speed, ...(opts.watchAlarms ? { watchAlarms: opts.watchAlarms } : {}) });
      const entry: (typeof runs)[number] = {
        run,
        view: { title: scenario.title, devices: run.devices, speed, started_at: now(), started_by: user, ended_at: null, stopped_by: null },
      };
      run.done.then((final) => {
        entry.final = final;
        entry.view.ended_at = now();
        opts.onRunEnded?.(run.devices);
      });
      runs.unshift(entry);
      runs.splice(KEEP_RUNS);
      return viewOf(entry);
    },
    async stop(id, user) {
      const entry = runs.find((r) => r.run.id === id);
      if (!entry) throw new TrainingError('not_found', `no training run '${id}'`);
      if (!entry.final) {
        entry.view.stopped_by = user;
        entry.final = await entry.run.stop();
        entry.view.ended_at = now();
      }
      return viewOf(entry);
    },
    async close() {
      await Promise.all(runs.filter((r) => !r.final).map((r) => r.run.stop()));
    },
  };
}
