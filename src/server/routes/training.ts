import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { TRAINING_PREFIX } from '../../core/training-id.ts';
import type { TrainingDesk } from '../../training/desk.ts';
import { TrainingError, type TrainingService } from '../../training/service.ts';
import type { AuthContext } from '../auth/guard.ts';
import { ErrorResponseSchema } from '../schemas.ts';
import { trainingRunRoutes } from './training-runs.ts';

const ScenarioSummarySchema = z.object({
  name: z.string(),
  title: z.string(),
  /** What the trainee should notice and do. */
  description: z.string(),
  duration_s: z.number(),
  devices: z.array(z.object({ id: z.string(), profile: z.string() })),
  /** Start: plays through the station's broker (not a recorded replay). */
  broker: z.boolean(),
  /** Assign / self-paced: runs on its own engine and clock (not a poll device). */
  trainee: z.boolean(),
});

const RunSchema = z.object({
  run: z.string(),
  scenario: z.string(),
  title: z.string(),
  state: z.enum(['running', 'finished', 'stopped', 'failed']),
  /** Scenario seconds (wall seconds × speed). */
  elapsed_s: z.number(),
  duration_s: z.number(),
  speed: z.number(),
  /** Device ids on the wire: `training-<scenario device id>`. */
  devices: z.array(z.string()),
  readings_published: z.number().int(),
  alarms_raised: z.number().int(),
  last_action: z.string().nullable(),
  error: z.string().nullable(),
  started_at: z.number(),
  started_by: z.string(),
  ended_at: z.number().nullable(),
  stopped_by: z.string().nullable(),
});

const StartBodySchema = z.object({
  /** Scenario seconds per wall second; 1 = real time. Staleness alarms stay wall-clock. */
  speed: z.number().positive().max(100).default(1),
});

const errors = {
  401: ErrorResponseSchema,
  403: ErrorResponseSchema,
  404: ErrorResponseSchema,
  409: ErrorResponseSchema,
  503: ErrorResponseSchema,
};
const STATUS: Record<TrainingError['code'], { status: 404 | 409 | 503; code: string; error: string }> = {
  not_found: { status: 404, code: 'RS_ERR_NOT_FOUND', error: 'Not Found' },
  busy: { status: 409, code: 'RS_ERR_CONFLICT', error: 'Conflict' },
  unavailable: { status: 503, code: 'RS_ERR_TRAINING_UNAVAILABLE', error: 'Service Unavailable' },
};

/**
 * Trainer API under `/api/training`: anyone may read the scenarios and runs (like every view of
 * the station); starting and stopping need the `training.run` permission (role trainer) and are
 * audited, refusals included. One run at a time (409 while one runs); 503 when the server was
 * started without a broker URL to run scenarios on.
 */
export const trainingRoutes: FastifyPluginAsyncZod<{ training: TrainingService; auth: AuthContext; desk?: TrainingDesk }> = async (
  app,
  { training, auth, desk },
) => {
  // Trainee runs on their own engines (src/training/desk.ts), next to the broker-played runs below.
  if (desk) await app.register(trainingRunRoutes, { desk, auth });

  app.get(
    '/training/scenarios',
    {
      schema: {
        description: 'The shipped training scenarios; `available` says whether this server can run them.',
        response: { 200: z.object({ available: z.boolean(), scenarios: z.array(ScenarioSummarySchema) }) },
      },
    },
    async () => {
      // Broker-played scenarios, plus the ones only a trainee run can play (recorded replays).
      const own = new Map((desk?.scenarios() ?? []).map((sc) => [sc.name, sc]));
      const broker = training.scenarios().map((sc) => ({ ...sc, broker: true, trainee: own.has(sc.name) }));
      const names = new Set(broker.map((sc) => sc.name));
      const replays = [...own.values()]
        .filter((sc) => !names.has(sc.name))
        .map((sc) => ({
          name: sc.name,
          title: sc.title,
          description: sc.description,
          duration_s: sc.duration_s,
          devices: sc.devices.map((d) => ({ id: `${TRAINING_PREFIX}${d.id}`, profile: d.profile })),
          broker: false,
          trainee: true,
        }));
      return { available: training.available, scenarios: [...broker, ...replays].sort((a, b) => a.name.localeCompare(b.name)) };
    },
  );

  app.get(
    '/training/runs',
    {
      schema: {
        description: 'Training runs, newest first (the running one, if any, first).',
        response: { 200: z.object({ available: z.boolean(), runs: z.array(RunSchema) }) },
      },
    },
    async () => ({ available: training.available, runs: training.runs() }),
  );

  /** Runs a service call, audits it, and maps a TrainingError to its status. */
  async function act<T>(
    req: FastifyRequest,
    reply: FastifyReply,
    action: string,
    target: string,
    detail: Record<string, unknown>,
    run: () => Promise<T>,
  ): Promise<T | FastifyReply> {
    try {
      const result = await run();
      auth.audit(req, { action, target, ok: true, detail });
      return result;
    } catch (e) {
      if (!(e instanceof TrainingError)) throw e;
      auth.audit(req, { action, target, ok: false, detail: { ...detail, refused: e.message } });
      const s = STATUS[e.code];
      return reply.code(s.status).send({ statusCode: s.status, code: s.code, error: s.error, message: e.message });
    }
  }

  app.post(
    '/training/scenarios/:name/start',
    {
      config: { permission: 'training.run', action: 'training.start' },
      schema: {
        description: 'Start a scenario through the live pipeline (devices training-<id>, everything tagged training). Trainers only.',
        params: z.object({ name: z.string().min(1).max(64) }),
        body: StartBodySchema,
        response: { 200: z.object({ run: RunSchema }), ...errors },
      },
    },
    async (req, reply) => {
      const user = (req.user as { name: string }).name;
      return act(req, reply, 'training.start', req.params.name, { speed: req.body.speed }, async () => ({
        run: await training.start(req.params.name, { user, speed: req.body.speed }),
      }));
    },
  );

  app.post(
    '/training/runs/:id/stop',
    {
      config: { permission: 'training.run', action: 'training.stop' },
      schema: {
        description: 'Stop a training run early; a run that has ended already is returned as it is. Trainers only.',
        params: z.object({ id: z.string().min(1).max(64) }),
        body: z.object({}).default({}),
        response: { 200: z.object({ run: RunSchema }), ...errors },
      },
    },
    async (req, reply) => {
      const user = (req.user as { name: string }).name;
      return act(req, reply, 'training.stop', req.params.id, {}, async () => ({ run: await training.stop(req.params.id, user) }));
    },
  );
};
