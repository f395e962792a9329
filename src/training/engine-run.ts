import { randomUUID } from 'node:crypto';
import { DeviceStatusBoard } from '../alarms/device-fault-rule.ts';
import { type AlarmEngine, createAlarmEngine } from '../alarms/engine.ts';
import { rulesFromConfig } from '../alarms/rules-from-config.ts';
import { openAlarmStore } from '../alarms/store.ts';
import type { AlarmTransition } from '../alarms/types.ts';
import type { Config } from '../config/schema.ts';
import { normaliseReading } from '../core/normalise.ts';
import type { DeviceProfile } from '../core/profile.ts';
import type { Reading } from '../core/reading.ts';
import type { DeviceSimulator, SimulatorFactory } from '../core/simulator.ts';
import { callControl } from './controls.ts';
import { type Scenario, trainingDevices } from './scenario.ts';
import { createVirtualClock, type VirtualClock } from './virtual-clock.ts';

/**
 * Profiles whose simulators take their timers from the run's clock (DoseScenario.clock) and whose
 * decoders keep no timers of their own. A poll device (Rad Pro, GQ GMC) polls on the wall clock
 * inside its session, so it cannot be sped up faithfully and is refused here.
 */
export const CLOCKED_PROFILES: ReadonlySet<string> = new Set(['mightyohm-geiger', 'xray-parcel-scanner']);

/** The engine's timer work runs every virtual second, as the server's does every wall second. */
const ENGINE_TICK_MS = 1000;

/** One thing the scenario did, at `at_s` scenario seconds. */
export interface ScenarioEvent {
  at_s: number;
  device: string;
  what: string;
}

/** A run's speed: scenario seconds per wall second, or `max` (as fast as the CPU allows). */
export type RunSpeed = number | 'max';

export interface EngineRunOptions {
  scenario: Scenario;
  /** The station's config: its id and alarm settings (the run uses the same rules as the live engine). */
  config: Pick<Config, 'station' | 'alarms' | 'time_window'>;
  catalogue: ReadonlyMap<string, DeviceProfile>;
  simulators: ReadonlyMap<string, SimulatorFactory>;
  speed: RunSpeed;
  runId?: string;
  /** The virtual clock's start, ms since the epoch; default the wall clock at start, whole seconds. */
  startMs?: number;
  /** Every transition of the run's engine, in order, as it happens. */
  onTransition?(t: AlarmTransition): void;
  /** Every reading the run's engine judged, in order (what a station would have stored). */
  onReading?(r: Reading): void;
}

/** How a run ended. */
export type RunEnd = 'finished' | 'stopped';

/**
 * A scenario played into its OWN alarm engine (same rules and code as the live engine) on a
 * virtual clock. Nothing reaches the live engine, the broker or the store: training stays out of
 * live state by construction, and several runs can play side by side.
 */
export interface EngineRun {
  id: string;
  /** The station id the run's alarms carry (the config's). */
  station: string;
  scenario: Scenario;
  speed: RunSpeed;
  /** Device ids (`training-<id>`). */
  devices: string[];
  /** The run's engine; trainee actions go through it (they take time from the run's clock). */
  engine: AlarmEngine;
  clock: VirtualClock;
  /** Virtual ms since the epoch when the run started. */
  startMs: number;
  /** Scenario seconds so far. */
  elapsedS(): number;
  /** Every engine transition so far, oldest first (the trainee's actions included, once `record`ed). */
  transitions(): readonly AlarmTransition[];
  /** Adds transitions of actions taken on the run's engine from outside (a trainee's acknowledgement). */
  record(ts: readonly AlarmTransition[]): void;
  /** What the scenario did so far (control calls, cable pulls). */
  events(): readonly ScenarioEvent[];
  readingsPublished(): number;
  state(): 'running' | RunEnd;
  /** Ends early; idempotent. */
  stop(): Promise<RunEnd>;
  /** Resolves when the run reaches `duration_s` or is stopped. */
  done: Promise<RunEnd>;
}

/** Refuses a scenario that cannot run on a virtual clock; returns the problems (empty when fine). */
export function clockProblems(s: Scenario): string[] {
  return s.devices
    .filter((d) => !d.replay && !CLOCKED_PROFILES.has(d.profile))
    .map((d) => `device ${d.id}: profile '${d.profile}' cannot run on a training clock (supported: ${[...CLOCKED_PROFILES].join(', ')})`);
}

