import { z } from 'zod';
import { AlarmSchema } from '../alarms/types.ts';
import { DeviceStateSchema } from '../core/contract.ts';
import { DeviceKindSchema, IdSchema, ReadingSchema } from '../core/reading.ts';

/** HTTP response and query schemas shared by the route plugins (zod, via fastify-type-provider-zod). */

export const StationSchema = z.object({ id: z.string(), name: z.string() });

export const StorageStateSchema = z.object({
  /** False when readings are not being written to InfluxDB (none configured, or it is down). */
  enabled: z.boolean(),
  /** One line for the operator, e.g. `InfluxDB at http://127.0.0.1:8086, database radscreen`. */
  detail: z.string(),
});
export type StorageState = z.infer<typeof StorageStateSchema>;

export const HealthSchema = z.object({
  ok: z.boolean(),
  station: StationSchema,
  storage: StorageStateSchema,
  devices: z.partialRecord(DeviceStateSchema, z.number().int()),
  alarms_active: z.number().int(),
  time: z.number().int(),
});

export const DeviceViewSchema = z.object({
  id: z.string(),
  profile: z.string(),
  name: z.string(),
  kind: DeviceKindSchema.nullable(),
  status: DeviceStateSchema,
  reported_status: DeviceStateSchema.nullable(),
  status_detail: z.record(z.string(), z.unknown()),
  status_ts: z.number().nullable(),
  last_reading: ReadingSchema.nullable(),
  last_reading_at: z.number().nullable(),
  stale_after_ms: z.number(),
});

export const DevicesResponseSchema = z.object({ station: StationSchema, devices: z.array(DeviceViewSchema) });

export const LatestQuerySchema = z.object({
  /** Only this device's last reading. */
  device: IdSchema.optional(),
});
export const LatestResponseSchema = z.object({ readings: z.array(ReadingSchema) });

export const AlarmsQuerySchema = z.object({
  state: z.enum(['active', 'cleared', 'all']).default('all'),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
export const AlarmsResponseSchema = z.object({ alarms: z.array(AlarmSchema) });

export const ErrorResponseSchema = z.object({
  statusCode: z.number().int(),
  code: z.string(),
  error: z.string(),
  message: z.string(),
});
