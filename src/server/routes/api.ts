import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  AlarmsQuerySchema,
  AlarmsResponseSchema,
  DevicesResponseSchema,
  ErrorResponseSchema,
  LatestQuerySchema,
  LatestResponseSchema,
} from '../schemas.ts';
import type { ServerDeps } from './deps.ts';

/** `/api/*`: read-only JSON views of the live state. Registered under the `/api` prefix. */
export const apiRoutes: FastifyPluginAsyncZod<ServerDeps> = async (app, { state, engine }) => {
  app.get('/devices', { schema: { response: { 200: DevicesResponseSchema } } }, async () => ({
    station: state.station,
    devices: state.devices(),
  }));

  app.get(
    '/readings/latest',
    { schema: { querystring: LatestQuerySchema, response: { 200: LatestResponseSchema, 400: ErrorResponseSchema } } },
    async (req) => {
      const readings = state.latestReadings();
      return { readings: req.query.device ? readings.filter((r) => r.device === req.query.device) : readings };
    },
  );

  app.get(
    '/alarms',
    { schema: { querystring: AlarmsQuerySchema, response: { 200: AlarmsResponseSchema, 400: ErrorResponseSchema } } },
    async (req) => ({ alarms: engine.list({ state: req.query.state, limit: req.query.limit, source: req.query.source }) }),
  );
};
