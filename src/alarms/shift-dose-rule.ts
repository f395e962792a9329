import type { Reading } from '../core/reading.ts';
import { type AlarmRule, baseEvidence, numberOf, type RuleDecision } from './rule.ts';
import type { AlarmSeverity } from './types.ts';

/** Investigation levels for the dose one personal dosimeter accumulates in one shift, µSv. */
export interface ShiftDoseSettings {
  warn_usv: number;
  alarm_usv: number;
  shift_h: number;
  /** Hour (UTC, 0–23) the first shift of a day starts; shifts follow every `shift_h`. */
  first_shift_start_h: number;
}

/** Public limit 1 mSv/yr over 2000 h is 0.5 µSv/h, 4 µSv per 8-h shift: warn there, alarm at 2.5×. */
export const DEFAULT_SHIFT_DOSE: ShiftDoseSettings = { warn_usv: 4, alarm_usv: 10, shift_h: 8, first_shift_start_h: 6 };

interface ShiftState {
  shift_start: number;
  acc_usv: number;
  last_ts: number;
  last_dose?: number;
}

/** Start (ms) of the shift containing `ts`. */
export function shiftStartOf(ts: number, s: ShiftDoseSettings): number {
  const len = s.shift_h * 3_600_000;
  const offset = s.first_shift_start_h * 3_600_000;
  return Math.floor((ts - offset) / len) * len + offset;
}

/** Longest gap integrated from a dose rate, ms: beyond it the device was off, not at that rate. */
const MAX_GAP_MS = 60_000;

/**
 * Accumulated dose per personal dosimeter and shift. Uses the device's own cumulative `dose`
 * channel (µSv) when it has one (a counter reset adds the new value), else integrates `dose_rate`
 * (µSv/h) over reading intervals of at most 60 s. A new shift clears the alarm and starts at 0.
 */
export function createShiftDoseRule(settingsFor: (r: Reading) => ShiftDoseSettings | undefined): AlarmRule {
  return {
    id: 'shift_dose',
    class: 'dose',
    evaluate(r, active, ctx): RuleDecision {
      const s = settingsFor(r);
      if (!s || r.quality === 'invalid') return { action: 'none' };
      const dose = numberOf(r, 'dose');
      const rate = numberOf(r, 'dose_rate');
      if (dose === undefined && rate === undefined) return { action: 'none' };
      const start = shiftStartOf(r.ts, s);
      const prev = ctx.state as ShiftState | undefined;
      const st: ShiftState = prev && prev.shift_start === start ? { ...prev } : { shift_start: start, acc_usv: 0, last_ts: r.ts };
      if (dose !== undefined) {
        if (prev?.last_dose !== undefined) st.acc_usv += dose >= prev.last_dose ? dose - prev.last_dose : dose;
        st.last_dose = dose;
      } else if (rate !== undefined && prev) {
        const dt = Math.min(Math.max(r.ts - prev.last_ts, 0), MAX_GAP_MS);
        st.acc_usv += (rate * dt) / 3_600_000;
      }
      st.last_ts = r.ts;
      const acc = Number(st.acc_usv.toPrecision(6));
      const level: AlarmSeverity | undefined = acc >= s.alarm_usv ? 'high' : acc >= s.warn_usv ? 'medium' : undefined;
      const threshold = level === 'high' ? s.alarm_usv : s.warn_usv;
      const evidence = {
        ...baseEvidence(r, dose !== undefined ? 'dose' : 'dose_rate', acc, 'uSv', threshold),
        window_s: Math.round((r.ts - start) / 1000),
        params: { shift_start: start, shift_h: s.shift_h, warn_usv: s.warn_usv, alarm_usv: s.alarm_usv },
      };
      if (!active) {
        if (!level) return { action: 'none', state: st };
        return {
          action: 'raise',
          severity: level,
          evidence,
          state: st,
          message: `${r.device}: ${acc} µSv this shift, investigation level ${threshold} µSv`,
        };
      }
      if (prev && prev.shift_start !== start)
        return { action: 'clear', evidence, state: st, message: `New shift: dose count restarted on ${r.device}` };
      return { action: 'hold', evidence, state: st, ...(level ? { severity: level } : {}) };
    },
  };
}
