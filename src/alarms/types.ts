import { z } from 'zod';
import { IdSchema, SourceSchema } from '../core/reading.ts';

/**
 * Alarm contract. Alarms travel on MQTT `radscreen/v1/{station}/alarms` and on the console's
 * SSE stream, so both ends validate them with these schemas.
 *
 * Two state fields, on purpose:
 * - `state` is the *condition*: `active` while the rule still sees the abnormal condition,
 *   `cleared` once it returned to normal (what the console and `/api/alarms?state=` filter on);
 * - `isa_state` is the ISA-18.2 lifecycle state the operator works with (see lifecycle.ts).
 * Consumers must treat an unknown future `isa_state` as "needs attention".
 */

/** Rule ids are snake_case and stable: they are part of alarm ids and dashboards filter on them. */
export const RuleIdSchema = z.string().regex(/^[a-z][a-z0-9_]*$/, 'rule ids are snake_case');
export type RuleId = z.infer<typeof RuleIdSchema>;

/** Priority, lowest first. `emergency` cannot be silenced (protective alarms must keep sounding). */
export const AlarmSeveritySchema = z.enum(['low', 'medium', 'high', 'emergency']);
export type AlarmSeverity = z.infer<typeof AlarmSeveritySchema>;
/** Ordinal of a severity, for comparisons (escalation = a higher rank). */
export function severityRank(s: AlarmSeverity): number {
  return AlarmSeveritySchema.options.indexOf(s);
}

/** Alarm class (§C rationalisation): lets the console group and keep device noise off the radiological list. */
export const AlarmClassSchema = z.enum(['radiological', 'xray_safety', 'equipment', 'data_quality', 'dose']);
export type AlarmClass = z.infer<typeof AlarmClassSchema>;

export const AlarmStateSchema = z.enum(['active', 'cleared']);
export type AlarmState = z.infer<typeof AlarmStateSchema>;

/** ISA-18.2 states. `normal` is an occurrence that is over (cleared, acknowledged, reset if latching). */
export const IsaStateSchema = z.enum([
  'normal',
  'unacknowledged',
  'acknowledged',
  'rtn_unacknowledged',
  'shelved',
  'suppressed',
  'out_of_service',
]);
export type IsaState = z.infer<typeof IsaStateSchema>;

/** ANSI N42.32 vocabulary: `innocent` is a real rise not due to illicit material (NORM, medical isotope). */
export const DispositionSchema = z.enum(['true', 'innocent', 'false', 'training']);
export type Disposition = z.infer<typeof DispositionSchema>;

const ParamValueSchema = z.union([z.number(), z.string(), z.boolean()]);

/**
 * The parcel an alarm was raised during (src/parcels/tracker.ts), added to the evidence once the
 * parcel has left the tunnel and its spectrum is identified: the verdict, the worst category and
 * the nuclides named. Structural here (alarms may not import parcels' sibling layer types).
 */
export const ParcelEvidenceSchema = z.object({
  id: z.string().max(200),
  verdict: z.enum(['clear', 'nuisance', 'alarm']),
  category: z.string().max(32).optional(),
  nuclides: z.array(z.object({ nuclide: z.string().max(32), category: z.string().max(32), confidence: z.number() })).max(32),
});
export type ParcelEvidence = z.infer<typeof ParcelEvidenceSchema>;

/**
 * Why the rule decided what it did, kept verbatim so an operator or an auditor can see the
 * alarm was justified and an N42.42 document can be rendered from it. `value`, `threshold`
 * and `background` share `unit`. For boolean conditions `value` is 1 (true) / 0 and unit `bool`.
 */
export const AlarmEvidenceSchema = z.object({
  /** The channel the rule looked at, e.g. `dose_rate`, `cps`, `interlocks_closed`. */
  channel: z.string(),
  value: z.number(),
  /** Canonical unit of `value`, `threshold`, `deadband` and `background` (e.g. `uSv/h`, `counts`). */
  unit: z.string(),
  threshold: z.number(),
  deadband: z.number().nonnegative(),
  /** The reading's own timestamp (ms since the epoch). */
  reading_ts: z.number().int().nonnegative(),
  quality: z.string(),
  /** Gross counts in the tested window (counting rules). */
  counts: z.number().optional(),
  /** Length of the tested counting window, s. */
  window_s: z.number().optional(),
  /** Background expected in the same window and unit as `value`. */
  background: z.number().optional(),
  /** Background as a rate, CPS, and how many seconds of quiet data it rests on. */
  background_cps: z.number().optional(),
  background_live_s: z.number().optional(),
  /** Every parameter the rule applied (zones, false-alarm target, tests per hour, on-delay…). */
  params: z.record(z.string(), ParamValueSchema).optional(),
  /** The parcel in the tunnel when the alarm was raised, with its identification (transition `identified`). */
  parcel: ParcelEvidenceSchema.optional(),
});
export type AlarmEvidence = z.infer<typeof AlarmEvidenceSchema>;

