import type { Reading } from '../core/reading.ts';
import { type AlarmRule, baseEvidence, numberOf, type RuleContext, type RuleDecision } from './rule.ts';
import type { AlarmClass, AlarmSeverity } from './types.ts';

/** Zones on one numeric channel. Limits are in the channel's canonical unit; any may be left out. */
export interface ZoneSettings {
  channel: string;
  unit: string;
  warn?: number;
  alarm?: number;
  emergency?: number;
  /** Clears only once the value is past the lowest zone's limit by this much (no chattering). */
  deadband: number;
  /** The value must stay in a zone this long (reading time) before the alarm is raised, s. */
  on_delay_s: number;
  /** `high`: alarm above the limits; `low`: below them (battery voltage). */
  direction: 'high' | 'low';
}

const LEVELS = [
  ['warn', 'medium'],
  ['alarm', 'high'],
  ['emergency', 'emergency'],
] as const satisfies readonly (readonly [keyof ZoneSettings, AlarmSeverity])[];

interface DelayState {
  /** Reading time the condition became abnormal (on-delay running). */
  since?: number;
  /** Reading time an active condition became normal (off-delay running). */
  off_since?: number;
}

/** Runs an on-delay: returns the new state and whether the condition has lasted long enough. */
function onDelay(prev: unknown, abnormal: boolean, ts: number, delayS: number): { state: DelayState; due: boolean } {
  if (!abnormal) return { state: {}, due: false };
  const since = (prev as DelayState | undefined)?.since ?? ts;
  return { state: { since }, due: ts - since >= delayS * 1000 };
}

/**
 * Warn / alarm / emergency zones on any channel, with deadband and on-delay (§C nuisance controls).
 * Rising into a higher zone while active escalates (the engine re-annunciates); falling back to a
 * lower zone does not de-escalate. Readings of quality `invalid` are ignored.
 */
export function createZoneRule(
  id: string,
  settingsFor: (r: Reading) => ZoneSettings | undefined,
  opts: { class?: AlarmClass; latching?: boolean; label?: string } = {},
): AlarmRule {
  return {
    id,
    class: opts.class ?? 'radiological',
    latching: opts.latching ?? false,
    evaluate(r, active, ctx: RuleContext): RuleDecision {
      const z = settingsFor(r);
      if (!z || r.quality === 'invalid') return { action: 'none' };
      const v = numberOf(r, z.channel);
      if (v === undefined) return { action: 'none' };
      const sign = z.direction === 'high' ? 1 : -1;
      let level = -1;
      LEVELS.forEach(([k], i) => {
        const limit = z[k] as number | undefined;
        if (limit !== undefined && sign * v > sign * limit) level = i;
      });
      const limits = LEVELS.map(([k]) => z[k] as number | undefined).filter((x): x is number => x !== undefined);
      if (limits.length === 0) return { action: 'none' };
      const lowest = sign > 0 ? Math.min(...limits) : Math.max(...limits);
      const params = { direction: z.direction, on_delay_s: z.on_delay_s, ...Object.fromEntries(limits.map((l, i) => [`limit_${i}`, l])) };
      const label = opts.label ?? z.channel;
      if (!active) {
        const d = onDelay(ctx.state, level >= 0, r.ts, z.on_delay_s);
        if (level < 0 || !d.due) return { action: 'none', state: d.state };
        const [name, severity] = LEVELS[level] as (typeof LEVELS)[number];
        const threshold = z[name] as number;
        return {
          action: 'raise',
          severity,
          state: d.state,
          evidence: { ...baseEvidence(r, z.channel, v, z.unit, threshold, z.deadband), params },
          message: `${label} ${Number(v.toPrecision(3))} ${z.unit} ${sign > 0 ? 'above' : 'below'} ${name} level ${threshold} on ${r.device}`,
        };
      }
      if (sign * v < sign * lowest - z.deadband)
        return {
          action: 'clear',
          state: {},
          evidence: { ...baseEvidence(r, z.channel, v, z.unit, lowest, z.deadband), params },
          message: `${label} back to ${Number(v.toPrecision(3))} ${z.unit} on ${r.device}`,
        };
      const entry = level >= 0 ? LEVELS[level] : undefined;
      const threshold = entry ? (z[entry[0]] as number) : lowest;
      return {
        action: 'hold',
        severity: entry?.[1],
        evidence: { ...baseEvidence(r, z.channel, v, z.unit, threshold, z.deadband), params },
      };
    },
  };
}

/** A boolean condition; `test` returns undefined when the reading does not carry the inputs. */
export interface ConditionSpec {
  id: string;
  class: AlarmClass;
  severity: AlarmSeverity;
  latching?: boolean;
  /** Channel named in the evidence. */
  channel: string;
  test(r: Reading, ctx: RuleContext): boolean | undefined;
  /** The condition must hold this long (reading time) before raising, s. */
  onDelayS?(r: Reading): number;
  /**
   * Off-delay (ISA-18.2): an active alarm clears only once the condition has been normal this
   * long (reading time), s; a return to abnormal meanwhile keeps it active. Default 0.
   */
  offDelayS?(r: Reading): number;
  message(r: Reading): string;
  clearMessage(r: Reading): string;
  /** Extra evidence parameters (the interlock chain, beam, belt…). */
  params?(r: Reading): Record<string, number | string | boolean>;
}

/** Alarm while a boolean condition holds (X-ray interlocks, E-stop, device faults). */
export function createConditionRule(spec: ConditionSpec): AlarmRule {
  return {
    id: spec.id,
    class: spec.class,
    latching: spec.latching ?? false,
    evaluate(r, active, ctx): RuleDecision {
      if (r.quality === 'invalid') return { action: 'none' };
      const abnormal = spec.test(r, ctx);
      if (abnormal === undefined) return { action: 'none' };
      const evidence = { ...baseEvidence(r, spec.channel, abnormal ? 1 : 0, 'bool', 1), params: spec.params?.(r) ?? {} };
      if (!active) {
        const d = onDelay(ctx.state, abnormal, r.ts, spec.onDelayS?.(r) ?? 0);
        if (!d.due) return { action: 'none', state: d.state };
        return { action: 'raise', severity: spec.severity, evidence, message: spec.message(r), state: d.state };
      }
      const prev = (ctx.state as DelayState | undefined) ?? {};
      if (abnormal) return { action: 'hold', evidence, state: { since: prev.since } };
      const offSince = prev.off_since ?? r.ts;
      if (r.ts - offSince < (spec.offDelayS?.(r) ?? 0) * 1000) return { action: 'hold', evidence, state: { ...prev, off_since: offSince } };
      return { action: 'clear', evidence, message: spec.clearMessage(r), state: {} };
    },
  };
}
