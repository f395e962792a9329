import type { Config } from '../config/schema.ts';
import type { Reading } from '../core/reading.ts';
import type { AlarmRule, RuleDecision } from './rule.ts';
import type { AlarmEvidence } from './types.ts';

export const DOSE_RATE_RULE_ID = 'dose_rate_high';
const CHANNEL = 'dose_rate';
const UNIT = 'uSv/h';

/** Limits for one device, in µSv/h. */
export interface DoseRateLimits {
  /** Raise when the dose rate is strictly above this. */
  threshold_usvh: number;
  /** Clear only once the dose rate is strictly below `threshold_usvh − deadband_usvh`. */
  deadband_usvh: number;
}

/** Station-wide limits plus per-device overrides (any field left out falls back to the default). */
export interface DoseRateThresholds {
  default: DoseRateLimits;
  devices?: Readonly<Record<string, Partial<DoseRateLimits>>>;
}

/** Reads `alarms.*` and each device's `alarm.*` from the config. */
export function thresholdsFromConfig(config: {
  alarms: Pick<Config['alarms'], 'dose_rate_usvh' | 'deadband_usvh'>;
  devices: Config['devices'];
}): DoseRateThresholds {
  const devices: Record<string, Partial<DoseRateLimits>> = {};
  for (const d of config.devices) {
    const o: Partial<DoseRateLimits> = {};
    if (d.alarm.dose_rate_usvh !== undefined) o.threshold_usvh = d.alarm.dose_rate_usvh;
    if (d.alarm.deadband_usvh !== undefined) o.deadband_usvh = d.alarm.deadband_usvh;
    devices[d.id] = o;
  }
  return { default: { threshold_usvh: config.alarms.dose_rate_usvh, deadband_usvh: config.alarms.deadband_usvh }, devices };
}

/** The limits that apply to one device. */
export function resolveDoseRateLimits(thresholds: DoseRateThresholds, device: string): DoseRateLimits {
  const o = thresholds.devices?.[device] ?? {};
  return {
    threshold_usvh: o.threshold_usvh ?? thresholds.default.threshold_usvh,
    deadband_usvh: o.deadband_usvh ?? thresholds.default.deadband_usvh,
  };
}

/** Three significant digits: enough for an operator, short enough for a message line. */
function formatUsvh(v: number): string {
  return `${Number(v.toPrecision(3))} µSv/h`;
}

/**
 * Dose rate above a fixed threshold, with a deadband so a value hovering at the threshold
 * raises once instead of chattering. Readings of quality `invalid` are ignored (they say
 * nothing about the field); `suspect` ones (e.g. a Geiger kit still warming up) still count,
 * because a missed real alarm costs more than a false one at a screening station.
 *
 * A deadband at or above the threshold would make the clear level ≤ 0 and the alarm latch
 * forever, so in that case a reading of 0 clears it.
 */
export function createDoseRateRule(thresholds: DoseRateThresholds): AlarmRule {
  return {
    id: DOSE_RATE_RULE_ID,
    evaluate(reading: Reading, active): RuleDecision {
      if (reading.quality === 'invalid') return { action: 'none' };
      const value = reading.values[CHANNEL];
      if (typeof value !== 'number' || !Number.isFinite(value)) return { action: 'none' };
      const { threshold_usvh: threshold, deadband_usvh: deadband } = resolveDoseRateLimits(thresholds, reading.device);
      const evidence: AlarmEvidence = {
        channel: CHANNEL,
        value,
        unit: UNIT,
        threshold,
        deadband,
        reading_ts: reading.ts,
        quality: reading.quality,
      };
      if (!active) {
        if (value <= threshold) return { action: 'none' };
        return {
          action: 'raise',
          evidence,
          severity: 'high',
          message: `Dose rate ${formatUsvh(value)} above ${formatUsvh(threshold)} on ${reading.device}`,
        };
      }
      const clearLevel = threshold - deadband;
      const cleared = value < clearLevel || (clearLevel <= 0 && value <= 0);
      if (!cleared) return { action: 'hold', evidence };
      return {
        action: 'clear',
        evidence,
        message: `Dose rate back to ${formatUsvh(value)} (below ${formatUsvh(Math.max(clearLevel, 0))}) on ${reading.device}`,
      };
    },
  };
}
