import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { CalibrationConfig } from '../../calibration/config.ts';
import { calibrationKindOf, judgeFactor, referenceFactor } from '../../calibration/plausibility.ts';
import { CalibrationRequestSchema } from '../../calibration/requests.ts';
import { CalibrationInputSchema, type CalibrationRecord, CalibrationRecordSchema, isoDay } from '../../calibration/schemas.ts';
import type { CalibrationStore } from '../../calibration/store.ts';
import type { Config } from '../../config/schema.ts';
import { type CalibrationKind, CalibrationKindSchema } from '../../core/contract.ts';
import type { DeviceProfile } from '../../core/profile.ts';
import { DeviceIdParamsSchema, ErrorResponseSchema } from '../schemas.ts';
import { calibrationApprovalRoutes } from './calibration-approvals.ts';
import type { ServerDeps } from './deps.ts';

/** What the calibration routes need besides the common deps. */
export interface CalibrationRouteDeps extends ServerDeps {
  store: CalibrationStore;
  catalogue: ReadonlyMap<string, DeviceProfile>;
  /** Hands a newly recorded calibration to the agent (retained MQTT message); none in tests without a broker. */
  publishCalibration?: (record: CalibrationRecord) => void;
  /** Plausible ranges (config `calibration:`); default ±50 % of the reference sensitivity, 0.5–2 for a correction. */
  calibrationConfig?: CalibrationConfig;
  /** Configured devices: a device's `options.sensitivity` is the reference its factor is judged against. */
  devices?: readonly { id: string; options: Record<string, unknown> }[];
}

/** The parts of a full config the calibration routes use; none from a partial (test) config. */
export function calibrationSettings(
  config: Partial<Pick<Config, 'calibration' | 'devices'>>,
): Pick<CalibrationRouteDeps, 'calibrationConfig' | 'devices'> {
  return {
    ...(config.calibration ? { calibrationConfig: config.calibration } : {}),
    ...(config.devices ? { devices: config.devices } : {}),
  };
}

/** Where `factor` falls for a device in this server's config (src/calibration/plausibility.ts). */
export function judgeDeviceFactor(deps: CalibrationRouteDeps, view: { id: string; profile: string }, factor: number) {
  const options = deps.devices?.find((d) => d.id === view.id)?.options ?? {};
  return judgeFactor(factor, { id: view.id, profile: view.profile, options }, deps.catalogue.get(view.profile), deps.calibrationConfig);
}

const HistoryResponseSchema = z.object({
  device: z.string(),
  /** How this device's factor is applied: `sensitivity` (CPM per µSv/h) or `correction` (multiplier). */
  kind: CalibrationKindSchema,
  in_force: CalibrationRecordSchema.nullable(),
  /**
   * The factor the agent applies now: the record in force, else the configured
   * `options.sensitivity`, else the profile's default sensitivity (GM), else 1 (a correction).
   * The console's Calibrate dialog starts from it.
   */
  factor_in_force: z.number(),
  /** Newest first. */
  calibrations: z.array(CalibrationRecordSchema),
});
const HistoryQuerySchema = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) });
/** 202: the factor is outside the plausible range; the calibration waits for a second person. */
const PendingResponseSchema = ErrorResponseSchema.extend({ request: CalibrationRequestSchema });
const errors = { 400: ErrorResponseSchema, 401: ErrorResponseSchema, 403: ErrorResponseSchema, 404: ErrorResponseSchema };
/** A clock a few minutes apart is not a future calibration; anything further is a typo. */
const FUTURE_SLACK_MS = 5 * 60_000;

/**
 * Calibration records (registered under `/api`). Reading the history is open like every read;
 * recording needs `device.maintain` (technicians). A record is append-only: the newest is in
 * force, is shown on `/api/devices` and goes to the agent as a retained MQTT message. The factor
 * kind follows from the profile: a `defaultSensitivity` means a GM tube, so the factor is CPM per
 * µSv/h; otherwise it is a dimensionless dose-rate correction.
 */
