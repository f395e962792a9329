import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, LogController } from 'fastify';
import { hasZodFastifySchemaValidationErrors, jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { Registry } from 'prom-client';
import { catalogue as defaultCatalogue } from '../../devices/index.ts';
import { simulators as defaultSimulators } from '../../simulators/index.ts';
import type { AlarmEngine } from '../alarms/engine.ts';
import type { CalibrationRecord } from '../calibration/schemas.ts';
import { type CalibrationStore, openCalibrationStore } from '../calibration/store.ts';
import type { Config } from '../config/schema.ts';
import type { DeviceProfile } from '../core/profile.ts';
import { createTrainingDesk, type TrainingDesk } from '../training/desk.ts';
import { openTrainingRunStore } from '../training/run-store.ts';
import { createTrainingService, type TrainingService } from '../training/service.ts';
import { registerAlarmMetrics } from './alarm-metrics.ts';
import { type AuthContext, installAuth } from './auth/guard.ts';
import type { PasswordPolicy } from './auth/password-policy.ts';
import { type AuthStore, openAuthStore } from './auth/store.ts';
import type { HealthReason } from './health-checks.ts';
import type { LiveState } from './live-state.ts';
import type { ParcelDesk } from './parcel-desk.ts';
import { alarmActionRoutes } from './routes/alarm-actions.ts';
import { alarmReadRoutes } from './routes/alarm-read.ts';
import { apiRoutes } from './routes/api.ts';
import { authRoutes } from './routes/auth.ts';
import { calibrationRoutes, calibrationSettings } from './routes/calibrations.ts';
import { consoleRoutes } from './routes/console.ts';
import type { ServerDeps } from './routes/deps.ts';
import { healthRoutes } from './routes/health.ts';
import { parcelRoutes } from './routes/parcels.ts';
import { streamRoutes } from './routes/stream.ts';
import { trainingRoutes } from './routes/training.ts';
import { userRoutes } from './routes/users.ts';
import type { StorageState } from './schemas.ts';
import { DEFAULT_STREAM_LIMITS, type StreamLimits } from './sse-client.ts';
import { installOriginCheck, installWebSecurity } from './web-security.ts';

/** Inputs of buildApp. */
export interface BuildAppOptions {
  /** Parcel records for `GET /api/parcels`; none when the config has no `parcels` section. */
  parcels?: ParcelDesk;
  state: LiveState;
  /** The engine the live state reads from; operator actions run through it. */
  engine: AlarmEngine;
  /** Device profiles, for the N42 export's instrument description; default the built-in catalogue. */
  catalogue?: ReadonlyMap<string, DeviceProfile>;
  config: Pick<Config, 'station'>;
  /** A pino logger; none means the app logs nothing (tests). */
  log?: FastifyBaseLogger;
  /** Whether readings are being stored; shown on /healthz and as a console banner. Default: not stored. */
  storage?: StorageState;
  now?: () => number;
  /** SSE heartbeat interval, ms; default 15 000. */
  heartbeatMs?: number;
  /** Users, sessions and audit log; none means a private in-memory store (tests), closed with the app. */
  auth?: AuthStore;
  /** The process's one Prometheus registry (e.g. from createDataPathMetrics); alarm KPIs are added to it. Default: a new one. */
  metrics?: Registry;
  /** Session lifetime, ms; default 12 h (one shift). */
  sessionTtlMs?: number;
  /** Session idle timeout, ms; default 30 min (docs/accounts.md). */
  sessionIdleMs?: number;
  /** Rules for chosen passwords; default 12 characters and the common-password list. */
  passwordPolicy?: PasswordPolicy;
  /** Calibration records; none means a private in-memory store (tests), closed with the app. */
  calibrations?: CalibrationStore;
  /** Where a newly recorded calibration goes besides the live state: the retained MQTT calibration topic. */
  publishCalibration?: (record: CalibrationRecord) => void;
  /** Extra `/healthz` reasons from the data path (the station's ingest spool and writer); default none. */
  healthChecks?: () => HealthReason[];
  /** Training scenarios and runs (src/training/service.ts); default: lists the shipped scenarios, cannot start them (503). Closed with the app. */
  training?: TrainingService;
  /** Trainee runs on their own engines (src/training/desk.ts); default one with an in-memory run store. Closed with the app. */
  trainingDesk?: TrainingDesk;
  /** Bounds on live streams (count, queued bytes, blocked time); default DEFAULT_STREAM_LIMITS. */
  streamLimits?: StreamLimits;
  /** PEM certificate and key: serve HTTPS (with HSTS and a Secure cookie) instead of HTTP. */
  https?: { cert: string | Buffer; key: string | Buffer };
}

/** The app plus its auth context (the role-by-route test walks `auth.routes`). */
export type RadscreenApp = FastifyInstance & { radscreenAuth: AuthContext };

/** `querystring.limit: Too big: expected number to be <=500; …` from zod issues. */
function describeValidation(context: string | undefined, issues: readonly { instancePath: string; message?: string }[]): string {
  const where = context ?? 'request';
  return issues.map((i) => `${where}${i.instancePath.replaceAll('/', '.').replace(/\.$/, '')}: ${i.message ?? 'invalid'}`).join('; ');
}

/**
 * Builds the HTTP app as a plugin tree: health, api, stream, console. It does not listen;
 * tests call `inject`, `startServer` calls `listen`. Bad query or body → 400 with code
 * RS_ERR_HTTP_BODY and a message naming the field; server faults → 500 with a generic message
 * (the details go to the log).
 */
export async function buildApp(opts: BuildAppOptions): Promise<RadscreenApp> {
  // Per-request logs would drown the station's log (the console polls and streams); errors are still logged.
  // HTTPS when given a certificate (server.tls); the instance type stays the plain one, as routes do not care.
  const https = opts.https ? { https: opts.https } : {};
  const app = (opts.log
    ? Fastify({ loggerInstance: opts.log, logController: new LogController({ disableRequestLogging: true }), ...https })
    : Fastify({ logger: false, ...https })) as unknown as FastifyInstance;
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (hasZodFastifySchemaValidationErrors(err)) {
      const message = describeValidation(err.validationContext, err.validation);
      return reply.code(400).send({ statusCode: 400, code: 'RS_ERR_HTTP_BODY', error: 'Bad Request', message });
    }
    const status = err.statusCode ?? 500;
    if (status === 400 || status === 415) {
      // Malformed JSON bodies and the like, raised by fastify before validation.
      return reply.code(400).send({ statusCode: 400, code: 'RS_ERR_HTTP_BODY', error: 'Bad Request', message: err.message });
    }
    if (status < 500)
      return reply.code(status).send({ statusCode: status, code: err.code ?? 'RS_ERR_HTTP', error: err.name, message: err.message });
    req.log.error({ err }, 'request failed');
    return reply.code(500).send({ statusCode: 500, code: 'RS_ERR_INTERNAL', error: 'Internal Server Error', message: 'internal error' });
  });

  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send({ statusCode: 404, code: 'RS_ERR_NOT_FOUND', error: 'Not Found', message: `no route ${req.method} ${req.url}` });
  });

  const now = opts.now ?? Date.now;
  const ownStore = opts.auth ? undefined : openAuthStore(':memory:');
  const store = opts.auth ?? (ownStore as AuthStore);
  if (ownStore) app.addHook('onClose', async () => ownStore.close());
  installOriginCheck(app);
  const auth = installAuth(app, {
    store,
    now,
    ...(opts.sessionTtlMs ? { sessionTtlMs: opts.sessionTtlMs } : {}),
    ...(opts.sessionIdleMs ? { sessionIdleMs: opts.sessionIdleMs } : {}),
  });
  app.decorate('radscreenAuth', auth);

  await installWebSecurity(app, { auth, tls: Boolean(opts.https) });
  const registry = opts.metrics ?? new Registry();

  await app.register(fastifySwagger, {
    openapi: {
      info: { title: 'radscreen station API', version: '1' },
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: 'rs_session' },
          bearer: { type: 'http', scheme: 'bearer' },
        },
      },
    },
    transform: jsonSchemaTransform,
  });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });

  const deps: ServerDeps = {
    state: opts.state,
    engine: opts.engine,
    storage: opts.storage ?? { enabled: false, detail: 'storage not configured' },
    now,
    auth,
    heartbeatMs: opts.heartbeatMs ?? 15_000,
  };
  await app.register(healthRoutes, { ...deps, ...(opts.healthChecks ? { healthChecks: opts.healthChecks } : {}) });
  await app.register(apiRoutes, { ...deps, prefix: '/api' });
  await app.register(parcelRoutes, { desk: opts.parcels, prefix: '/api' });
  await app.register(authRoutes, { auth, registry, prefix: '/api' });
  await app.register(userRoutes, { auth, ...(opts.passwordPolicy ? { policy: opts.passwordPolicy } : {}), prefix: '/api' });
  await app.register(alarmReadRoutes, { ...deps, catalogue: opts.catalogue ?? defaultCatalogue, prefix: '/api' });
  await app.register(alarmActionRoutes, { ...deps, prefix: '/api' });
  const calibrations = opts.calibrations ?? openCalibrationStore(':memory:');
  if (!opts.calibrations) app.addHook('onClose', async () => calibrations.close());
  await app.register(calibrationRoutes, {
    ...deps,
    store: calibrations,
    catalogue: opts.catalogue ?? defaultCatalogue,
    ...(opts.publishCalibration ? { publishCalibration: opts.publishCalibration } : {}),
    // Plausible factor ranges come from the full config when there is one (tests may pass only `station`).
    ...calibrationSettings(opts.config as Partial<Config>),
    prefix: '/api',
  });
  const training = opts.training ?? createTrainingService({});
  app.addHook('onClose', async () => training.close());
  const trainingDesk =
    opts.trainingDesk ??
    createTrainingDesk({
      store: openTrainingRunStore(),
      config: opts.config as Pick<Config, 'station'> & Partial<Config>,
      catalogue: opts.catalogue ?? defaultCatalogue,
      simulators: defaultSimulators,
    });
  app.addHook('onClose', async () => trainingDesk.close());
  await app.register(trainingRoutes, { training, auth, desk: trainingDesk, prefix: '/api' });
  await app.register(streamRoutes, { ...deps, registry, limits: opts.streamLimits ?? DEFAULT_STREAM_LIMITS });
  registerAlarmMetrics(registry, opts.engine, opts.state);
  app.get(
    '/metrics',
    { schema: { description: 'Prometheus metrics: alarm KPIs and, in a station, the data path.', hide: true } },
    async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()),
  );
  await app.register(consoleRoutes);
  return app as RadscreenApp;
}
