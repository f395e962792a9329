import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { DeviceProfile } from '../../core/profile.ts';
import { buildAlarmN42 } from '../n42-export.ts';
import { AlarmDetailSchema, AlarmIdParamsSchema, ErrorResponseSchema, KpisQuerySchema, KpisResponseSchema } from '../schemas.ts';
import type { ServerDeps } from './deps.ts';

/**
 * Read-only alarm views that need no login: KPIs (`/alarms/kpis`), one alarm with its full
 * transition history (`/alarms/:id`), and its evidence as an ANSI N42.42-2011 document
 * (`/alarms/:id/n42`). Registered under `/api`.
 */
export const alarmReadRoutes: FastifyPluginAsyncZod<ServerDeps & { catalogue: ReadonlyMap<string, DeviceProfile> }> = async (app, deps) => {
  const { engine, state, catalogue } = deps;
  const notFound = (id: string) => ({ statusCode: 404, code: 'RS_ERR_NOT_FOUND', error: 'Not Found', message: `no alarm ${id}` });

  app.get(
    '/alarms/kpis',
    {
      schema: {
        description: 'Alarm-management KPIs (ISA-18.2 / EEMUA 191) over the last `window_h` hours, with the station flood state.',
        querystring: KpisQuerySchema,
        response: { 200: KpisResponseSchema, 400: ErrorResponseSchema },
      },
    },
    async (req) => ({ ...engine.kpis({ windowMs: req.query.window_h * 3_600_000 }), flood: engine.flood(state.station.id) }),
  );

  app.get(
    '/alarms/:id',
    {
      schema: {
        description: 'One alarm occurrence (open or closed) with every transition, oldest first.',
        params: AlarmIdParamsSchema,
        response: { 200: AlarmDetailSchema, 404: ErrorResponseSchema },
      },
    },
    async (req, reply) => {
      const alarm = engine.get(req.params.id);
      if (!alarm) return reply.code(404).send(notFound(req.params.id));
      return { alarm, history: engine.history(alarm.id) };
    },
  );

  app.get(
    '/alarms/:id/n42',
    {
      schema: {
        description:
          "The alarm's evidence as an ANSI N42.42-2011 XML document (background and foreground RadMeasurements, AnalysisResults/RadAlarm).",
        params: AlarmIdParamsSchema,
        response: { 200: z.string(), 404: ErrorResponseSchema },
      },
    },
    async (req, reply) => {
      const alarm = engine.get(req.params.id);
      if (!alarm) return reply.code(404).send(notFound(req.params.id));
      const profile = catalogue.get(alarm.profile);
      const view = state.device(alarm.device);
      const xml = buildAlarmN42(alarm, {
        manufacturer: profile?.vendor ?? 'Unknown',
        model: profile?.model ?? alarm.profile,
        kind: profile?.kind ?? view?.kind ?? null,
        ...(view ? { name: view.name } : {}),
      });
      const file = `${alarm.id.replace(/[^A-Za-z0-9._-]+/g, '_')}.n42`;
      return reply.type('application/xml; charset=utf-8').header('content-disposition', `inline; filename="${file}"`).send(xml);
    },
  );
};