export const calibrationRoutes: FastifyPluginAsyncZod<CalibrationRouteDeps> = async (app, deps) => {
  const { state, store, catalogue, auth, now } = deps;
  const kindOf = (profileId: string): CalibrationKind => calibrationKindOf(catalogue.get(profileId));
  // Records made before a restart are in force again at once.
  for (const r of store.latestAll()) state.applyCalibration(r);

  function refuse(req: FastifyRequest | null, reply: FastifyReply, status: 400 | 404, device: string, message: string) {
    if (req) auth.audit(req, { action: 'device.calibrate', target: device, ok: false, detail: { refused: message } });
    const code = status === 404 ? 'RS_ERR_NOT_FOUND' : 'RS_ERR_HTTP_BODY';
    return reply.code(status).send({ statusCode: status, code, error: status === 404 ? 'Not Found' : 'Bad Request', message });
  }

  app.get(
    '/devices/:id/calibrations',
    {
      schema: {
        description: "A device's calibration history, newest first, and the record in force.",
        params: DeviceIdParamsSchema,
        querystring: HistoryQuerySchema,
        response: { 200: HistoryResponseSchema, 400: ErrorResponseSchema, 404: ErrorResponseSchema },
      },
    },
    async (req, reply) => {
      const view = state.device(req.params.id);
      if (!view) return refuse(null, reply, 404, req.params.id, `no device ${req.params.id}`);
      const calibrations = store.history(view.id, req.query.limit);
      const inForce = store.latest(view.id) ?? null;
      const options = deps.devices?.find((d) => d.id === view.id)?.options ?? {};
      const factorInForce = inForce?.factor ?? referenceFactor(catalogue.get(view.profile), options);
      return { device: view.id, kind: kindOf(view.profile), in_force: inForce, factor_in_force: factorInForce, calibrations };
    },
  );

  app.post(
    '/devices/:id/calibrations',
    {
      config: { permission: 'device.maintain', action: 'device.calibrate' },
      schema: {
        description:
          'Record a calibration (technicians). `factor` > 0 is CPM per µSv/h for GM devices, a dose-rate multiplier otherwise; `due` must fall after the calibration day. The new record is in force at once.',
        params: DeviceIdParamsSchema,
        body: CalibrationInputSchema,
        response: { 200: CalibrationRecordSchema, 202: PendingResponseSchema, ...errors },
      },
    },
    async (req, reply) => {
      const device = req.params.id;
      const view = state.device(device);
      if (!view) return refuse(req, reply, 404, device, `no device ${device}`);
      const body = req.body;
      const t = now();
      const calibratedAt = body.calibrated_at ?? t;
      if (calibratedAt > t + FUTURE_SLACK_MS) return refuse(req, reply, 400, device, 'body.calibrated_at: lies in the future');
      if (body.due <= isoDay(calibratedAt))
        return refuse(req, reply, 400, device, `body.due: ${body.due} must be after the calibration date ${isoDay(calibratedAt)}`);
      const proposal = {
        device,
        profile: view.profile,
        kind: kindOf(view.profile),
        factor: body.factor,
        calibrated_at: calibratedAt,
        due: body.due,
        reference: body.reference,
        technician: (req.user as { name: string }).name,
        comment: body.comment || null,
        recorded_at: t,
      };
      const judged = judgeDeviceFactor(deps, view, body.factor);
      if (judged.verdict === 'refused') {
        const message = `factor ${body.factor} lies beyond ${judged.ceiling.min}…${judged.ceiling.max} (10× the device's reference either way): not a calibration`;
        auth.audit(req, {
          action: 'device.calibrate',
          target: device,
          ok: false,
          detail: { refused: message, code: 'RS_ERR_CALIBRATION_IMPLAUSIBLE', factor: body.factor, ceiling: judged.ceiling },
        });
        return reply.code(400).send({ statusCode: 400, code: 'RS_ERR_CALIBRATION_IMPLAUSIBLE', error: 'Bad Request', message });
      }
      if (judged.verdict === 'needs_approval') {
        const request = store.requests.create(proposal, judged.range, t);
        auth.audit(req, {
          action: 'device.calibrate.request',
          target: device,
          ok: true,
          detail: { request_id: request.request_id, factor: body.factor, plausible: judged.range },
        });
        return reply.code(202).send({
          statusCode: 202,
          code: 'RS_ERR_CALIBRATION_APPROVAL',
          error: 'Accepted',
          message: `factor ${body.factor} lies outside the plausible ${judged.range.min}…${judged.range.max}: pending until another technician or an admin approves ${request.request_id}`,
          request,
        });
      }
      const record = store.append(proposal);
      state.applyCalibration(record);
      deps.publishCalibration?.(record);
      auth.audit(req, {
        action: 'device.calibrate',
        target: device,
        ok: true,
        detail: { calibration_id: record.calibration_id, kind: record.kind, factor: record.factor, due: record.due },
      });
      return record;
    },
  );

  // Inherits this plugin's `/api` prefix; its own options must not add it a second time.
  await app.register(calibrationApprovalRoutes, { ...deps, prefix: '' });
};