/** A compact reading kept around an alarm (before and after it), for its evidence chart. */
export const ReadingSampleSchema = z.object({
  ts: z.number().int(),
  quality: z.string(),
  values: z.record(z.string(), ParamValueSchema),
});
export type ReadingSample = z.infer<typeof ReadingSampleSchema>;

const ActorSchema = z.object({ user: z.string().min(1), at: z.number().int(), comment: z.string().optional() });

/**
 * One alarm occurrence for one (station, device, rule). Invariants: at most one occurrence per
 * (station, device, rule) has `state: 'active'`; `id` is `${station}:${device}:${rule}:${raised_at}`
 * (suffixed `-n` on a same-millisecond collision) and never changes; `peak` is the largest
 * `evidence.value` seen while active; once `closed_at` is set nothing but `disposition` changes.
 */
export const AlarmSchema = z.object({
  id: z.string(),
  station: IdSchema,
  device: IdSchema,
  profile: z.string(),
  rule: RuleIdSchema,
  class: AlarmClassSchema.default('radiological'),
  severity: AlarmSeveritySchema,
  state: AlarmStateSchema,
  isa_state: IsaStateSchema.default('unacknowledged'),
  message: z.string(),
  /** Where the readings came from; training and replay alarms are never mixed with live ones. */
  source: SourceSchema.default('live'),
  /** Engine clock (ms) when raised / cleared / closed; the reading's own time is in the evidence. */
  raised_at: z.number().int(),
  cleared_at: z.number().int().optional(),
  closed_at: z.number().int().optional(),
  evidence: AlarmEvidenceSchema,
  clear_evidence: AlarmEvidenceSchema.optional(),
  peak: z.number(),
  /** A latching alarm stays with the operator after the condition clears until someone resets it. */
  latching: z.boolean().default(false),
  needs_reset: z.boolean().default(false),
  acknowledged: ActorSchema.optional(),
  /** Silence mutes the audible cue until this time; it is not an acknowledgement. */
  silenced_until: z.number().int().optional(),
  shelved: ActorSchema.extend({ until: z.number().int() }).optional(),
  suppressed: z.object({ reason: z.string(), at: z.number().int() }).optional(),
  out_of_service: ActorSchema.optional(),
  reset: ActorSchema.optional(),
  disposition: ActorSchema.extend({ value: DispositionSchema, nuclide: z.string().optional() }).optional(),
  /** How often the severity rose while open (each one re-annunciated). */
  escalations: z.number().int().nonnegative().default(0),
  /**
   * How often the condition came back while this latched occurrence waited for its reset: it is
   * re-activated (transition `reactivated`) instead of opening a new occurrence.
   */
  recurrences: z.number().int().nonnegative().default(0),
  /** Readings of the device just before the alarm and just after it (bounded). */
  readings_before: z.array(ReadingSampleSchema).default([]),
  readings_after: z.array(ReadingSampleSchema).default([]),
});
export type Alarm = z.infer<typeof AlarmSchema>;

export const TransitionKindSchema = z.enum([
  'raised',
  'escalated',
  'cleared',
  'acknowledged',
  'silenced',
  'silence_expired',
  'shelved',
  'unshelved',
  'reset',
  'closed',
  'disposition',
  'suppressed',
  'unsuppressed',
  'out_of_service',
  'returned_to_service',
  'reactivated',
  /** The parcel the alarm was raised during has been identified: `evidence.parcel` is set. */
  'identified',
]);
export type TransitionKind = z.infer<typeof TransitionKindSchema>;

/**
 * What changed, carrying the alarm after the change. `annunciate` is true when the console should
 * sound/flash now (a new or escalated unacknowledged alarm that is not silenced, shelved or
 * suppressed). `user`/`comment` name who did an operator action.
 */
export const AlarmTransitionSchema = z.object({
  v: z.literal(1),
  kind: TransitionKindSchema,
  /** Engine clock (ms) of the transition. */
  ts: z.number().int(),
  alarm: AlarmSchema,
  annunciate: z.boolean().default(false),
  user: z.string().optional(),
  comment: z.string().optional(),
});
export type AlarmTransition = z.infer<typeof AlarmTransitionSchema>;
