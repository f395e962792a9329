import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { CalibrationRequestSchema } from '../../calibration/requests.ts';
import { CalibrationRecordSchema } from '../../calibration/schemas.ts';
import { ErrorResponseSchema } from '../schemas.ts';
import { type CalibrationRouteDeps, judgeDeviceFactor } from './calibrations.ts';

const RequestParamsSchema = z.object({ id: z.string().regex(/^calreq-[0-9a-f]{8}$/, 'a request id: calreq-<8 hex>') });
const DecisionBodySchema = z.object({ comment: z.string().trim().max(2000).optional() }).strict();
const ListQuerySchema = z.object({
  state: z.enum(['pending', 'approved', 'rejected']).optional(),
  device: z.string().max(64).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
const errors = {
  400: ErrorResponseSchema,
  401: ErrorResponseSchema,
  403: ErrorResponseSchema,
  404: ErrorResponseSchema,
  409: ErrorResponseSchema,
};
const ERROR_NAMES = { 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict' } as const;

/**
 * Four eyes on implausible calibrations (docs/calibration-trust.md): a factor outside the
 * plausible range is recorded as a pending request by `POST /api/devices/:id/calibrations`
 * (202, RS_ERR_CALIBRATION_APPROVAL); here another technician or an admin approves it (it is then
 * recorded, in force and signed out to the agent) or rejects it. The requester can reject
 * (withdraw) but never approve their own. Every decision and refusal is audited.
 */
export const calibrationApprovalRoutes: FastifyPluginAsyncZod<CalibrationRouteDeps> = async (app, deps) => {
  const { state, store, auth, now } = deps;

  function refuse(
    req: FastifyRequest,
    reply: FastifyReply,
    action: string,
    status: keyof typeof ERROR_NAMES,
    code: string,
    target: string,
    message: string,
  ) {
    auth.audit(req, { action, target, ok: false, detail: { refused: message, code, request_id: (req.params as { id: string }).id } });
    return reply.code(status).send({ statusCode: status, code, error: ERROR_NAMES[status], message });
  }

  /** The request a decision is about; when there is none, a 404 is sent (and audited) and undefined returned. */
  function requestOr404(req: FastifyRequest, reply: FastifyReply, action: string, id: string) {
    const request = store.requests.get(id);
    if (!request) refuse(req, reply, action, 404, 'RS_ERR_NOT_FOUND', id, `no calibration request ${id}`);
    return request;
  }

  app.get(
    '/calibration-requests',
    {
      schema: {
        description: 'Calibration requests outside the plausible range, newest first; `state=pending` lists those waiting for approval.',
        querystring: ListQuerySchema,
        response: { 200: z.object({ requests: z.array(CalibrationRequestSchema) }), 400: ErrorResponseSchema },
      },
    },
    async (req) => ({
      requests: store.requests.list({
        ...(req.query.state ? { state: req.query.state } : {}),
        ...(req.query.device ? { device: req.query.device } : {}),
        limit: req.query.limit,
      }),
    }),
  );

  app.post(
    '/calibration-requests/:id/approve',
    {
      config: { permission: 'calibration.approve', action: 'calibration.approve' },
      schema: {
        description:
          'Approve a pending calibration (another technician or an admin, not the requester): it is recorded, in force at once and sent to the agent.',
        params: RequestParamsSchema,
        body: DecisionBodySchema,
        response: { 200: CalibrationRecordSchema, ...errors },
      },
    },
    async (req, reply) => {
      const action = 'calibration.approve';
      const request = requestOr404(req, reply, action, req.params.id);
      if (!request) return reply;
      const user = (req.user as { name: string }).name;
      if (request.state !== 'pending')
        return refuse(
          req,
          reply,
          action,
          409,
          'RS_ERR_CONFLICT',
          request.device,
          `request ${request.request_id} is ${request.state} already`,
        );
      if (request.requested_by === user)
        return refuse(
          req,
          reply,
          action,
          403,
          'RS_ERR_CALIBRATION_APPROVAL',
          request.device,
          'a second person must approve: the requester cannot approve their own calibration',
        );
      const view = state.device(request.device);
      if (!view) return refuse(req, reply, action, 404, 'RS_ERR_NOT_FOUND', request.device, `no device ${request.device}`);
      // The ceiling is checked again: it is never allowed, whatever was pending.
      const verdict = judgeDeviceFactor(deps, view, request.proposal.factor);
      if (verdict.verdict === 'refused')
        return refuse(
          req,
          reply,
          action,
          400,
          'RS_ERR_CALIBRATION_IMPLAUSIBLE',
          request.device,
          `factor ${request.proposal.factor} lies beyond ${verdict.ceiling.min}…${verdict.ceiling.max}`,
        );
      const record = store.approve(request.request_id, user, now(), req.body.comment);
      if (!record)
        return refuse(req, reply, action, 409, 'RS_ERR_CONFLICT', request.device, `request ${request.request_id} was decided meanwhile`);
      state.applyCalibration(record);
      deps.publishCalibration?.(record);
      auth.audit(req, {
        action,
        target: record.device,
        ok: true,
        detail: {
          request_id: request.request_id,
          requested_by: request.requested_by,
          calibration_id: record.calibration_id,
          kind: record.kind,
          factor: record.factor,
          plausible: request.plausible,
        },
      });
      return record;
    },
  );

  app.post(
    '/calibration-requests/:id/reject',
    {
      config: { permission: 'calibration.approve', action: 'calibration.reject' },
      schema: {
        description: 'Reject a pending calibration (anyone who may approve; the requester may withdraw their own). Nothing is recorded.',
        params: RequestParamsSchema,
        body: DecisionBodySchema,
        response: { 200: CalibrationRequestSchema, ...errors },
      },
    },
    async (req, reply) => {
      const action = 'calibration.reject';
      const request = requestOr404(req, reply, action, req.params.id);
      if (!request) return reply;
      const user = (req.user as { name: string }).name;
      const decided = store.requests.decide(request.request_id, {
        state: 'rejected',
        by: user,
        at: now(),
        ...(req.body.comment ? { comment: req.body.comment } : {}),
      });
      if (!decided)
        return refuse(
          req,
          reply,
          action,
          409,
          'RS_ERR_CONFLICT',
          request.device,
          `request ${request.request_id} is ${request.state} already`,
        );
      auth.audit(req, {
        action,
        target: request.device,
        ok: true,
        detail: { request_id: request.request_id, requested_by: request.requested_by, factor: request.proposal.factor },
      });
      return decided;
    },
  );
};
