import type { Logger } from 'pino';
import { simulators as defaultSimulators } from '../../simulators/index.ts';
import type { AlarmTransition } from '../alarms/types.ts';
import type { Config } from '../config/schema.ts';
import type { DeviceProfile } from '../core/profile.ts';
import type { SimulatorFactory } from '../core/simulator.ts';
import { runScenario } from './runner.ts';
import { createTrainingService, type TrainingService } from './service.ts';

/** What a server needs to run scenarios: the broker its feed listens on. */
export interface ServerTrainingOptions {
  /** The station's broker (station: the embedded one; `radscreen server`: `mqtt.url`). */
  mqttUrl: string;
  simulators?: ReadonlyMap<string, SimulatorFactory>;
  /** Scenario folder; default simulators/scenarios. */
  dir?: string;
  /** Simulators over in-process links even with socat installed (tests). */
  forceMemory?: boolean;
}

/**
 * The server's training service, wired like the station: runs play into `mqttUrl` under the
 * server's station id with the station's MQTT credentials, and count the training alarms the
 * server's own engine raises (from its live state's `alarm` events).
 */
export function createServerTraining(opts: {
  training: ServerTrainingOptions;
  config: Config;
  catalogue: ReadonlyMap<string, DeviceProfile>;
  /** The server's logger (pino underneath in every radscreen process). */
  log: unknown;
  alarms: { on(e: 'alarm', l: (t: AlarmTransition) => void): unknown; off(e: 'alarm', l: (t: AlarmTransition) => void): unknown };
  /**
   * Run boundaries: a scenario's devices fall silent when it ends, which would raise stale
   * alarms and leave their tiles behind. The server closes their alarms (disposition training)
   * and forgets the devices when a run ends (docs/health-and-training-isolation.md).
   */
  onRunStarting?(devices: string[]): void;
  onRunEnded?(devices: string[]): void;
}): TrainingService {
  const { training, config, catalogue, alarms } = opts;
  const watchAlarms = (l: (t: AlarmTransition) => void) => {
    alarms.on('alarm', l);
    return () => void alarms.off('alarm', l);
  };
  return createTrainingService({
    ...(training.dir ? { dir: training.dir } : {}),
    ...(opts.onRunStarting ? { onRunStarting: opts.onRunStarting } : {}),
    ...(opts.onRunEnded ? { onRunEnded: opts.onRunEnded } : {}),
    watchAlarms,
    startRun: (scenario, run) =>
      runScenario({
        scenario,
        config,
        catalogue,
        simulators: training.simulators ?? defaultSimulators,
        mqttUrl: training.mqttUrl,
        log: opts.log as Logger,
        ...(training.forceMemory ? { forceMemory: true } : {}),
        ...run,
      }),
  });
}
