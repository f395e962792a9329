import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { AlarmActionError } from '../../alarms/lifecycle.ts';
import type { AlarmTransition } from '../../alarms/types.ts';
import {
  AckBodySchema,
  ActionResponseSchema,
  AlarmIdParamsSchema,
  DeviceIdParamsSchema,
  DispositionBodySchema,
  ErrorResponseSchema,
  OutOfServiceBodySchema,
  OutOfServiceResponseSchema,
  ResetBodySchema,
  ShelveBodySchema,
  SilenceBodySchema,
  UnshelveBodySchema,
} from '../schemas.ts';
import type { ServerDeps } from './deps.ts';

const STATUS_OF: Record<AlarmActionError['code'], 400 | 404 | 409> = { not_found: 404, invalid_state: 409, invalid_argument: 400 };
const errors = {
  400: ErrorResponseSchema,
  401: ErrorResponseSchema,
  403: ErrorResponseSchema,
  404: ErrorResponseSchema,
  409: ErrorResponseSchema,
};

/**
 * Operator and technician actions on alarms (ISA-18.2): acknowledge, shelve, unshelve, silence,
 * reset, disposition (operator), and device out-of-service (technician). Each runs through the
 * engine, whose transitions reach SSE and MQTT through the engine's transition bus, and is written to
 * the audit log, refusals included. Engine refusals map to 404 (no such alarm), 409 (not in a
 * state that allows it) and 400 (bad argument). Registered under `/api`.
 */
export const alarmActionRoutes: FastifyPluginAsyncZod<ServerDeps> = async (app, deps) => {
  const { engine, auth, now } = deps;

  /** Runs one engine action for the logged-in user, publishes and audits it, maps refusals to HTTP. */
  function act(
    req: FastifyRequest,
    reply: FastifyReply,
    action: string,
    target: string,
    detail: Record<string, unknown>,
    run: (user: string) => AlarmTransition[],
  ) {
    try {
      const transitions = run((req.user as { name: string }).name);
      auth.audit(req, { action, target, ok: true, detail: { ...detail, transitions: transitions.map((t) => t.kind) } });
      return { alarm: transitions.at(-1)?.alarm ?? engine.get(target) ?? null, transitions };
    } catch (e) {
      if (!(e instanceof AlarmActionError)) throw e;
      auth.audit(req, { action, target, ok: false, detail: { ...detail, refused: e.message } });
      const status = STATUS_OF[e.code];
      const name = status === 404 ? 'Not Found' : status === 409 ? 'Conflict' : 'Bad Request';
      return reply.code(status).send({ statusCode: status, code: `RS_ERR_ALARM_${e.code.toUpperCase()}`, error: name, message: e.message });
    }
  }

  const operate = (action: string) => ({ permission: 'alarm.operate' as const, action });
  const schemaFor = <B>(description: string, body: B) => ({
    description,
    params: AlarmIdParamsSchema,
    body,
    response: { 200: ActionResponseSchema, ...errors },
  });

  app.post(
    '/alarms/:id/ack',
    { config: operate('alarm.acknowledge'), schema: schemaFor('Acknowledge, with an optional comment.', AckBodySchema) },
    async (req, reply) => {
      const { comment } = req.body;
      return act(req, reply, 'alarm.acknowledge', req.params.id, { comment }, (user) =>
        engine.acknowledge(req.params.id, { user, ...(comment ? { comment } : {}) }),
      );
    },
  );

  app.post(
    '/alarms/:id/shelve',
    {
      config: operate('alarm.shelve'),
      schema: schemaFor('Shelve for a duration (max one shift); a reason is required.', ShelveBodySchema),
    },
    async (req, reply) => {
      const { duration_s, comment } = req.body;
      return act(req, reply, 'alarm.shelve', req.params.id, { duration_s, comment }, (user) =>
        engine.shelve(req.params.id, { user, until: now() + duration_s * 1000, comment }),
      );
    },
  );

  app.post(
    '/alarms/:id/unshelve',
    { config: operate('alarm.unshelve'), schema: schemaFor('End a shelve early.', UnshelveBodySchema) },
    async (req, reply) => act(req, reply, 'alarm.unshelve', req.params.id, {}, (user) => engine.unshelve(req.params.id, { user })),
  );

  app.post(
    '/alarms/:id/silence',
    {
      config: operate('alarm.silence'),
      schema: schemaFor('Mute the audible cue (default 30 s); not an acknowledgement.', SilenceBodySchema),
    },
    async (req, reply) => {
      const { duration_s } = req.body;
      return act(req, reply, 'alarm.silence', req.params.id, { duration_s }, (user) =>
        engine.silence(req.params.id, { user, ...(duration_s ? { until: now() + duration_s * 1000 } : {}) }),
      );
    },
  );

  app.post(
    '/alarms/:id/reset',
    { config: operate('alarm.reset'), schema: schemaFor('Reset a latched alarm whose condition cleared.', ResetBodySchema) },
    async (req, reply) => {
      const { comment } = req.body;
      return act(req, reply, 'alarm.reset', req.params.id, { comment }, (user) =>
        engine.reset(req.params.id, { user, ...(comment ? { comment } : {}) }),
      );
    },
  );

  app.post(
    '/alarms/:id/disposition',
    {
      config: operate('alarm.disposition'),
      schema: schemaFor('Classify: true, innocent (NORM, medical; nuclide optional), false, training.', DispositionBodySchema),
    },
    async (req, reply) => {
      const { value, comment, nuclide } = req.body;
      return act(req, reply, 'alarm.disposition', req.params.id, { value, comment, nuclide }, (user) =>
        engine.setDisposition(req.params.id, { user, value, ...(comment ? { comment } : {}), ...(nuclide ? { nuclide } : {}) }),
      );
    },
  );

  app.post(
    '/devices/:id/out-of-service',
    {
      config: { permission: 'device.maintain', action: 'device.out_of_service' },
      schema: {
        description: 'Take a device (or one rule of it) out of service (`on: true`) or return it (`on: false`). Technicians only.',
        params: DeviceIdParamsSchema,
        body: OutOfServiceBodySchema,
        response: { 200: OutOfServiceResponseSchema, ...errors },
      },
    },
    async (req, reply) => {
      const { on, comment, rule } = req.body;
      const device = req.params.id;
      if (!deps.state.device(device))
        return reply.code(404).send({ statusCode: 404, code: 'RS_ERR_NOT_FOUND', error: 'Not Found', message: `no device ${device}` });
      const user = (req.user as { name: string }).name;
      const transitions = engine.setOutOfService(deps.state.station.id, device, {
        user,
        on,
        ...(comment ? { comment } : {}),
        ...(rule ? { rule } : {}),
      });
      auth.audit(req, {
        action: on ? 'device.out_of_service' : 'device.return_to_service',
        target: device,
        ok: true,
        detail: { comment, rule },
      });
      return { device, out_of_service: on, transitions };
    },
  );
};
