import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AlarmActionError } from '../../alarms/lifecycle.ts';
import { DispositionSchema } from '../../alarms/types.ts';
import { TraineeRunError, type TrainingDesk } from '../../training/desk.ts';
import { reportHtml } from '../../training/report-html.ts';
import type { AuthContext } from '../auth/guard.ts';
import { roleAllows } from '../auth/roles.ts';

type User = { name: string; role: Parameters<typeof roleAllows>[0] };
const userOf = (req: FastifyRequest) => req.user as unknown as User;

const ERR: Record<string, { status: number; code: string }> = {
  not_found: { status: 404, code: 'RS_ERR_NOT_FOUND' },
  forbidden: { status: 403, code: 'RS_ERR_FORBIDDEN' },
  busy: { status: 409, code: 'RS_ERR_CONFLICT' },
  invalid: { status: 409, code: 'RS_ERR_CONFLICT' },
  invalid_state: { status: 409, code: 'RS_ERR_ALARM_INVALID_STATE' },
  invalid_argument: { status: 400, code: 'RS_ERR_ALARM_INVALID_ARGUMENT' },
};

const ActionBody = z
  .object({
    comment: z.string().max(500).optional(),
    value: DispositionSchema.optional(),
    nuclide: z.string().min(1).max(32).optional(),
    for_s: z
      .number()
      .positive()
      .max(8 * 3600)
      .optional(),
  })
  .default({});

/**
 * Trainee runs (src/training/desk.ts): a trainer starts a scenario for a named trainee, or a
 * trainee starts one alone (self-paced); the trainee works the run's alarms, which live in the
 * run's own engine and never in the live list; the after-action report is JSON or a printable
 * page. Reports are personal: only trainers and the run's trainee read them.
 */
