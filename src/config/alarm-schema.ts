import { z } from 'zod';

/** The `alarms:` settings of the config (schema.ts) that apply per profile or device. */

/** Zones on one channel (canonical unit); see src/alarms/zone-rule.ts. */
export const ZoneConfigSchema = z.strictObject({
  warn: z.number().optional(),
  alarm: z.number().optional(),
  emergency: z.number().optional(),
  deadband: z.number().nonnegative().optional(),
  on_delay_s: z.number().nonnegative().optional(),
  direction: z.enum(['high', 'low']).optional(),
});

/**
 * Alarm rule settings; every key optional, resolved as built-in defaults ← `alarms.defaults` ←
 * `alarms.profiles.<profile>` ← `alarms.devices.<device>` (see src/alarms/rules-from-config.ts).
 */
export const AlarmOverridesSchema = z.strictObject({
  /** Extra zones by channel key, e.g. `{ dose_rate: { warn: 0.5, alarm: 1, emergency: 10 } }`. */
  zones: z.record(z.string().regex(/^[a-z][a-z0-9_]*$/), ZoneConfigSchema).optional(),
  background: z
    .strictObject({
      enabled: z.boolean().optional(),
      false_alarms_per_shift: z.number().positive().optional(),
      shift_h: z.number().positive().optional(),
      tau_s: z.number().positive().optional(),
      warmup_s: z.number().nonnegative().optional(),
      window_multiples: z.array(z.number().int().min(1).max(60)).min(1).optional(),
      hold_s: z.number().nonnegative().optional(),
      /** A persisted background estimate is re-used after a restart only if younger than this, s (default tau_s; docs/alarm-engine.md). */
      reuse_max_age_s: z.number().nonnegative().optional(),
      /** Boolean inputs that freeze the background while true (default: the device's own `bag_present`). */
      occupancy: z.array(z.strictObject({ device: z.string().optional(), channel: z.string() })).optional(),
      sprt: z.strictObject({ enabled: z.boolean(), ratio: z.number().gt(1).default(2) }).optional(),
    })
    .optional(),
  rate_of_rise: z
    .strictObject({
      enabled: z.boolean().optional(),
      channel: z.string().optional(),
      per_min: z.number().positive().optional(),
      window_s: z.number().positive().optional(),
    })
    .optional(),
  /** Added to the profile's staleness window before `device_stale` is raised, s. */
  stale_delay_s: z.number().nonnegative().optional(),
  zero_counts_s: z.number().positive().optional(),
  battery_low_v: z.number().positive().optional(),
  xray: z
    .strictObject({
      leakage_warn_usvh: z.number().positive().optional(),
      leakage_alarm_usvh: z.number().positive().optional(),
      belt_stopped_delay_s: z.number().nonnegative().optional(),
      /** While an interlock is still open, the beam must stay off this long before the interlock emergency clears, s (default 30). */
      interlock_off_delay_s: z.number().nonnegative().optional(),
    })
    .optional(),
  /** Investigation levels for personal dosimeters (set `personal_dosimeter: true` on the device). */
  shift_dose: z
    .strictObject({
      warn_usv: z.number().positive().optional(),
      alarm_usv: z.number().positive().optional(),
      shift_h: z.number().positive().optional(),
      first_shift_start_h: z.number().min(0).max(23).optional(),
    })
    .optional(),
  personal_dosimeter: z.boolean().optional(),
});
export type AlarmOverrides = z.infer<typeof AlarmOverridesSchema>;
