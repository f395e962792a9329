import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { isLiveSource } from '../../alarms/kpis.ts';
import type { DeviceState } from '../../core/contract.ts';
import { VERSION } from '../../core/version.ts';
import { assessHealth, type HealthReason } from '../health-checks.ts';
import { HealthSchema } from '../schemas.ts';
import type { ServerDeps } from './deps.ts';

/**
 * `GET /healthz`: 200 with `status: ok` only when readings are being stored, no queue is above
 * its bound and a device is online; otherwise 503 `degraded` with the reasons (health-checks.ts).
 * Polled by monitors and the console, so it reads in-memory state only.
 */
export const healthRoutes: FastifyPluginAsyncZod<ServerDeps & { healthChecks?: () => HealthReason[] }> = async (app, deps) => {
  const { state, storage, now } = deps;
  app.get('/healthz', { schema: { response: { 200: HealthSchema, 503: HealthSchema } } }, async (_req, reply) => {
    const views = state.devices();
    const devices: Partial<Record<DeviceState, number>> = {};
    for (const d of views) devices[d.status] = (devices[d.status] ?? 0) + 1;
    let extra: HealthReason[];
    try {
      extra = deps.healthChecks?.() ?? [];
    } catch (err) {
      // A broken probe must not turn the health check into a 500: it is itself a reason.
      extra = [{ code: 'storage_not_writing', message: `data-path check failed: ${(err as Error).message}` }];
    }
    const verdict = assessHealth({ storage, devices: views, extra });
    reply.code(verdict.status === 'ok' ? 200 : 503);
    return {
      ok: verdict.status === 'ok',
      status: verdict.status,
      ...(verdict.status === 'ok' ? {} : { code: 'RS_ERR_SERVICE_DEGRADED' as const }),
      reasons: verdict.reasons,
      station: state.station,
      storage: { enabled: storage.enabled, detail: storage.detail },
      devices,
      // The station's own alarms: a training run's are not the station's state.
      alarms_active: state.alarms({ state: 'active' }).filter((a) => isLiveSource(a.source)).length,
      time: now(),
      version: VERSION,
    };
  });
};
