import { z } from 'zod';
import { IdSchema, SourceSchema } from '../core/reading.ts';

/** The `devices:` entries of the config (schema.ts): one instrument each, with its link or simulation. */

/** A source pass or dose rise the simulator plays, repeated every `every_s` when set. */
export const SimEventSchema = z.strictObject({
  /** Seconds after the simulator starts. */
  at_s: z.number().nonnegative(),
  duration_s: z.number().positive(),
  /** Peak dose rate added above background, µSv/h. */
  peak_usvh: z.number().positive(),
  shape: z.enum(['step', 'pass']).default('pass'),
  every_s: z.number().positive().optional(),
});

export const SimulateSchema = z.strictObject({
  background_usvh: z.number().nonnegative().default(0.12),
  events: z.array(SimEventSchema).default([]),
  /** Seed for the Poisson generator, so a scenario plays the same every time. */
  seed: z.number().int().default(1),
  /** The simulated device's tick, ms (1000 = real time; faster in tests). */
  tick_ms: z.number().int().min(10).max(60_000).default(1000),
});

export const DeviceConfigSchema = z.strictObject({
  id: IdSchema,
  profile: z.string(),
  name: z.string().optional(),
  /** Real device on a serial port. Exactly one of serial / simulate / mqtt. */
  serial: z
    .strictObject({
      /** /dev/ttyUSB0, /dev/serial/by-id/…; or select the adapter by USB ids below. */
      path: z.string().min(1).optional(),
      vendor_id: z
        .string()
        .regex(/^(0x)?[0-9a-fA-F]{4}$/, 'four hex digits, e.g. 1a86')
        .optional(),
      product_id: z
        .string()
        .regex(/^(0x)?[0-9a-fA-F]{4}$/, 'four hex digits, e.g. 7523')
        .optional(),
      serial_number: z.string().optional(),
      baud_rate: z.number().int().positive().optional(),
    })
    .refine((s) => Boolean(s.path) !== Boolean(s.vendor_id && s.product_id), 'give either `path` or both `vendor_id` and `product_id`')
    .optional(),
  /** Simulated device: the station starts the family's simulator on a pty pair (or, for an MQTT family, on the broker). */
  simulate: SimulateSchema.optional(),
  /**
   * Real device that publishes on MQTT (profiles whose link type is `mqtt`). `url` defaults to
   * the station's broker (with the station's credentials); `topic`, an MQTT filter, defaults to
   * the profile's topic pattern with `{device}` replaced by this device's id.
   */
  mqtt: z
    .strictObject({
      url: z.url().optional(),
      topic: z.string().min(1).optional(),
      username: z.string().optional(),
      password: z.string().optional(),
    })
    .optional(),
  source: SourceSchema.optional(),
  /** Profile-specific options (sensitivity, time zone…), checked by the profile's own schema. */
  options: z.record(z.string(), z.unknown()).default({}),
  alarm: z
    .strictObject({
      dose_rate_usvh: z.number().positive().optional(),
      deadband_usvh: z.number().nonnegative().optional(),
    })
    .default({}),
  /** Seconds without data before the port is considered lost and reopened. */
  no_data_timeout_s: z.number().positive().default(10),
  /** Date (YYYY-MM-DD) the device's calibration expires; the console flags the tile from that day on. */
  calibration_due: z.iso.date().optional(),
});
export type DeviceConfig = z.infer<typeof DeviceConfigSchema>;