export const trainingRunRoutes: FastifyPluginAsyncZod<{ desk: TrainingDesk; auth: AuthContext }> = async (app, { desk, auth }) => {
  async function act<T>(req: FastifyRequest, reply: FastifyReply, action: string, target: string, run: () => T | Promise<T>) {
    try {
      const result = await run();
      auth.audit(req, { action, target, ok: true, detail: {} });
      return result;
    } catch (e) {
      if (!(e instanceof TraineeRunError) && !(e instanceof AlarmActionError)) throw e;
      auth.audit(req, { action, target, ok: false, detail: { refused: e.message } });
      const s = ERR[e.code] ?? { status: 400, code: 'RS_ERR_ALARM_INVALID_ARGUMENT' };
      return reply.code(s.status).send({ statusCode: s.status, code: s.code, error: 'Refused', message: e.message });
    }
  }
  const mayRead = (req: FastifyRequest, trainee: string | null) => {
    const u = userOf(req);
    return roleAllows(u.role, 'training.run') || (trainee !== null && trainee === u.name);
  };
  const speed = z.number().positive().max(100).default(1);

  app.post(
    '/training/scenarios/:name/runs',
    {
      config: { permission: 'training.run', action: 'training.assign' },
      schema: {
        description: 'Start a scenario for a named trainee (trainers): its own engine on its own clock, nothing in the live list.',
        params: z.object({ name: z.string().min(1).max(64) }),
        body: z.object({ trainee: z.string().min(1).max(64), speed }),
      },
    },
    async (req, reply) =>
      act(req, reply, 'training.assign', req.params.name, () => ({
        run: desk.start(req.params.name, {
          trainee: req.body.trainee,
          started_by: userOf(req).name,
          speed: req.body.speed,
          mode: 'instructor',
        }),
      })),
  );

  app.post(
    '/training/scenarios/:name/self',
    {
      config: { permission: 'training.act', action: 'training.self_start' },
      schema: {
        description: 'Self-paced: a trainee starts a scenario alone; the report goes to the trainee and to every trainer.',
        params: z.object({ name: z.string().min(1).max(64) }),
        body: z.object({ speed }).default({ speed: 1 }),
      },
    },
    async (req, reply) => {
      const me = userOf(req).name;
      return act(req, reply, 'training.self_start', req.params.name, () => ({
        run: desk.start(req.params.name, { trainee: me, started_by: me, speed: req.body.speed, mode: 'self_paced' }),
      }));
    },
  );

  app.get(
    '/training/runs/:id/alarms',
    { config: { permission: 'authenticated' }, schema: { params: z.object({ id: z.string().min(1).max(64) }) } },
    async (req, reply) =>
      act(req, reply, 'training.view', req.params.id, () => {
        const r = desk.report(req.params.id);
        if (!r || !mayRead(req, r.trainee)) throw new TraineeRunError('not_found', `no training run '${req.params.id}' of yours`);
        const running = r.state === 'running';
        return {
          run: req.params.id,
          alarms: running ? desk.alarms(req.params.id) : [],
          checklist: running ? desk.checklistOf(req.params.id) : [],
        };
      }),
  );

  app.post(
    '/training/runs/:id/alarms/:alarm/:action',
    {
      config: { permission: 'training.act', action: 'training.alarm_action' },
      schema: {
        params: z.object({
          id: z.string().min(1).max(64),
          alarm: z.string().min(1).max(300),
          action: z.enum(['view_evidence', 'acknowledge', 'silence', 'shelve', 'reset', 'disposition']),
        }),
        body: ActionBody,
      },
    },
    async (req, reply) => {
      const { id, alarm, action } = req.params;
      const b = req.body;
      const c = b.comment ? { comment: b.comment } : {};
      return act(req, reply, `training.${action}`, alarm, () => {
        const user = userOf(req).name;
        if (action === 'disposition') {
          if (!b.value) throw new AlarmActionError('invalid_argument', 'disposition needs a value');
          return {
            transitions: desk.act(id, user, alarm, {
              kind: 'disposition',
              value: b.value,
              ...(b.nuclide ? { nuclide: b.nuclide } : {}),
              ...c,
            }),
          };
        }
        if (action === 'shelve') return { transitions: desk.act(id, user, alarm, { kind: 'shelve', for_s: b.for_s ?? 600, ...c }) };
        return { transitions: desk.act(id, user, alarm, { kind: action, ...c }) };
      });
    },
  );

  app.post(
    '/training/runs/:id/devices/:device/out-of-service',
    {
      config: { permission: 'training.act', action: 'training.out_of_service' },
      schema: {
        params: z.object({ id: z.string().min(1).max(64), device: z.string().min(1).max(64) }),
        body: z.object({ on: z.boolean() }),
      },
    },
    async (req, reply) =>
      act(req, reply, 'training.out_of_service', req.params.device, () => ({
        transitions: desk.outOfService(req.params.id, userOf(req).name, req.params.device, req.body.on),
      })),
  );

  app.post(
    '/training/runs/:id/checklist/:item',
    {
      config: { permission: 'training.act', action: 'training.checklist' },
      schema: { params: z.object({ id: z.string().min(1).max(64), item: z.string().min(1).max(64) }), body: z.object({}).default({}) },
    },
    async (req, reply) =>
      act(req, reply, 'training.checklist', req.params.item, () => {
        desk.checklist(req.params.id, userOf(req).name, req.params.item);
        return { ok: true };
      }),
  );

  const reportOf = (req: FastifyRequest, id: string) => {
    const r = desk.report(id);
    if (!r || !mayRead(req, r.trainee)) throw new TraineeRunError('not_found', `no training run '${id}' of yours`);
    return r;
  };
  app.get(
    '/training/runs/:id/report',
    { config: { permission: 'authenticated' }, schema: { params: z.object({ id: z.string().min(1).max(64) }) } },
    async (req, reply) => act(req, reply, 'training.report', req.params.id, () => reportOf(req, req.params.id)),
  );
  app.get(
    '/training/runs/:id/report.html',
    { config: { permission: 'authenticated' }, schema: { params: z.object({ id: z.string().min(1).max(64) }) } },
    async (req, reply) => {
      const r = await act(req, reply, 'training.report', req.params.id, () => reportOf(req, req.params.id));
      if ((r as unknown) === reply) return reply;
      return reply.type('text/html; charset=utf-8').send(reportHtml(r as ReturnType<typeof reportOf>));
    },
  );
  app.get(
    '/training/trainees/:name/runs',
    { config: { permission: 'authenticated' }, schema: { params: z.object({ name: z.string().min(1).max(64) }) } },
    async (req, reply) =>
      act(req, reply, 'training.list', req.params.name, () => {
        if (!mayRead(req, req.params.name)) throw new TraineeRunError('forbidden', 'only trainers and the trainee see these runs');
        return { trainee: req.params.name, runs: desk.list({ trainee: req.params.name }) };
      }),
  );
  app.post(
    '/training/runs/:id/end',
    {
      config: { permission: 'authenticated', action: 'training.end' },
      schema: { params: z.object({ id: z.string().min(1).max(64) }), body: z.object({}).default({}) },
    },
    async (req, reply) =>
      act(req, reply, 'training.end', req.params.id, async () => {
        reportOf(req, req.params.id);
        return desk.stop(req.params.id);
      }),
  );
};
