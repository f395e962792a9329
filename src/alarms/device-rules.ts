import type { Reading } from '../core/reading.ts';
import { countingWindow } from './background-rule.ts';
import { type AlarmRule, baseEvidence, numberOf, type RuleDecision } from './rule.ts';
import { createConditionRule, createZoneRule } from './zone-rule.ts';

/** Device-health and data-quality settings for one device. */
export interface DeviceHealthSettings {
  /** No reading for the profile's staleness window (ms) plus this delay raises `device_stale`, s. */
  stale_window_ms: number;
  stale_delay_s: number;
  /** A GM tube reading zero counts this long is broken (natural background never gives 0 for minutes), s. */
  zero_counts_s: number;
  /** Battery voltage below this warns; undefined: no battery rule. */
  battery_low_v?: number;
  /** Rate of rise on a channel: more than `per_min` per minute over `window_s`; undefined: off. */
  rise?: { channel: string; unit: string; per_min: number; window_s: number };
}

/** The stale window is at least this many times a device's observed reporting interval. */
export const STALE_CADENCE_FACTOR = 3;
/** How many recent reading intervals the observed cadence is the median of. */
const CADENCE_SAMPLES = 15;

/** The stale rule's memory per device: recent intervals between reading timestamps, ms. */
interface CadenceState {
  last_ts: number;
  intervals: number[];
}

/** Median of the recent intervals, ms; undefined before the second reading. */
export function observedIntervalMs(state: unknown): number | undefined {
  const xs = [...((state as CadenceState | undefined)?.intervals ?? [])].sort((a, b) => a - b);
  if (xs.length === 0) return undefined;
  const mid = Math.floor(xs.length / 2);
  return xs.length % 2 ? (xs[mid] as number) : ((xs[mid - 1] as number) + (xs[mid] as number)) / 2;
}

/**
 * `device_stale`: no reading within the device's window. Raised from `tick` (silence has no
 * reading to evaluate), cleared by the next reading. Kept in class `data_quality` so link flaps
 * stay apart from radiological alarms. The window is the larger of the profile's and
 * STALE_CADENCE_FACTOR × the device's observed median interval (a GMC history sampled once a
 * minute is not stale after 15 s), plus `stale_delay_s`; silence is counted from the engine's
 * start at the earliest, so a restart gives every device its whole window to report again
 * (docs/alarm-engine.md, "Staleness").
 */
export function createStaleRule(settingsFor: (profile: string, device: string) => DeviceHealthSettings | undefined): AlarmRule {
  return {
    id: 'device_stale',
    class: 'data_quality',
    evaluate(r, active, ctx): RuleDecision {
      const prev = ctx.state as CadenceState | undefined;
      const dt = prev ? r.ts - prev.last_ts : 0;
      const intervals = prev?.intervals ?? [];
      const state: CadenceState = {
        last_ts: Math.max(r.ts, prev?.last_ts ?? r.ts),
        intervals: dt > 0 ? [...intervals, dt].slice(-CADENCE_SAMPLES) : intervals,
      };
      if (!active) return { action: 'none', state };
      const silent = active.evidence.value;
      return {
        action: 'clear',
        state,
        evidence: { ...active.evidence, reading_ts: r.ts, value: 0, quality: r.quality },
        message: `${r.device} is reporting again (silent for ${Math.round(silent)} s)`,
      };
    },
    tick(dev, active, ctx): RuleDecision {
      const s = settingsFor(dev.profile, dev.device);
      if (!s || active) return { action: 'none' };
      const silentS = (ctx.now - Math.max(dev.last_at, ctx.startedAt ?? dev.last_at)) / 1000;
      const cadenceMs = observedIntervalMs(ctx.state);
      const windowMs = Math.max(s.stale_window_ms, STALE_CADENCE_FACTOR * (cadenceMs ?? 0));
      const limitS = windowMs / 1000 + s.stale_delay_s;
      if (silentS <= limitS) return { action: 'none' };
      return {
        action: 'raise',
        severity: 'low',
        evidence: {
          channel: 'reading_age',
          value: silentS,
          unit: 's',
          threshold: limitS,
          deadband: 0,
          reading_ts: dev.last_ts,
          quality: 'stale',
          params: {
            stale_window_ms: s.stale_window_ms,
            stale_delay_s: s.stale_delay_s,
            ...(cadenceMs !== undefined ? { observed_interval_ms: cadenceMs, cadence_factor: STALE_CADENCE_FACTOR } : {}),
          },
        },
        message: `No reading from ${dev.device} for ${Math.round(silentS)} s`,
      };
    },
  };
}

