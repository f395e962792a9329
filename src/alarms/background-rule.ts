import type { Reading } from '../core/reading.ts';
import { poissonThreshold } from './poisson.ts';
import type { AlarmRule, RuleContext, RuleDecision } from './rule.ts';
import type { AlarmEvidence } from './types.ts';

export const BACKGROUND_RULE_ID = 'radiation_background';

/** Settings of the background-relative counting alarm (all have defaults, see DEFAULT_BACKGROUND). */
export interface BackgroundSettings {
  /** Target false alarms per detector per shift; with `shift_h` gives the target rate per hour. */
  false_alarms_per_shift: number;
  shift_h: number;
  /** Background averaging time constant, s (exponential moving average of quiet windows). */
  tau_s: number;
  /** Seconds of quiet background needed before the rule arms. */
  warmup_s: number;
  /**
   * A persisted or paused estimate is re-used only if its newest data is at most this old, s
   * (default: `tau_s`, one averaging time constant); an older one is discarded and re-learnt.
   */
  reuse_max_age_s?: number;
  /** Sums of this many consecutive base windows are tested too (1 = the base window alone). */
  window_multiples: number[];
  /**
   * Off-delay: the alarm clears once no window has exceeded for this long, s, and never before the
   * longest window tested has slid past the last exceeding reading (docs/alarm-engine.md,
   * "Chattering"): otherwise a longer window still holding the pass could re-raise it.
   */
  hold_s: number;
  /** Boolean channels that freeze the background while true; `device` defaults to the reading's own. */
  occupancy: { device?: string; channel: string }[];
  /** Optional sequential test (Page's CUSUM of Poisson SPRTs) against background × `ratio`. */
  sprt: { enabled: boolean; ratio: number };
}

export const DEFAULT_BACKGROUND: BackgroundSettings = {
  false_alarms_per_shift: 1,
  shift_h: 8,
  tau_s: 300,
  warmup_s: 120,
  window_multiples: [1, 2, 3, 5],
  hold_s: 5,
  occupancy: [{ channel: 'bag_present' }],
  sprt: { enabled: false, ratio: 2 },
};

/** The rule's memory per detector; JSON, persisted by the engine. */
export interface BackgroundState {
  /** Background rate estimate, counts per second. */
  bg_cps: number;
  /** Seconds of quiet data behind the estimate. */
  live_s: number;
  /** Newest base-window counts, newest last (at most the largest multiple). */
  ring: number[];
  last_ts: number;
  /** Mean spacing of readings, s (how many tests run per hour). */
  interval_s: number;
  last_exceed_ts: number;
  llr: number;
  /**
   * Timestamp of the first reading of the current unbroken run of readings (set on the first
   * reading after an engine start or a gap). A window of W s is tested, and learnt from, only
   * once W s of readings follow it: before that a sliding window (Rad Pro `cpm`) may be refilling.
   */
  seg_start_ts?: number;
}

/** Which channel holds counts and over how long: the shortest window the device reports wins. */
export function countingWindow(r: Reading): { channel: string; window_s: number; counts: number } | undefined {
  for (const [channel, window_s] of [
    ['cps', 1],
    ['counts_5s', 5],
    ['cpm', 60],
  ] as const) {
    const v = r.values[channel];
    if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return { channel, window_s, counts: Math.round(v) };
  }
  return undefined;
}

/**
 * The per-test false-alarm probability for a target rate: Bonferroni over every test per hour
 * (readings per hour × window lengths tested). Overlapping sums are positively correlated, so the
 * real rate is at or below the target.
 */
export function perTestProbability(targetPerHour: number, testsPerHour: number): number {
  return targetPerHour / testsPerHour;
}

/**
 * Background-relative radiation alarm on counts (portal-monitor gross-count test, §B1). Per
 * detector it keeps a background rate from quiet windows only (no alarm, nothing present, the
 * window itself below threshold); each reading it tests the newest base window and sums of the
 * newest `window_multiples`, alarming when counts ≥ the Poisson threshold for the target
 * false-alarm rate. The background used is the estimate plus one standard error, so estimation
 * noise cannot push the rate above target. Works on CPS (1 s), bGeigie 5-s counts, or CPM.
 */
