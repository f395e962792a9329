import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { DeviceState } from '../../core/contract.ts';
import { HealthSchema } from '../schemas.ts';
import type { ServerDeps } from './deps.ts';

/**
 * `GET /healthz`: liveness plus what an operator must know at a glance, above all whether
 * readings are being stored (alarms work either way, history does not).
 */
export const healthRoutes: FastifyPluginAsyncZod<ServerDeps> = async (app, { state, storage, now }) => {
  app.get('/healthz', { schema: { response: { 200: HealthSchema } } }, async () => {
    const devices: Partial<Record<DeviceState, number>> = {};
    for (const d of state.devices()) devices[d.status] = (devices[d.status] ?? 0) + 1;
    return {
      ok: true,
      station: state.station,
      storage: { enabled: storage.enabled, detail: storage.detail },
      devices,
      alarms_active: state.alarms({ state: 'active' }).length,
      time: now(),
    };
  });
};
