import type { Reading } from '../core/reading.ts';
import type { AlarmRule } from './rule.ts';
import { createConditionRule, createZoneRule } from './zone-rule.ts';

/** X-ray scanner limits (§B2). Leakage is the mounted probe at 5 cm, µSv/h. */
export interface XraySettings {
  /** Early warning, default 0.5 µSv/h (a tenth of the 21 CFR 1020.40 limit). */
  leakage_warn_usvh: number;
  /** 21 CFR 1020.40: 0.5 mR in one hour at 5 cm ≈ 5 µSv/h. */
  leakage_alarm_usvh: number;
  /** Beam on with the belt stopped must last this long before it alarms (belt start-up), s. */
  belt_stopped_delay_s: number;
  /**
   * Off-delay of the interlock emergency while an interlock is still open, s: the beam pausing
   * between bags does not make an open (bypassed) door safe, so only closed interlocks clear it at
   * once; with the door still open the beam must stay off this long (far longer than a bag gap).
   */
  interlock_off_delay_s?: number;
}

export const DEFAULT_XRAY: XraySettings = {
  leakage_warn_usvh: 0.5,
  leakage_alarm_usvh: 5,
  belt_stopped_delay_s: 2,
  interlock_off_delay_s: 30,
};

const bool = (r: Reading, k: string): boolean | undefined => (typeof r.values[k] === 'boolean' ? (r.values[k] as boolean) : undefined);

/** Beam, belt and interlock chain as evidence for every X-ray safety alarm. */
function chain(r: Reading): Record<string, boolean | number | string> {
  const out: Record<string, boolean | number | string> = {};
  for (const [k, v] of Object.entries(r.values))
    if (/^(beam_on|interlocks_closed|door_\d+_closed|panel_\d+_closed|key_on|estop_pressed|belt_running|xray_lamp_ok|fault)$/.test(k))
      out[k] = v;
  return out;
}

/**
 * X-ray scanner safety rules on the `xray-parcel-scanner` channels: leakage zones, interlock open
 * while the beam is on (emergency, latching: X-rays may resume only through a separate control),
 * beam on with the belt stopped, emergency stop (latching), X-RAY ON lamp fault.
 * Devices without those channels are ignored.
 */
export function createXrayRules(settingsFor: (r: Reading) => XraySettings | undefined): AlarmRule[] {
  const when = (r: Reading, f: (s: XraySettings) => boolean | undefined) => {
    const s = settingsFor(r);
    return s ? f(s) : undefined;
  };
  return [
    createZoneRule(
      'xray_leakage',
      (r) => {
        const s = settingsFor(r);
        if (!s) return undefined;
        return {
          channel: 'leakage_dose_rate',
          unit: 'uSv/h',
          warn: s.leakage_warn_usvh,
          alarm: s.leakage_alarm_usvh,
          deadband: s.leakage_warn_usvh * 0.2,
          on_delay_s: 0,
          direction: 'high',
        };
      },
      { class: 'xray_safety', label: 'Leakage at 5 cm' },
    ),
    createConditionRule({
      id: 'xray_interlock_open_beam_on',
      class: 'xray_safety',
      severity: 'emergency',
      latching: true,
      channel: 'interlocks_closed',
      test: (r) =>
        when(r, () => {
          const beam = bool(r, 'beam_on');
          const closed = bool(r, 'interlocks_closed');
          return beam === undefined || closed === undefined ? undefined : beam && !closed;
        }),
      offDelayS: (r) => (bool(r, 'interlocks_closed') === true ? 0 : (settingsFor(r)?.interlock_off_delay_s ?? 30)),
      message: (r) => `Interlock open while the X-ray beam is on at ${r.device}`,
      clearMessage: (r) => `Interlocks closed or beam off at ${r.device}`,
      params: chain,
    }),
    createConditionRule({
      id: 'xray_beam_on_belt_stopped',
      class: 'xray_safety',
      severity: 'high',
      channel: 'belt_running',
      onDelayS: (r) => settingsFor(r)?.belt_stopped_delay_s ?? 0,
      test: (r) =>
        when(r, () => {
          const beam = bool(r, 'beam_on');
          const belt = bool(r, 'belt_running');
          return beam === undefined || belt === undefined ? undefined : beam && !belt;
        }),
      message: (r) => `X-ray beam on with the belt stopped at ${r.device}`,
      clearMessage: (r) => `Belt running or beam off at ${r.device}`,
      params: chain,
    }),
    createConditionRule({
      id: 'xray_estop',
      class: 'xray_safety',
      severity: 'high',
      latching: true,
      channel: 'estop_pressed',
      test: (r) => when(r, () => bool(r, 'estop_pressed')),
      message: (r) => `Emergency stop pressed at ${r.device}`,
      clearMessage: (r) => `Emergency stop released at ${r.device}`,
      params: chain,
    }),
    createConditionRule({
      id: 'xray_lamp_fault',
      class: 'xray_safety',
      severity: 'medium',
      channel: 'xray_lamp_ok',
      test: (r) =>
        when(r, () => {
          const ok = bool(r, 'xray_lamp_ok');
          return ok === undefined ? undefined : !ok;
        }),
      message: (r) => `X-RAY ON lamp fault at ${r.device}: one of the two beam-on indications is lost`,
      clearMessage: (r) => `X-RAY ON lamp healthy again at ${r.device}`,
      params: chain,
    }),
  ];
}
