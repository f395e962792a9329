import { z } from 'zod';
import { AlarmSchema, AlarmTransitionSchema, DispositionSchema } from '../alarms/types.ts';
import { CalibrationRecordSchema } from '../calibration/schemas.ts';
import { DeviceStateSchema } from '../core/contract.ts';
import { DeviceKindSchema, IdSchema, ReadingSchema, SourceSchema } from '../core/reading.ts';

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
  /** True only when `status` is `ok`. */
  ok: z.boolean(),
  status: z.enum(['ok', 'degraded']),
  /** RS_ERR_SERVICE_DEGRADED when degraded. */
  code: z.literal('RS_ERR_SERVICE_DEGRADED').optional(),
  /** Why the station is degraded (empty when ok): docs/health-and-training-isolation.md. */
  reasons: z.array(
    z.object({
      code: z.enum([
        'storage_off',
        'storage_not_writing',
        'ingest_disconnected',
        'spool_above_bound',
        'outbox_above_bound',
        'no_device_online',
      ]),
      message: z.string(),
      device: z.string().optional(),
    }),
  ),
  station: StationSchema,
  storage: StorageStateSchema,
  devices: z.partialRecord(DeviceStateSchema, z.number().int()),
  alarms_active: z.number().int(),
  time: z.number().int(),
  /** radscreen's package version (what `radscreen --version` prints). */
  version: z.string(),
});

export const DeviceViewSchema = z.object({
  id: z.string(),
  profile: z.string(),
  name: z.string(),
  kind: DeviceKindSchema.nullable(),
  tile: z.enum(['dose', 'scanner']),
  status: DeviceStateSchema,
  reported_status: DeviceStateSchema.nullable(),
  status_detail: z.record(z.string(), z.unknown()),
  status_ts: z.number().nullable(),
  last_reading: ReadingSchema.nullable(),
  last_reading_at: z.number().nullable(),
  stale_after_ms: z.number(),
  /** Display step per channel key as the device's profile declares it (0.01 = two decimals); the console rounds to it. */
  resolution: z.record(z.string(), z.number()),
  /** Calibration expiry date (YYYY-MM-DD): the record in force, else the config; or null. */
  calibration_due: z.string().nullable(),
  /** The calibration record in force, or null. */
  calibration: CalibrationRecordSchema.nullable(),
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
  /** Keep training (or replay) alarms apart from live ones; default all. */
  source: z.union([SourceSchema, z.literal('all')]).default('all'),
});
export const AlarmsResponseSchema = z.object({ alarms: z.array(AlarmSchema) });

export const ErrorResponseSchema = z.object({
  statusCode: z.number().int(),
  code: z.string(),
  error: z.string(),
  message: z.string(),
});

/** `:id` of an alarm (`station:device:rule:raised_at`). */
export const AlarmIdParamsSchema = z.object({ id: z.string().min(1).max(300) });
export const DeviceIdParamsSchema = z.object({ id: IdSchema });

const Comment = z.string().trim().max(2000);
export const AckBodySchema = z.object({ comment: Comment.optional() });
export const ShelveBodySchema = z.object({
  /** How long, s: 1 min to one 8-hour shift (the engine refuses longer). */
  duration_s: z
    .number()
    .int()
    .min(60)
    .max(8 * 3600),
  /** Why: shelving without a recorded reason is how alarms get forgotten. */
  comment: Comment.min(1),
});
export const UnshelveBodySchema = z.object({}).default({});
export const SilenceBodySchema = z.object({ duration_s: z.number().int().min(1).max(3600).optional() }).default({});
export const ResetBodySchema = z.object({ comment: Comment.optional() }).default({});
export const DispositionBodySchema = z.object({
  value: DispositionSchema,
  comment: Comment.optional(),
  /** For `innocent`: the nuclide when identified (e.g. K-40, Tc-99m). */
  nuclide: z.string().trim().max(40).optional(),
});
export const ActionResponseSchema = z.object({ alarm: AlarmSchema.nullable(), transitions: z.array(AlarmTransitionSchema) });

export const OutOfServiceBodySchema = z.object({
  on: z.boolean(),
  comment: Comment.optional(),
  /** Only this rule of the device; default all of its alarms. */
  rule: z.string().optional(),
});
export const OutOfServiceResponseSchema = z.object({
  device: z.string(),
  out_of_service: z.boolean(),
  transitions: z.array(AlarmTransitionSchema),
});

export const AlarmDetailSchema = z.object({ alarm: AlarmSchema, history: z.array(AlarmTransitionSchema) });

export const KpisQuerySchema = z.object({
  window_h: z.coerce
    .number()
    .positive()
    .max(24 * 31)
    .default(24),
});
const Nullable = z.number().nullable();
export const KpisResponseSchema = z.object({
  window_h: z.number(),
  raised: z.number().int(),
  alarms_per_hour: z.number(),
  max_per_10min: z.number().int(),
  by_severity: z.record(z.string(), z.number().int()),
  acknowledged: z.number().int(),
  time_to_ack_s: z.object({ mean: Nullable, p50: Nullable, max: Nullable }),
  chattering: z.array(z.object({ station: z.string(), device: z.string(), rule: z.string(), raises_in_60s: z.number().int() })),
  stale: z.array(z.object({ id: z.string(), active_h: z.number() })),
  open: z.number().int(),
  unacknowledged: z.number().int(),
  shelved: z.number().int(),
  out_of_service: z.number().int(),
  suppressed: z.number().int(),
  floods_active: z.array(z.string()),
  flood: z.object({
    station: z.string(),
    active: z.boolean(),
    since: z.number().optional(),
    raised_in_window: z.number().int(),
    peak: z.number().int(),
  }),
});
