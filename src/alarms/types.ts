import { z } from 'zod';
import { IdSchema } from '../core/reading.ts';

/**
 * Alarm contract. Alarms travel on MQTT `radscreen/v1/{station}/alarms` and on the console's
 * SSE stream, so both ends validate them with these schemas.
 *
 * Only `active` and `cleared` exist today. The ISA-18.2 lifecycle (acknowledged, shelved,
 * returned-to-normal-unacknowledged…) will add states here and a state machine beside the
 * engine; consumers must therefore treat unknown future states as "not active".
 */

/** Rule ids are snake_case and stable: they are part of alarm ids and dashboards filter on them. */
export const RuleIdSchema = z.string().regex(/^[a-z][a-z0-9_]*$/, 'rule ids are snake_case');
export type RuleId = z.infer<typeof RuleIdSchema>;

export const AlarmSeveritySchema = z.enum(['low', 'medium', 'high']);
export type AlarmSeverity = z.infer<typeof AlarmSeveritySchema>;

export const AlarmStateSchema = z.enum(['active', 'cleared']);
export type AlarmState = z.infer<typeof AlarmStateSchema>;

/**
 * Why the rule decided what it did: the value it saw, the limits it applied and the reading
 * it came from. Kept verbatim so an operator or an auditor can see the alarm was justified.
 */
export const AlarmEvidenceSchema = z.object({
  /** The channel the rule looked at, e.g. `dose_rate`. */
  channel: z.string(),
  value: z.number(),
  /** Canonical unit of `value`, `threshold` and `deadband` (e.g. `uSv/h`). */
  unit: z.string(),
  threshold: z.number(),
  deadband: z.number().nonnegative(),
  /** The reading's own timestamp (ms since the epoch). */
  reading_ts: z.number().int().nonnegative(),
  quality: z.string(),
});
export type AlarmEvidence = z.infer<typeof AlarmEvidenceSchema>;

/**
 * One alarm occurrence for one (device, rule). Invariants: at most one `active` alarm per
 * (station, device, rule); `id` is `${station}:${device}:${rule}:${raised_at}` and never changes;
 * `peak` is the largest value seen while active.
 */
export const AlarmSchema = z.object({
  id: z.string(),
  station: IdSchema,
  device: IdSchema,
  profile: z.string(),
  rule: RuleIdSchema,
  severity: AlarmSeveritySchema,
  state: AlarmStateSchema,
  message: z.string(),
  /** Engine clock (ms) when raised / cleared; the reading's own time is in the evidence. */
  raised_at: z.number().int(),
  cleared_at: z.number().int().optional(),
  /** The evidence that raised it. */
  evidence: AlarmEvidenceSchema,
  /** The evidence that cleared it, once cleared. */
  clear_evidence: AlarmEvidenceSchema.optional(),
  peak: z.number(),
});
export type Alarm = z.infer<typeof AlarmSchema>;

/** What changed: a new alarm, or an active one that cleared. Carries the alarm after the change. */
export const AlarmTransitionSchema = z.object({
  v: z.literal(1),
  kind: z.enum(['raised', 'cleared']),
  /** Engine clock (ms) of the transition. */
  ts: z.number().int(),
  alarm: AlarmSchema,
});
export type AlarmTransition = z.infer<typeof AlarmTransitionSchema>;
