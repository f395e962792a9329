import { join } from 'node:path';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { MqttClient } from 'mqtt';
import { Registry } from 'prom-client';
import { catalogue as defaultCatalogue } from '../../devices/index.ts';
import { simulators as defaultSimulators } from '../../simulators/index.ts';
import { DeviceStatusBoard } from '../alarms/device-fault-rule.ts';
import { type AlarmEngine, createAlarmEngine } from '../alarms/engine.ts';
import { rulesFromConfig } from '../alarms/rules-from-config.ts';
import { type AlarmStore, alarmStorePath, openAlarmStore } from '../alarms/store.ts';
import { createTransitionBus } from '../alarms/transition-bus.ts';
import type { CalibrationRecord } from '../calibration/schemas.ts';
import { calibrationKeyPath, loadOrCreateCalibrationKey, signCalibration } from '../calibration/signing.ts';
import { type CalibrationStore, calibrationStorePath, openCalibrationStore, toCalibrationMessage } from '../calibration/store.ts';
import type { Config } from '../config/schema.ts';
import { topics } from '../core/contract.ts';
import { securePrivateTreeLogged } from '../core/private-files.ts';
import type { DeviceProfile } from '../core/profile.ts';
import { isTrainingDevice } from '../core/training-id.ts';
import { openParcelStore, parcelStorePath } from '../parcels/store.ts';
import { createTrainingDesk } from '../training/desk.ts';
import { openTrainingRunStore } from '../training/run-store.ts';
import { createServerTraining, type ServerTrainingOptions } from '../training/station-training.ts';
import { buildApp } from './app.ts';
import { type AuthStore, authStorePath, openAuthStore } from './auth/store.ts';
import { followDeviceStatus } from './device-health.ts';
import { registerFeedMetrics } from './feed-metrics.ts';
import type { HealthReason } from './health-checks.ts';
import { createLiveState, type LiveState } from './live-state.ts';
import { attachMqttFeed, type MqttFeed } from './mqtt-feed.ts';
import { createParcelDesk } from './parcel-desk.ts';
import { parcelView } from './routes/parcels.ts';
import type { StorageState } from './schemas.ts';
import { loadTlsFiles } from './tls.ts';

/**
 * A training device's agent silent this long (6 missed 10-s status heartbeats) means its run was
 * killed: the run is ended as if it had finished (docs/health-and-training-isolation.md).
 */
const TRAINING_AGENT_SILENT_MS = 60_000;

/** Inputs of startServer. */
export interface StartServerOptions {
  config: Config;
  /** Connected MQTT client (3.1.1 or 5); shared with other components is fine, it is not ended on close. */
  mqtt: MqttClient;
  log: FastifyBaseLogger;
  /** Whether readings are being stored; the object is read on each request, so update it in place. */
  storage: StorageState;
  /** Defaults to Date.now. */
  now?: () => number;
  catalogue?: ReadonlyMap<string, DeviceProfile>;
  /** How often device staleness is re-checked, ms; default 1000. */
  staleCheckMs?: number;
  heartbeatMs?: number;
  /** The process's Prometheus registry (data-path metrics); the server adds alarm KPIs and serves it on /metrics. */
  metrics?: Registry;
  /** Alarm state; default `<data_dir>/alarms.sqlite` (survives restarts), closed with the server. */
  alarmStore?: AlarmStore;
  /** Users, sessions and audit log; default `<data_dir>/users.sqlite`, closed with the server. */
  auth?: AuthStore;
  /** Calibration records; default `<data_dir>/calibrations.sqlite`, closed with the server. */
  calibrations?: CalibrationStore;
  /** Extra `/healthz` reasons (the station passes its ingest's spool and writer state); default none. */
  healthChecks?: () => HealthReason[];
  /** Signs calibration messages for the agents; default: `<data_dir>/calibration.key`, created 0600 at first start. */
  calibrationKey?: Buffer;
  /** Lets trainers run scenarios (POST /api/training/…) into this broker; unset: scenarios are listed, not run. */
  training?: ServerTrainingOptions;
}

