import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ParcelDesk, ParcelView } from '../parcel-desk.ts';

/**
 * Recent parcels (`GET /api/parcels`): verdict, category, nuclides named, times in and out, the
 * chute devices' net counts and the alarms raised while the parcel was in. Read-only and without
 * login, like the alarm list. `?alarm=<id>` returns the parcel an alarm was raised during.
 */

const NuclideSchema = z.object({ nuclide: z.string(), category: z.string(), confidence: z.number() });
export const ParcelResponseSchema = z.object({
  id: z.string(),
  scanner: z.string(),
  opened_at: z.number(),
  closed_at: z.number(),
  verdict: z.enum(['clear', 'nuisance', 'alarm']),
  category: z.string().optional(),
  nuclides: z.array(NuclideSchema),
  identification_error: z.string().optional(),
  devices: z.record(z.string(), z.object({ net_counts: z.number(), significance: z.number(), background_cps: z.number() })),
  alarms: z.array(z.string()),
});
const ParcelsQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  alarm: z.string().max(128).optional(),
});

export function parcelView(p: ParcelView): z.infer<typeof ParcelResponseSchema> {
  const devices: Record<string, { net_counts: number; significance: number; background_cps: number }> = {};
  for (const [d, m] of Object.entries(p.devices))
    devices[d] = {
      net_counts: m.net_counts,
      // JSON has no infinity: a parcel over a zero background is "very significant", capped.
      significance: Number.isFinite(m.significance) ? m.significance : 1e6,
      background_cps: m.background_cps,
    };
  return {
    id: p.id,
    scanner: p.scanner,
    opened_at: p.opened_at,
    closed_at: p.closed_at,
    verdict: p.verdict,
    ...(p.category ? { category: p.category } : {}),
    nuclides: (p.identification?.nuclides ?? []).map((n) => ({ nuclide: n.nuclide, category: n.category, confidence: n.confidence })),
    ...(p.identification_error ? { identification_error: p.identification_error } : {}),
    devices,
    alarms: p.alarms,
  };
}

export const parcelRoutes: FastifyPluginAsyncZod<{ desk: ParcelDesk | undefined }> = async (app, { desk }) => {
  app.get(
    '/parcels',
    {
      schema: {
        description: 'Recent parcels through the scanner tunnel, newest first (empty when the config has no `parcels` section).',
        querystring: ParcelsQuerySchema,
        response: { 200: z.object({ enabled: z.boolean(), parcels: z.array(ParcelResponseSchema) }) },
      },
    },
    async (req) => {
      if (!desk) return { enabled: false, parcels: [] };
      const { alarm, limit } = req.query;
      const found = alarm ? desk.forAlarm(alarm) : undefined;
      const parcels = alarm ? (found ? [found] : []) : desk.list(limit);
      return { enabled: true, parcels: parcels.map(parcelView) };
    },
  );
};
