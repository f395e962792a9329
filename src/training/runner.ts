import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import type { Logger } from 'pino';
import { type Agent, startAgent } from '../agent/agent.ts';
import { type SimulatedLinks, startSimulatedLinks } from '../agent/simulated-links.ts';
import type { AlarmTransition } from '../alarms/types.ts';
import type { Config, DeviceConfig } from '../config/schema.ts';
import { topics } from '../core/contract.ts';
import type { DeviceProfile } from '../core/profile.ts';
import type { DeviceSimulator, SimulatorFactory } from '../core/simulator.ts';
import { mqttClientOptions } from '../security/mqtt-client-options.ts';
import { credentialsPath } from '../security/mqtt-credentials.ts';
import type { DeviceLink } from '../transports/link.ts';
import { callControl } from './controls.ts';
import { type Scenario, TRAINING_PREFIX, trainingDevices } from './scenario.ts';

/** Where a run is: elapsed scenario seconds (not wall seconds when sped up), counts so far. */
export interface RunProgress {
  run: string;
  scenario: string;
  state: 'running' | 'finished' | 'stopped' | 'failed';
  elapsed_s: number;
  duration_s: number;
  readings_published: number;
  /** Training alarms raised on the run's devices (only when `watchAlarms` was given). */
  alarms_raised: number;
  /** Last action done, e.g. `training-parcel-scanner: openDoor(1) — door 1 opened while bags pass`. */
  last_action: string | null;
  error: string | null;
}

export interface RunScenarioOptions {
  scenario: Scenario;
  /** The station's config: station id, MQTT credentials, agent settings and data_dir (the run keeps its files under `<data_dir>/training/<run>`). */
  config: Config;
  catalogue: ReadonlyMap<string, DeviceProfile>;
  simulators: ReadonlyMap<string, SimulatorFactory>;
  /** The broker the station's server listens on. */
  mqttUrl: string;
  log: Logger;
  /** Scenario seconds per wall second (default 1): device ticks and action times shrink by it. */
  speed?: number;
  /** Run simulators over in-process links even when socat is installed (tests). */
  forceMemory?: boolean;
  runId?: string;
  /** Called about once a second (`progressEveryMs`) and once at the end. */
  onProgress?: (p: RunProgress) => void;
  progressEveryMs?: number;
  /** Subscribes to alarm transitions (server: live state; CLI: the alarms topic); returns an unsubscribe. */
  watchAlarms?: (listener: (t: AlarmTransition) => void) => () => void;
}

/** A running scenario; `done` resolves with the final progress when it ends by itself or by `stop()`. */
export interface ScenarioRun {
  id: string;
  /** Device ids on the wire (`training-<id>`). */
  devices: string[];
  mode: 'pty' | 'memory';
  progress(): RunProgress;
  /** Stops early; idempotent; resolves like `done`. */
  stop(): Promise<RunProgress>;
  done: Promise<RunProgress>;
}

/** A device's simulators: the latest instance its factory made (a replug in pty mode makes a fresh one). */
function capturingFactories(simulators: ReadonlyMap<string, SimulatorFactory>, slot: { sim?: DeviceSimulator }) {
  return new Map(
    [...simulators].map(([profile, factory]): [string, SimulatorFactory] => [
      profile,
      (wire, scenario) => {
        const sim = factory(wire, scenario);
        slot.sim = sim;
        return sim;
      },
    ]),
  );
}

/** Scenario time → wall-clock ms at `speed`; a device tick never drops below the schema's 10 ms. */
const wallMs = (s: number, speed: number) => Math.round((s * 1000) / speed);

/**
 * Runs a scenario through the same code path as live devices: startSimulatedLinks (socat ptys, or
 * in-process links without socat) and startAgent, against the station's broker, with every device
 * `source: training` and its id prefixed `training-` so readings, alarms and stored points are
 * tagged training and never collide with the station's own devices. Schedules the control actions
 * and cable pulls, and stops everything after `duration_s` (scenario seconds) or on `stop()`.
 * Without socat a cable pull silences the simulator instead (the device goes stale, not offline).
 */