export function createBackgroundRule(settingsFor: (r: Reading) => BackgroundSettings | undefined, latching = true): AlarmRule {
  return {
    id: BACKGROUND_RULE_ID,
    class: 'radiological',
    latching,
    evaluate(r, active, ctx: RuleContext): RuleDecision {
      const cfg = settingsFor(r);
      const win = countingWindow(r);
      if (!cfg || !win || r.quality === 'invalid') return { action: 'none' };
      const prev = ctx.state as BackgroundState | undefined;
      const maxMult = Math.max(1, ...(win.window_s === 60 ? [1] : cfg.window_multiples));
      const dt = prev ? (r.ts - prev.last_ts) / 1000 : win.window_s;
      // A new run of readings starts at an engine start or after a gap: the window sums must not
      // join counts across it, and the device's own sliding window may be refilling.
      const newRun = !prev || ctx.firstSinceStart || prev.seg_start_ts === undefined || dt > Math.max(win.window_s, 3 * prev.interval_s);
      const fresh: BackgroundState = { bg_cps: 0, live_s: 0, ring: [], last_ts: r.ts, interval_s: win.window_s, last_exceed_ts: 0, llr: 0 };
      // An estimate older than one time constant no longer describes the background (rain, radon): re-learn it.
      const reusable = prev !== undefined && dt <= (cfg.reuse_max_age_s ?? cfg.tau_s);
      const base: BackgroundState = !prev ? fresh : reusable ? prev : { ...fresh, interval_s: prev.interval_s };
      const st: BackgroundState = newRun ? { ...base, ring: [], llr: 0, seg_start_ts: r.ts } : { ...base, ring: [...base.ring] };
      st.last_ts = r.ts;
      if (r.ts - (st.seg_start_ts ?? r.ts) < win.window_s * 1000) {
        // The window is not yet full of this run's data: neither tested nor learnt from.
        return { action: 'none', state: st };
      }
      st.ring = [...st.ring, win.counts].slice(-maxMult);
      // Readings may come faster than the window (a sliding CPM every second): each one is a test.
      if (dt > 0 && dt < 3600) st.interval_s += 0.05 * (Math.min(dt, win.window_s) - st.interval_s);
      const occupied = cfg.occupancy.some((o) => (o.device ? ctx.lookup(o.device, o.channel) : r.values[o.channel]) === true);
      const armed = prev !== undefined && prev.live_s >= cfg.warmup_s && prev.bg_cps > 0;

      const multiples = win.window_s === 60 ? [1] : cfg.window_multiples;
      const targetPerH = cfg.false_alarms_per_shift / cfg.shift_h;
      const testsPerH = (3600 / Math.max(st.interval_s, 0.001)) * (multiples.length + (cfg.sprt.enabled ? 1 : 0));
      const p = perTestProbability(targetPerH, testsPerH);
      const tauEff = Math.max(win.window_s, Math.min(cfg.tau_s, st.live_s));
      const bgUpper = st.bg_cps + Math.sqrt(st.bg_cps / (2 * tauEff));
      let worst: AlarmEvidence | undefined;
      let worstRatio = 0;
      if (armed) {
        for (const m of multiples) {
          if (st.ring.length < m) continue;
          const counts = st.ring.slice(-m).reduce((a, b) => a + b, 0);
          const window_s = m * win.window_s;
          const lambda = bgUpper * window_s;
          const threshold = poissonThreshold(lambda, p);
          const ratio = counts / threshold;
          if (ratio > worstRatio) {
            worstRatio = ratio;
            worst = {
              channel: win.channel,
              value: counts,
              unit: 'counts',
              threshold,
              deadband: 0,
              reading_ts: r.ts,
              quality: r.quality,
              counts,
              window_s,
              background: Number((st.bg_cps * window_s).toPrecision(6)),
              background_cps: Number(st.bg_cps.toPrecision(6)),
              background_live_s: Math.round(st.live_s),
              params: {
                false_alarms_per_hour: targetPerH,
                tests_per_hour: Math.round(testsPerH),
                p_per_test: p,
                tau_s: cfg.tau_s,
                base_window_s: win.window_s,
                window_multiples: multiples.join(','),
                occupied,
              },
            };
          }
        }
      }
      let exceeded = worstRatio >= 1;
      if (armed && cfg.sprt.enabled) {
        // Page's CUSUM of Poisson log-likelihood ratios; Lorden: ARL0 ≥ e^h, so h = ln(tests/h ÷ target/h).
        const l0 = bgUpper * win.window_s;
        st.llr = Math.max(0, st.llr + win.counts * Math.log(cfg.sprt.ratio) - (cfg.sprt.ratio - 1) * l0);
        const h = Math.log(testsPerH / targetPerH);
        if (st.llr >= h && worst) {
          exceeded = true;
          if (worst.params) worst.params.sprt_llr = Number(st.llr.toFixed(3));
        }
      }
      if (exceeded) st.last_exceed_ts = r.ts;
      else if (!active && !occupied) {
        // Quiet: learn. A plain mean until tau is reached, then an exponential average.
        const alpha = Math.max(win.window_s / cfg.tau_s, win.window_s / (st.live_s + win.window_s));
        st.bg_cps += alpha * (win.counts / win.window_s - st.bg_cps);
        st.live_s += Math.min(win.window_s, Math.max(dt, 0));
      }
      if (!active) {
        if (!exceeded || !worst) return { action: 'none', state: st };
        return {
          action: 'raise',
          severity: 'high',
          evidence: worst,
          state: st,
          message: `${worst.counts} counts in ${worst.window_s} s against a background of ${worst.background} on ${r.device} (threshold ${worst.threshold})`,
        };
      }
      const evidence = worst ?? { ...active.evidence, reading_ts: r.ts, value: win.counts, counts: win.counts };
      const offDelayMs = Math.max(cfg.hold_s, Math.max(...multiples) * win.window_s) * 1000;
      if (exceeded || r.ts - st.last_exceed_ts < offDelayMs) return { action: 'hold', evidence, state: st };
      return { action: 'clear', evidence, state: st, message: `Counts back to background on ${r.device}` };
    },
  };
}