/** Starts a run; it advances by itself (paced to `speed`) until the scenario's end or `stop()`. */
export function startEngineRun(opts: EngineRunOptions): EngineRun {
  const { scenario, catalogue } = opts;
  const problems = clockProblems(scenario);
  if (problems.length) throw new Error(problems.join('; '));
  if (opts.speed !== 'max' && !(opts.speed > 0)) throw new Error(`speed must be positive or max, not ${opts.speed}`);
  const station = opts.config.station.id;
  const startMs = opts.startMs ?? Math.floor(Date.now() / 1000) * 1000;
  const clock = createVirtualClock(startMs);
  const endMs = startMs + scenario.duration_s * 1000;
  const devices = trainingDevices(scenario);
  const board = new DeviceStatusBoard();
  const engine = createAlarmEngine({
    now: clock.now,
    rules: rulesFromConfig({ alarms: opts.config.alarms, devices }, catalogue, board),
    store: openAlarmStore(),
    ...(opts.config.time_window ? { timestampWindow: timeWindowOf(opts.config.time_window) } : {}),
  });
  const transitions: AlarmTransition[] = [];
  const events: ScenarioEvent[] = [];
  let readings = 0;
  const collect = (ts: readonly AlarmTransition[]) => {
    for (const t of ts) {
      transitions.push(t);
      opts.onTransition?.(t);
    }
  };
  const judge = (r: Reading) => {
    readings += 1;
    opts.onReading?.(r);
    collect(engine.evaluate(r));
  };
  const atS = () => (clock.now() - startMs) / 1000;
  const sims = new Map<string, DeviceSimulator>();
  const status = (d: (typeof devices)[number], state: 'online' | 'offline', detail: Record<string, unknown> = {}) => {
    const profile = catalogue.get(d.profile) as DeviceProfile;
    board.update(
      {
        station,
        device: d.id,
        profile: d.profile,
        kind: profile.kind,
        source: 'training',
        state,
        detail,
        status_ts: clock.now(),
        stale_after_ms: profile.staleAfterMs,
      },
      clock.now(),
    );
  };

  for (const [i, d] of devices.entries()) {
    const profile = catalogue.get(d.profile) as DeviceProfile;
    const replay = scenario.devices[i]?.replay;
    if (replay) {
      // A recorded device (`scenario record`): its readings at their recorded offsets on the run's
      // clock, stamped now, through the same contract check a decoded reading passes.
      status(d, 'online');
      for (const p of replay)
        clock.setTimeout(() => {
          const r = normaliseReading(
            { ts: clock.now(), ts_source: 'agent', values: p.values, quality: p.quality },
            { station, device: d.id, source: 'training', profile },
          );
          if (!('reject' in r)) judge(r.reading);
        }, p.t_s * 1000);
      continue;
    }
    const session = profile.createSession({
      now: clock.now,
      write: async () => {},
      emit(decoded) {
        const r = normaliseReading(decoded, { station, device: d.id, source: 'training', profile });
        if (!('reject' in r)) judge(r.reading);
      },
      reject: () => {},
      options: d.options,
      log: { debug: () => {}, info: () => {}, warn: () => {} },
    });
    const factory = opts.simulators.get(d.profile) as SimulatorFactory;
    const sim = factory({ write: (b) => session.push(b), onData: () => {} }, { ...(d.simulate as NonNullable<typeof d.simulate>), clock });
    sims.set(d.id, sim);
    status(d, 'online');
    sim.start();
    const sd = scenario.devices[i] as Scenario['devices'][number];
    let unplugged = false;
    for (const a of sd.actions)
      clock.setTimeout(() => {
        const what = `${a.call}(${a.args.map((x) => JSON.stringify(x)).join(', ')})${a.note ? ` — ${a.note}` : ''}`;
        if (unplugged) return void events.push({ at_s: atS(), device: d.id, what: `${what} failed: the device is unplugged` });
        callControl(sim, a.call, a.args);
        events.push({ at_s: atS(), device: d.id, what });
      }, a.at_s * 1000);
    for (const c of sd.cable_pull)
      clock.setTimeout(() => {
        unplugged = c.action === 'unplug';
        if (unplugged) {
          sim.stop();
          status(d, 'offline', { reason: 'the serial port vanished (cable pulled)' });
        } else {
          status(d, 'online');
          sim.start();
        }
        events.push({ at_s: atS(), device: d.id, what: `cable ${unplugged ? 'pulled' : 'plugged back in'}` });
      }, c.at_s * 1000);
  }
  clock.setInterval(() => collect(engine.tick()), ENGINE_TICK_MS);

  let state: 'running' | RunEnd = 'running';
  let stopRequested = false;
  const done = pace(clock, endMs, opts.speed, () => stopRequested).then((end) => {
    state = end;
    for (const s of sims.values()) s.stop();
    return end;
  });
  return {
    id: opts.runId ?? randomUUID().slice(0, 8),
    station,
    scenario,
    speed: opts.speed,
    devices: devices.map((d) => d.id),
    engine,
    clock,
    startMs,
    elapsedS: () => Math.min(scenario.duration_s, atS()),
    transitions: () => transitions,
    record: collect,
    events: () => events,
    readingsPublished: () => readings,
    state: () => state,
    stop: () => {
      stopRequested = true;
      return done;
    },
    done,
  };
}

function timeWindowOf(w: NonNullable<Config['time_window']>) {
  return { futureMs: w.future_s * 1000, pastMs: w.past_s * 1000 };
}

/**
 * Advances the clock to `endMs`: at `speed` N, virtual time = start + N × wall time elapsed; at
 * `max`, in chunks with a yield between them so HTTP requests (trainee actions) still get served.
 */
async function pace(clock: VirtualClock, endMs: number, speed: RunSpeed, stopped: () => boolean): Promise<RunEnd> {
  const v0 = clock.now();
  const w0 = performance.now();
  while (clock.now() < endMs) {
    if (stopped()) return 'stopped';
    const target = speed === 'max' ? clock.now() + 60_000 : v0 + (performance.now() - w0) * speed;
    clock.advanceTo(Math.min(endMs, Math.floor(target)));
    if (clock.now() >= endMs) break;
    await new Promise((r) => (speed === 'max' ? setImmediate(r) : setTimeout(r, 20)));
  }
  return stopped() ? 'stopped' : 'finished';
}

/** The alarm sequence of a run: raises, escalations, reactivations and clears, with scenario seconds. */
export function alarmSequence(transitions: readonly AlarmTransition[], startMs: number) {
  return transitions
    .filter((t) => ['raised', 'escalated', 'reactivated', 'cleared'].includes(t.kind))
    .map((t) => ({ at_s: (t.ts - startMs) / 1000, kind: t.kind, rule: t.alarm.rule, device: t.alarm.device, severity: t.alarm.severity }));
}
