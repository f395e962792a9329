import type { CalibrationKind } from '../core/contract.ts';
import type { DeviceProfile } from '../core/profile.ts';
import { CALIBRATION_CONFIG_DEFAULTS, type CalibrationConfig, type FactorRange } from './config.ts';

/**
 * How far a calibration factor may lie from what the device's design says (docs/calibration-trust.md).
 * Tubes of one type differ and drift with age, and a correction on a calibrated instrument is
 * close to 1, so ±50 % (0.5–2) passes on one person's word and more needs a second person. A
 * factor 10× off is not a calibration but a fault or sabotage (1e9 turns 237 CPM into
 * 2.4e-7 µSv/h), so it is refused even with a second person's approval.
 */
export const CEILING_RATIO = 10;

/** Which factor a profile takes: a `defaultSensitivity` means the agent sees a GM tube's counts. */
export function calibrationKindOf(profile: DeviceProfile | undefined): CalibrationKind {
  return profile?.defaultSensitivity !== undefined ? 'sensitivity' : 'correction';
}

/**
 * The factor the device would have without a calibration: the device's configured tube
 * sensitivity (`options.sensitivity`), else the profile's default (CPM per µSv/h); 1 for a correction.
 */
export function referenceFactor(profile: DeviceProfile | undefined, options: Record<string, unknown> = {}): number {
  if (calibrationKindOf(profile) === 'correction') return 1;
  const own = options.sensitivity;
  return typeof own === 'number' && own > 0 ? own : (profile?.defaultSensitivity as number);
}

/** The never-allowed limits: reference ÷ 10 … reference × 10. */
export function ceilingRange(reference: number): FactorRange {
  return { min: reference / CEILING_RATIO, max: reference * CEILING_RATIO };
}

/** The range accepted without a second person: config for the device, else the profile, else derived from the reference. */
export function plausibleRange(
  device: { id: string; profile: string },
  reference: number,
  kind: CalibrationKind,
  config: CalibrationConfig = CALIBRATION_CONFIG_DEFAULTS,
): FactorRange {
  const configured = config.devices[device.id] ?? config.profiles[device.profile];
  if (configured) return configured;
  if (kind === 'correction') return config.correction;
  return { min: reference * (1 - config.sensitivity_tolerance), max: reference * (1 + config.sensitivity_tolerance) };
}

/** Where a factor falls: accepted, needs approval, or refused outright. */
export type PlausibilityVerdict =
  | { verdict: 'plausible'; range: FactorRange; ceiling: FactorRange }
  | { verdict: 'needs_approval'; range: FactorRange; ceiling: FactorRange }
  | { verdict: 'refused'; range: FactorRange; ceiling: FactorRange };

/** Classifies `factor` for one device. Bounds are inclusive. */
export function judgeFactor(
  factor: number,
  device: { id: string; profile: string; options?: Record<string, unknown> },
  profile: DeviceProfile | undefined,
  config?: CalibrationConfig,
): PlausibilityVerdict {
  const reference = referenceFactor(profile, device.options);
  const ceiling = ceilingRange(reference);
  const range = plausibleRange(device, reference, calibrationKindOf(profile), config);
  if (!(factor >= ceiling.min && factor <= ceiling.max)) return { verdict: 'refused', range, ceiling };
  if (factor >= range.min && factor <= range.max) return { verdict: 'plausible', range, ceiling };
  return { verdict: 'needs_approval', range, ceiling };
}
