import { describe, expect, it } from 'vitest';
import { poisson, seededRandom } from '../../simulators/physics.ts';
import { createBackgroundRule, DEFAULT_BACKGROUND } from '../../src/alarms/background-rule.ts';
import type { AlarmRule } from '../../src/alarms/rule.ts';
import type { Alarm } from '../../src/alarms/types.ts';
import type { Reading } from '../../src/core/reading.ts';

/**
 * Monte-Carlo check of the background-relative rule on a GM tube at 20 CPM (≈ 0.13 µSv/h with a
 * J305-like tube at 153.8 CPM per µSv/h), one CPS reading per second, seeded so it is exact and
 * repeatable. The target is the default: one false alarm per detector per 8-hour shift.
 */

const BG_CPS = 20 / 60;
const SENSITIVITY = 153.8;
const TARGET_PER_H = DEFAULT_BACKGROUND.false_alarms_per_shift / DEFAULT_BACKGROUND.shift_h;

/** Drives the pure rule the way the engine does (active alarm and state handed back in). */
function driver(rule: AlarmRule) {
  let state: unknown;
  let active: Alarm | undefined;
  const T0 = 1_800_000_000_000;
  return (second: number, cps: number): 'raise' | 'clear' | 'none' | 'hold' => {
    const ts = T0 + second * 1000;
    const r: Reading = {
      station: 's',
      device: 'g',
      profile: 'mightyohm-geiger',
      kind: 'dosimeter',
      ts,
      ts_source: 'agent',
      values: { cps },
      quality: 'good',
      source: 'simulated',
    };
    const d = rule.evaluate(r, active, { now: ts, state, lookup: () => undefined, startedAt: T0, firstSinceStart: state === undefined });
    if (d.state !== undefined) state = d.state;
    if (d.action === 'raise') active = { evidence: d.evidence } as Alarm;
    if (d.action === 'clear') active = undefined;
    return d.action;
  };
}

describe('background-relative radiation alarm, Monte-Carlo (seeded)', () => {
  const HOURS = 200;
  const rand = seededRandom(20240607);
  const rule = createBackgroundRule(() => DEFAULT_BACKGROUND);
  const step = driver(rule);
  // Fixed-threshold comparison on the same data: a 60-s sliding CPM, like a kit's SLOW mode.
  const ring = new Int32Array(60);
  let cpm = 0;
  const crossings = new Map<number, number>();
  let falseAlarms = 0;
  let second = 0;
  for (; second < HOURS * 3600; second++) {
    const c = poisson(BG_CPS, rand);
    const prev = cpm;
    cpm += c - (ring[second % 60] as number);
    ring[second % 60] = c;
    if (second >= 60) for (let t = prev + 1; t <= cpm; t++) crossings.set(t, (crossings.get(t) ?? 0) + 1);
    if (step(second, c) === 'raise' && second > DEFAULT_BACKGROUND.warmup_s) falseAlarms++;
  }
  // The lowest CPM threshold whose crossing rate on pure background is at or under the same target.
  let fixedCpm = 21;
  while ((crossings.get(fixedCpm) ?? 0) / HOURS > TARGET_PER_H) fixedCpm++;

  it('keeps its false-alarm rate at or under one per 8-hour shift within statistical error', () => {
    const expectedAtTarget = TARGET_PER_H * HOURS; // 25; this seed gives 2 (Bonferroni is conservative)
    // One-sided 2σ Poisson allowance above the target count.
    expect(falseAlarms).toBeLessThanOrEqual(expectedAtTarget + 2 * Math.sqrt(expectedAtTarget));
    expect(falseAlarms / HOURS).toBeLessThanOrEqual(TARGET_PER_H + 2 * Math.sqrt(TARGET_PER_H / HOURS));
    // The fixed threshold calibrated to the same rate lands near 40 CPM ≈ 0.26 µSv/h.
    expect(fixedCpm).toBeGreaterThanOrEqual(35);
    expect(fixedCpm).toBeLessThanOrEqual(45);
  });

  it('detects a 3-second source pass that the fixed µSv/h threshold for the same false-alarm rate misses', () => {
    const PASSES = 200;
    const EXTRA_CPS = 4; // 12 counts over 3 s: a weak source in a parcel passing the detector
    let ruleHits = 0;
    let fixedHits = 0;
    let onlyRule = 0;
    for (let p = 0; p < PASSES; p++) {
      const start = second + 240;
      let ruleSeen = false;
      let fixedSeen = false;
      for (; second < start + 70; second++) {
        const inPass = second >= start && second < start + 3;
        const c = poisson(BG_CPS + (inPass ? EXTRA_CPS : 0), rand);
        cpm += c - (ring[second % 60] as number);
        ring[second % 60] = c;
        const action = step(second, c);
        if (second >= start && second < start + 5 && action === 'raise') ruleSeen = true;
        if (second >= start && cpm >= fixedCpm) fixedSeen = true;
      }
      if (ruleSeen) ruleHits++;
      if (fixedSeen) fixedHits++;
      if (ruleSeen && !fixedSeen) onlyRule++;
    }
    const fixedUsvh = fixedCpm / SENSITIVITY;
    expect(fixedUsvh).toBeGreaterThan(0.2);
    // Seeded, so these are exact: 185 of 200 passes alarmed within 2 s of the pass by the rule,
    // 70 of 200 ever crossed the fixed threshold (within 70 s); most passes only the rule caught.
    expect(ruleHits / PASSES).toBeGreaterThanOrEqual(0.9);
    expect(fixedHits / PASSES).toBeLessThanOrEqual(0.4);
    expect(onlyRule / PASSES).toBeGreaterThanOrEqual(0.5);
  });
});
