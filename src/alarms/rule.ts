import type { ChannelValue, DeviceKind, Reading, Source } from '../core/reading.ts';
import type { Alarm, AlarmClass, AlarmEvidence, AlarmSeverity, RuleId } from './types.ts';

/**
 * What a rule decided:
 * - `none`: nothing to say (no alarm and none due, or the reading is not for this rule);
 * - `raise`: no alarm is active and one is due;
 * - `hold`: the active alarm stays active; a higher `severity` than the alarm's escalates it;
 * - `clear`: the active alarm has returned to normal.
 * Any decision may carry `state`: the rule's new memory for this device (JSON-serialisable,
 * persisted by the engine so a restart keeps background estimates and on-delay timers).
 */
export type RuleDecision =
  | { action: 'none'; state?: unknown }
  | { action: 'raise'; evidence: AlarmEvidence; severity: AlarmSeverity; message: string; state?: unknown }
  | { action: 'hold'; evidence: AlarmEvidence; severity?: AlarmSeverity; state?: unknown }
  | { action: 'clear'; evidence: AlarmEvidence; message: string; state?: unknown };

/** What the engine hands a rule besides the reading. */
export interface RuleContext {
  /** Engine clock, ms since the epoch (reading timestamps follow the device clock instead). */
  now: number;
  /** This rule's memory for the device, as last returned; undefined at first. */
  state: unknown;
  /** Latest value of another device's channel on the same station (occupancy inputs). */
  lookup(device: string, channel: string): ChannelValue | undefined;
  /** Engine clock when this engine instance started (after a restart: the restart), ms; the engine always sets it. */
  startedAt?: number;
  /**
   * True for the first reading of the device this engine instance evaluates. Across a restart the
   * device's data stream may itself have restarted (a sliding window refilling), so a rule must not
   * join this reading to its persisted window of readings (docs/alarm-engine.md, "Restart").
   * The engine always sets it; absent (a rule driven by hand) means false.
   */
  firstSinceStart?: boolean;
}

/** What the engine knows of a device, for rules that fire without a reading (staleness). */
export interface DeviceSeen {
  station: string;
  device: string;
  profile: string;
  kind: DeviceKind;
  /** Engine clock when its last reading arrived, ms. */
  last_at: number;
  /** Its last reading's own timestamp, ms. */
  last_ts: number;
}

/**
 * One alarm rule. Rules are pure: no clock, no I/O and no memory of their own. The engine keeps
 * the active alarm and the rule's `state` per device and hands them back in, so every rule is
 * testable in isolation with time injected.
 */
export interface AlarmRule {
  /** Stable snake_case id; part of every alarm id this rule raises. */
  readonly id: RuleId;
  /** Defaults to `radiological`. */
  readonly class?: AlarmClass;
  /** Alarms of a latching rule need a reset after the condition clears. Default false. */
  readonly latching?: boolean;
  /** `active` is this rule's active alarm for the reading's device, if any. */
  evaluate(reading: Reading, active: Alarm | undefined, ctx: RuleContext): RuleDecision;
  /** Called on the engine's timer tick for every device seen; for rules that fire on silence. */
  tick?(device: DeviceSeen, active: Alarm | undefined, ctx: RuleContext): RuleDecision;
  /** Devices `tick` must also visit though they never sent a reading (device_fault: ports that never opened). */
  watch?(): (DeviceSeen & { source: Source })[];
}

/** A number from a channel, or undefined when absent, non-numeric or not finite. */
export function numberOf(reading: Reading, channel: string): number | undefined {
  const v = reading.values[channel];
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** Base evidence every rule fills in the same way. */
export function baseEvidence(reading: Reading, channel: string, value: number, unit: string, threshold: number, deadband = 0) {
  return { channel, value, unit, threshold, deadband, reading_ts: reading.ts, quality: reading.quality } satisfies AlarmEvidence;
}