export async function runScenario(opts: RunScenarioOptions): Promise<ScenarioRun> {
  const { scenario, log } = opts;
  const speed = opts.speed ?? 1;
  if (!(speed > 0)) throw new Error(`speed must be positive, not ${speed}`);
  const replayed = scenario.devices.filter((d) => d.replay).map((d) => d.id);
  if (replayed.length)
    throw new Error(`replay devices (${replayed.join(', ')}) play only in trainee runs on their own engine (--report json)`);
  const id = opts.runId ?? randomUUID().slice(0, 8);
  const dataDir = join(opts.config.data_dir, 'training', id);
  const devices: DeviceConfig[] = trainingDevices(scenario).map((d) => {
    const sim = d.simulate as NonNullable<DeviceConfig['simulate']>;
    return { ...d, simulate: { ...sim, tick_ms: Math.max(10, Math.round(sim.tick_ms / speed)) } };
  });
  const slots = new Map<string, { sim?: DeviceSimulator }>();
  const linksOf = new Map<string, SimulatedLinks>();
  const unplugged = new Set<string>();
  let agent: Agent | undefined;
  const timers: NodeJS.Timeout[] = [];
  let unwatch: (() => void) | undefined;
  let alarms = 0;
  let lastAction: string | null = null;
  let state: RunProgress['state'] = 'running';
  let error: string | null = null;
  const startedAt = Date.now();
  let endedAt: number | undefined;

  const stopParts = async () => {
    for (const t of timers) clearInterval(t);
    unwatch?.();
    await agent?.stop().catch((e: Error) => log.warn({ err: e.message, run: id }, 'training agent stop failed'));
    await Promise.all([...linksOf.values()].map((l) => l.stop().catch(() => undefined)));
    await clearRetainedStatus().catch((e: Error) => log.warn({ err: e.message, run: id }, 'training status not cleared'));
    rmSync(dataDir, { recursive: true, force: true });
  };

  // The agent leaves a retained offline status per device (and the server may have retained a
  // calibration for one); a run's devices are gone for good, so clear both (an empty retained
  // payload deletes it) lest a restarted server lists them. The server takes the deleted status
  // as the run's end: it closes the device's alarms and drops its tile.
  const clearRetainedStatus = async () => {
    const client = await mqtt.connectAsync(opts.mqttUrl, {
      protocolVersion: 4,
      connectTimeout: 5000,
      reconnectPeriod: 0,
      ...mqttClientOptions(opts.config, { role: 'training', station: opts.config.station.id }),
    });
    try {
      for (const device of devices) {
        await client.publishAsync(topics.calibration(opts.config.station.id, device.id), '', { qos: 1, retain: true });
        await client.publishAsync(topics.status(opts.config.station.id, device.id), '', { qos: 1, retain: true });
      }
    } finally {
      await client.endAsync();
    }
  };

  let mode: 'pty' | 'memory' = 'memory';
  try {
    const links = new Map<string, DeviceLink>();
    for (const d of devices) {
      const slot: { sim?: DeviceSimulator } = {};
      slots.set(d.id, slot);
      const sims = await startSimulatedLinks({
        devices: [d],
        catalogue: opts.catalogue,
        simulators: capturingFactories(opts.simulators, slot),
        dataDir,
        log,
        readIntervalMs: opts.config.agent.serial_read_interval_ms,
        mqttUrl: opts.mqttUrl,
        mqttOptionsFor: (device, role) => mqttClientOptions(opts.config, { role, station: opts.config.station.id, device }),
        ...(opts.forceMemory ? { forceMemory: true } : {}),
      });
      linksOf.set(d.id, sims);
      mode = sims.mode;
      for (const [k, v] of sims.links) links.set(k, v);
    }
    agent = startAgent({
      // The run's files live apart, but its identities come from the station's credentials file.
      config: { ...opts.config, data_dir: dataDir, devices, mqtt: { ...opts.config.mqtt, credentials_file: credentialsPath(opts.config) } },
      catalogue: opts.catalogue,
      mqttUrl: opts.mqttUrl,
      log,
      links,
    });
  } catch (e) {
    await stopParts();
    throw e;
  }

  const ids = new Set(devices.map((d) => d.id));
  if (opts.watchAlarms)
    unwatch = opts.watchAlarms((t) => {
      if (t.kind === 'raised' && t.alarm.source === 'training' && ids.has(t.alarm.device)) alarms++;
    });

  const progress = (): RunProgress => ({
    run: id,
    scenario: scenario.name,
    state,
    elapsed_s: Math.min(scenario.duration_s, Math.round((((endedAt ?? Date.now()) - startedAt) * speed) / 100) / 10),
    duration_s: scenario.duration_s,
    readings_published: (agent?.stats() ?? []).reduce((n, s) => n + s.published, 0),
    alarms_raised: alarms,
    last_action: lastAction,
    error,
  });

  /** One scheduled step; a failing step is reported, it does not end the run. */
  const at = (s: number, label: string, fn: () => unknown | Promise<unknown>) => {
    timers.push(
      setTimeout(
        async () => {
          try {
            await fn();
            lastAction = label;
            log.info({ run: id, at_s: s }, `training: ${label}`);
          } catch (e) {
            lastAction = `${label} failed: ${(e as Error).message}`;
            log.warn({ run: id, at_s: s, err: (e as Error).message }, `training: ${label} failed`);
          }
        },
        wallMs(s, speed),
      ),
    );
  };

  for (const d of scenario.devices) {
    const wireId = `${TRAINING_PREFIX}${d.id}`;
    const slot = slots.get(wireId) as { sim?: DeviceSimulator };
    for (const a of d.actions) {
      const label = `${wireId}: ${a.call}(${a.args.map((x) => JSON.stringify(x)).join(', ')})${a.note ? ` — ${a.note}` : ''}`;
      at(a.at_s, label, () => {
        if (!slot.sim || unplugged.has(wireId)) throw new Error('the device is unplugged');
        return callControl(slot.sim, a.call, a.args);
      });
    }
    const links = linksOf.get(wireId) as SimulatedLinks;
    for (const c of d.cable_pull) {
      at(c.at_s, `${wireId}: cable ${c.action === 'unplug' ? 'pulled' : 'plugged back in'}`, async () => {
        if (c.action === 'unplug') unplugged.add(wireId);
        else unplugged.delete(wireId);
        if (links.mode === 'pty') return c.action === 'unplug' ? links.unplug(wireId) : links.replug(wireId);
        // In-process link: silence the simulator (stale), then start it again.
        if (c.action === 'unplug') slot.sim?.stop();
        else slot.sim?.start();
      });
    }
  }

  let resolveDone: (p: RunProgress) => void = () => {};
  const done = new Promise<RunProgress>((r) => {
    resolveDone = r;
  });
  let stopping: Promise<RunProgress> | undefined;
  const finish = (final: RunProgress['state']) => {
    stopping ??= (async () => {
      state = final;
      endedAt = Date.now();
      await stopParts().catch((e: Error) => {
        error = e.message;
      });
      // Counted after the agent stopped: stopping drains its outbox into the broker.
      const p = progress();
      opts.onProgress?.(p);
      resolveDone(p);
      return p;
    })();
    return stopping;
  };

  if (opts.onProgress) {
    const report = opts.onProgress;
    timers.push(setInterval(() => report(progress()), opts.progressEveryMs ?? 1000));
  }
  timers.push(setTimeout(() => void finish('finished'), wallMs(scenario.duration_s, speed)));
  log.info({ run: id, scenario: scenario.name, devices: [...ids], mode, speed }, 'training scenario started');
  return { id, devices: [...ids], mode, progress, stop: () => finish('stopped'), done };
}