/** Rate of rise: the value grew faster than `per_min` per minute over the last `window_s` (reading time). */
export function createRiseRule(settingsFor: (r: Reading) => DeviceHealthSettings | undefined): AlarmRule {
  return {
    id: 'rate_of_rise',
    class: 'radiological',
    evaluate(r, active, ctx): RuleDecision {
      const rise = settingsFor(r)?.rise;
      const v = rise ? numberOf(r, rise.channel) : undefined;
      if (!rise || v === undefined || r.quality === 'invalid') return { action: 'none' };
      // Samples from before an engine start are not joined to new ones: the gap may hide anything.
      const prev = ctx.firstSinceStart ? [] : ((ctx.state as [number, number][] | undefined) ?? []);
      const samples = [...prev.filter(([ts]) => r.ts - ts <= rise.window_s * 1000), [r.ts, v] as [number, number]];
      const [t0, v0] = samples[0] as [number, number];
      // Too short a span makes any step look like a huge slope: judge only a half-full window or more.
      const spanMin = (r.ts - t0) / 60_000;
      const slope = spanMin >= rise.window_s / 120 ? (v - v0) / spanMin : 0;
      const evidence = {
        ...baseEvidence(r, rise.channel, Number(slope.toPrecision(4)), `${rise.unit}/min`, rise.per_min),
        window_s: rise.window_s,
        params: { from: v0, to: v, span_s: Math.round(spanMin * 60) },
      };
      if (!active)
        return slope > rise.per_min
          ? {
              action: 'raise',
              severity: 'medium',
              evidence,
              state: samples,
              message: `${rise.channel} rising ${evidence.value} ${rise.unit}/min on ${r.device}`,
            }
          : { action: 'none', state: samples };
      if (slope > rise.per_min / 2) return { action: 'hold', evidence, state: samples };
      return { action: 'clear', evidence, state: samples, message: `${rise.channel} no longer rising on ${r.device}` };
    },
  };
}

/** Device-health rules that need a reading: zero counts, low battery, high-voltage fault. */
export function createHealthRules(settingsFor: (r: Reading) => DeviceHealthSettings | undefined): AlarmRule[] {
  return [
    createConditionRule({
      id: 'device_zero_counts',
      class: 'equipment',
      severity: 'medium',
      channel: 'counts',
      test: (r) => {
        if (!settingsFor(r) || r.kind === 'xray_scanner') return undefined;
        const w = countingWindow(r);
        return w ? w.counts === 0 : undefined;
      },
      onDelayS: (r) => settingsFor(r)?.zero_counts_s ?? 300,
      message: (r) => `${r.device} has counted nothing for minutes: GM tube or high voltage failed?`,
      clearMessage: (r) => `${r.device} is counting again`,
    }),
    createZoneRule(
      'device_battery_low',
      (r) => {
        const v = settingsFor(r)?.battery_low_v;
        return v === undefined
          ? undefined
          : { channel: 'battery_voltage', unit: 'V', warn: v, deadband: 0.1, on_delay_s: 30, direction: 'low' };
      },
      { class: 'equipment', label: 'Battery' },
    ),
    createConditionRule({
      id: 'device_hv_fault',
      class: 'equipment',
      severity: 'high',
      channel: 'hv_fault',
      test: (r) => {
        if (!settingsFor(r)) return undefined;
        if (typeof r.values.hv_fault === 'boolean') return r.values.hv_fault;
        if (typeof r.values.fault === 'string') return r.values.fault === 'hv';
        return undefined;
      },
      message: (r) => `High-voltage fault on ${r.device}`,
      clearMessage: (r) => `High voltage back to normal on ${r.device}`,
    }),
  ];
}
