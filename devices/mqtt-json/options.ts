import { z } from 'zod';
import { CHANNEL_KEYS, MQTT_JSON_CHANNELS, unitsFor } from './units.ts';

/** `a.b.0.c`: object keys and array indices, dot-separated; no empty segment. */
const PathSchema = z.string().regex(/^[^.\s]+(\.[^.\s]+)*$/, "a dot path such as 'data.dose.value'");

const FieldSchema = z.strictObject({
  /** Where the number sits in the payload. */
  path: PathSchema,
  /** The unit the device sends; must convert to the channel's canonical unit. */
  unit: z.string().min(1),
  /** Multiplies the raw number before the unit conversion (a device sending tenths: 0.1). */
  scale: z
    .number()
    .finite()
    .refine((s) => s !== 0, 'scale must not be 0')
    .optional(),
});
export type FieldMapping = z.infer<typeof FieldSchema>;

const TimestampSchema = z.strictObject({
  path: PathSchema,
  /** `ms` or `s` since the epoch (UTC), or an ISO 8601 string with a zone. */
  format: z.enum(['ms', 's', 'iso']),
});

/** Identity mapping: a device already publishing our channel names in canonical units. */
const IDENTITY: Record<string, FieldMapping> = Object.fromEntries(
  MQTT_JSON_CHANNELS.map((c) => [c.spec.key, { path: c.spec.key, unit: c.spec.unit }]),
);

/**
 * Options of an `mqtt-json` device (strict). A mapping that targets an unknown channel or whose
 * unit cannot convert is refused here, so `radscreen config check` reports it as `path: message`
 * before anything starts.
 */
export const MqttJsonOptionsSchema = z.strictObject({
  fields: z
    .record(z.string(), FieldSchema)
    .default(IDENTITY)
    .superRefine((fields, ctx) => {
      if (Object.keys(fields).length === 0) ctx.addIssue({ code: 'custom', message: 'map at least one channel' });
      for (const [channel, f] of Object.entries(fields)) {
        if (!CHANNEL_KEYS.includes(channel)) {
          ctx.addIssue({
            code: 'custom',
            path: [channel],
            message: `'${channel}' is not an mqtt-json channel (${CHANNEL_KEYS.join(', ')})`,
          });
          continue;
        }
        const units = unitsFor(channel);
        if (!units.includes(f.unit))
          ctx.addIssue({
            code: 'custom',
            path: [channel, 'unit'],
            message: `'${f.unit}' cannot be converted for ${channel} (use one of ${units.join(', ')})`,
          });
      }
    }),
  timestamp: TimestampSchema.optional(),
});
export type MqttJsonOptions = z.infer<typeof MqttJsonOptionsSchema>;