/** A running server. */
export interface RunningServer {
  app: FastifyInstance;
  state: LiveState;
  engine: AlarmEngine;
  feed: MqttFeed;
  /** Users, sessions and the audit log (the station adds its demo users here). */
  auth: AuthStore;
  /** `http://host:port` it actually listens on (port 0 resolved). */
  url: string;
  /** Stops the stale timer, detaches from MQTT and closes HTTP (SSE streams are ended); idempotent. */
  close(): Promise<void>;
}

/**
 * Wires live state, alarm engine, MQTT feed and HTTP app together and listens on
 * `config.server.host`/`port` (port 0 picks a free one). The station command and the
 * standalone `radscreen server` both call this: one code path.
 */
export async function startServer(opts: StartServerOptions): Promise<RunningServer> {
  const { config, log } = opts;
  // First: a bad certificate path must stop the start before any store is opened.
  const tlsFiles = loadTlsFiles(config.server.tls);
  // Before any store opens: files an older version left 0644 are tightened (and logged).
  securePrivateTreeLogged(config.data_dir, log);
  const now = opts.now ?? Date.now;
  const catalogue = opts.catalogue ?? defaultCatalogue;
  const deviceStatus = new DeviceStatusBoard();
  const registry = opts.metrics ?? new Registry();
  const engine = createAlarmEngine({
    now,
    rules: rulesFromConfig(config, catalogue, deviceStatus),
    store: opts.alarmStore ?? openAlarmStore(alarmStorePath(config.data_dir)),
    silenceMs: config.alarms.silence_s * 1000,
    maxShelveMs: config.alarms.max_shelve_h * 3_600_000,
    flood: { count: config.alarms.flood.count, windowMs: config.alarms.flood.window_min * 60_000 },
    transitions: createTransitionBus({ log }),
    timestampWindow: { futureMs: config.time_window.future_s * 1000, pastMs: config.time_window.past_s * 1000 },
  });
  const state = createLiveState({ config, catalogue, engine, now });
  followDeviceStatus(state, deviceStatus, { config, now });
  const auth = opts.auth ?? openAuthStore(authStorePath(config.data_dir));
  const closeAuth = () => {
    if (!opts.auth) auth.close();
  };
  const calibrations = opts.calibrations ?? openCalibrationStore(calibrationStorePath(config.data_dir));
  const closeCalibrations = () => {
    if (!opts.calibrations) calibrations.close();
  };
  // Trainee runs and their reports: personal data, kept 0600 beside the other stores (docs/training.md).
  const trainingRuns = openTrainingRunStore(join(config.data_dir, 'training.sqlite'));
  const calibrationKey = opts.calibrationKey ?? loadOrCreateCalibrationKey(calibrationKeyPath(config));
  // Retained, so an agent that starts (or reconnects) later still gets the calibration in force;
  // signed, so the agent can tell it from anyone else's publish (docs/calibration-trust.md).
  const publishCalibration = (r: CalibrationRecord) =>
    opts.mqtt.publish(
      topics.calibration(config.station.id, r.device),
      JSON.stringify(signCalibration(toCalibrationMessage(config.station.id, r), calibrationKey)),
      { qos: 1, retain: true },
      (err) => {
        if (err) log.warn({ err, device: r.device, calibration_id: r.calibration_id }, 'calibration not published');
      },
    );
  // Every engine transition reaches live state (SSE), the MQTT alarms topic and the metrics through
  // the engine's transition bus (src/alarms/transition-bus.ts); nothing here forwards one by hand.
  const retireTraining = (devices: string[]) => {
    if (devices.length === 0) return;
    engine.retireDevices({ source: 'training', devices, user: 'training', reason: 'training run ended' });
    for (const d of devices) state.removeDevice(d);
  };
  const parcelStore = config.parcels ? openParcelStore(parcelStorePath(config.data_dir)) : undefined;
  const parcels = config.parcels
    ? createParcelDesk({
        ...(parcelStore ? { store: parcelStore } : {}),
        chute: config.parcels.chute,
        significance: config.parcels.significance,
        settle_s: config.parcels.settle_s,
        log,
        // The alarms raised while the parcel was in get its identification in their evidence.
        onRecord: (record) => {
          const { id, verdict, category, nuclides } = parcelView(record);
          for (const alarm of record.alarms) {
            try {
              engine.setParcel(alarm, { id, verdict, ...(category ? { category } : {}), nuclides });
            } catch (err) {
              log.warn({ err, alarm, parcel: id }, 'parcel not added to the alarm evidence');
            }
          }
        },
      })
    : undefined;
  const leaveParcels = parcels ? engine.transitions.subscribe('parcels', (t) => parcels.transition(t)) : undefined;
  const app = await buildApp({
    ...(parcels ? { parcels } : {}),
    ...(tlsFiles ? { https: tlsFiles } : {}),
    auth,
    state,
    engine,
    catalogue,
    metrics: registry,
    config,
    log,
    storage: opts.storage,
    ...(opts.healthChecks ? { healthChecks: opts.healthChecks } : {}),
    now,
    ...(opts.heartbeatMs ? { heartbeatMs: opts.heartbeatMs } : {}),
    calibrations,
    publishCalibration,
    sessionIdleMs: config.accounts.session_idle_min * 60_000,
    sessionTtlMs: config.accounts.session_max_h * 3_600_000,
    passwordPolicy: { minLength: config.accounts.password_min_length },
    streamLimits: {
      maxStreams: config.server.max_streams,
      bufferBytes: config.server.stream_buffer_bytes,
      stallMs: config.server.stream_stall_s * 1000,
    },
    trainingDesk: createTrainingDesk({ store: trainingRuns, config, catalogue, simulators: defaultSimulators }),
    ...(opts.training
      ? {
          training: createServerTraining({
            training: opts.training,
            config,
            catalogue,
            log,
            alarms: state,
            onRunEnded: retireTraining,
          }),
        }
      : {}),
  });
  // The embedded broker keeps retained messages only in memory: re-publish what is in force on every start.
  // Training devices' calibrations stay with their run: the run clears those topics when it ends.
  for (const r of calibrations.latestAll()) if (!isTrainingDevice(r.device)) publishCalibration(r);
  const feed = await attachMqttFeed({ client: opts.mqtt, station: config.station.id, state, engine, log, ...(parcels ? { parcels } : {}) });
  registerFeedMetrics(registry, feed);
  // No training run survives a server restart: close what the last one left open (disposition
  // training) and forget its devices, so no timer rule raises for them. Done once the feed is on
  // the bus, so these closures go out on MQTT too. A CLI run still going re-announces its devices
  // with its retained online status (docs/health-and-training-isolation.md).
  engine.retireDevices({ source: 'training', user: 'training', reason: 'no training run survives a server restart' });
  // One timer for device staleness and the engine's timed work (stale alarms, silence and shelve expiry).
  const staleTimer = setInterval(() => {
    // A training run killed outright leaves no end marker: its agent's silence ends it.
    retireTraining(state.abandonedTrainingDevices(TRAINING_AGENT_SILENT_MS));
    state.checkStale();
    engine.tick();
  }, opts.staleCheckMs ?? 1000);
  staleTimer.unref();

  const shutdown = async () => {
    clearInterval(staleTimer);
    await feed.detach();
    leaveParcels?.();
    parcels?.close();
    parcelStore?.close();
    await app.close();
    closeAuth();
    closeCalibrations();
    trainingRuns.close();
    engine.close();
  };
  try {
    await app.listen({ host: config.server.host, port: config.server.port });
  } catch (err) {
    await shutdown();
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.server.port;
  const host = config.server.host.includes(':') ? `[${config.server.host}]` : config.server.host;
  const url = `${tlsFiles ? 'https' : 'http'}://${host}:${port}`;
  log.info({ url, station: config.station.id }, 'operator console listening');

  let closed: Promise<void> | undefined;
  return {
    app,
    state,
    engine,
    feed,
    auth,
    url,
    close() {
      closed ??= shutdown();
      return closed;
    },
  };
}
