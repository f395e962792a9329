import { z } from 'zod';

/** An accepted factor range, in the unit of the device's calibration kind (CPM per µSv/h, or dimensionless). */
export const FactorRangeSchema = z
  .strictObject({ min: z.number().positive().finite(), max: z.number().positive().finite() })
  .refine((r) => r.min < r.max, { message: '`min` must be below `max`' });
export type FactorRange = z.infer<typeof FactorRangeSchema>;

/**
 * `calibration:` in the config (docs/calibration-trust.md). The plausible range is resolved
 * `devices.<id>` ← `profiles.<id>` ← the default derived from the profile; a factor outside it
 * needs a second person's approval, and one beyond the hard ceiling (10× either way of the
 * profile's default) is refused whatever this says.
 */
export const CalibrationConfigSchema = z.strictObject({
  /**
   * The server's signing key, 64 hex digits: give it to agents running on another host (or set
   * RADSCREEN_CALIBRATION_KEY). The server itself uses the key file.
   */
  key: z
    .string()
    .regex(/^[0-9a-fA-F]{64}$/, '64 hex digits (the content of the key file)')
    .optional(),
  /** Key file; default `<data_dir>/calibration.key`, created 0600 by the server at first start. */
  key_file: z.string().min(1).optional(),
  /** GM devices: accepted sensitivity = default × (1 ± this); default 0.5 (±50 %). */
  sensitivity_tolerance: z.number().gt(0).lt(1).default(0.5),
  /** Devices that report µSv/h themselves: accepted correction multiplier; default 0.5–2. */
  correction: FactorRangeSchema.default({ min: 0.5, max: 2 }),
  /** Accepted range per profile id, overriding the two above. */
  profiles: z.record(z.string(), FactorRangeSchema).default({}),
  /** Accepted range per device id (e.g. a tube with another sensitivity), overriding the profile's. */
  devices: z.record(z.string(), FactorRangeSchema).default({}),
});
export type CalibrationConfig = z.infer<typeof CalibrationConfigSchema>;
export const CALIBRATION_CONFIG_DEFAULTS: CalibrationConfig = {
  sensitivity_tolerance: 0.5,
  correction: { min: 0.5, max: 2 },
  profiles: {},
  devices: {},
};
