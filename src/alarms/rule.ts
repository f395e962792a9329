import type { Reading } from '../core/reading.ts';
import type { Alarm, AlarmEvidence, AlarmSeverity, RuleId } from './types.ts';

/**
 * What a rule decided for one reading:
 * - `none`: nothing to say (no alarm and none due, or the reading is not for this rule);
 * - `raise`: no alarm is active and one is due;
 * - `hold`: the active alarm stays active (the engine tracks its peak);
 * - `clear`: the active alarm has returned to normal.
 */
export type RuleDecision =
  | { action: 'none' }
  | { action: 'raise'; evidence: AlarmEvidence; severity: AlarmSeverity; message: string }
  | { action: 'hold'; evidence: AlarmEvidence }
  | { action: 'clear'; evidence: AlarmEvidence; message: string };

/**
 * One alarm rule. Rules are pure: no clock, no I/O, no state of their own. The engine keeps
 * the state (the active alarm per device) and hands it back in, so rules with memory
 * (statistical background, staleness) get theirs through the same `active` plus their own
 * explicit state type when they arrive, and every rule is testable in isolation.
 */
export interface AlarmRule {
  /** Stable snake_case id; part of every alarm id this rule raises. */
  readonly id: RuleId;
  /** `active` is this rule's active alarm for the reading's device, if any. */
  evaluate(reading: Reading, active: Alarm | undefined): RuleDecision;
}
