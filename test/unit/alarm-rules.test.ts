import { describe, expect, it } from 'vitest';
import { createBackgroundRule, DEFAULT_BACKGROUND } from '../../src/alarms/background-rule.ts';
import { createHealthRules, createRiseRule, createStaleRule } from '../../src/alarms/device-rules.ts';
import { createAlarmEngine } from '../../src/alarms/engine.ts';
import type { AlarmRule } from '../../src/alarms/rule.ts';
import { resolveAlarmSettings, rulesFromConfig } from '../../src/alarms/rules-from-config.ts';
import { createShiftDoseRule, DEFAULT_SHIFT_DOSE } from '../../src/alarms/shift-dose-rule.ts';
import { createXrayRules, DEFAULT_XRAY } from '../../src/alarms/xray-rules.ts';
import { createZoneRule } from '../../src/alarms/zone-rule.ts';
import { ConfigSchema } from '../../src/config/schema.ts';
import type { DeviceKind, Reading } from '../../src/core/reading.ts';

const T0 = 1_800_000_000_000;

/** An engine on a clock that follows the readings; `feed` returns `kind:rule:severity` strings. */
function setUp(rules: AlarmRule[], kind: DeviceKind = 'dosimeter', profile = 'test-dev') {
  let t = T0;
  const engine = createAlarmEngine({ now: () => t, rules });
  const feed = (values: Reading['values'], dtMs = 1000, device = 'd1') => {
    t += dtMs;
    const r: Reading = { station: 's', device, profile, kind, ts: t, ts_source: 'agent', values, quality: 'good', source: 'live' };
    return engine.evaluate(r).map((x) => `${x.kind}:${x.alarm.rule}:${x.alarm.severity}`);
  };
  const tick = (dtMs: number) => {
    t += dtMs;
    return engine.tick().map((x) => `${x.kind}:${x.alarm.rule}:${x.alarm.severity}`);
  };
  return { engine, feed, tick };
}

describe('zone rule', () => {
  const zone = createZoneRule('zone_dose_rate', () => ({
    channel: 'dose_rate',
    unit: 'uSv/h',
    warn: 0.5,
    alarm: 1,
    emergency: 10,
    deadband: 0.1,
    on_delay_s: 2,
    direction: 'high',
  }));
  it('waits for the on-delay, escalates through the zones, never de-escalates, clears below warn − deadband', () => {
    const { feed, engine } = setUp([zone]);
    expect(feed({ dose_rate: 0.6 })).toEqual([]); // on-delay starts
    expect(feed({ dose_rate: 0.3 })).toEqual([]); // dropped out: on-delay restarts
    expect(feed({ dose_rate: 0.7 })).toEqual([]);
    expect(feed({ dose_rate: 0.7 })).toEqual([]);
    expect(feed({ dose_rate: 0.7 })).toEqual(['raised:zone_dose_rate:medium']);
    expect(feed({ dose_rate: 2 })).toEqual(['escalated:zone_dose_rate:high']);
    expect(feed({ dose_rate: 12 })).toEqual(['escalated:zone_dose_rate:emergency']);
    expect(feed({ dose_rate: 0.45 })).toEqual([]); // inside the deadband
    expect(engine.list({ state: 'active' })[0]?.peak).toBe(12);
    expect(feed({ dose_rate: 0.39 })).toEqual(['cleared:zone_dose_rate:emergency']);
  });
  it('alarms below the limits for direction low (battery)', () => {
    const low = createZoneRule('b', () => ({ channel: 'v', unit: 'V', warn: 3.5, deadband: 0.1, on_delay_s: 0, direction: 'low' }));
    const { feed } = setUp([low]);
    expect(feed({ v: 3.6 })).toEqual([]);
    expect(feed({ v: 3.4 })).toEqual(['raised:b:medium']);
    expect(feed({ v: 3.55 })).toEqual([]);
    expect(feed({ v: 3.65 })).toEqual(['cleared:b:medium']);
  });
});

describe('background rule', () => {
  const quiet = (feed: ReturnType<typeof setUp>['feed'], n: number, extra: Reading['values'] = {}) => {
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(...feed({ cps: i % 3 === 0 ? 1 : 0, ...extra }));
    return out;
  };
  it('arms after warm-up and raises on a burst, with the evidence an N42 export needs', () => {
    const { feed, engine } = setUp([createBackgroundRule(() => DEFAULT_BACKGROUND)]);
    expect(feed({ cps: 9 })).toEqual([]); // not armed yet
    expect(quiet(feed, 150)).toEqual([]);
    expect(feed({ cps: 8 })).toEqual(['raised:radiation_background:high']);
    const a = engine.list()[0];
    expect(a?.latching).toBe(true);
    expect(a?.evidence).toMatchObject({ channel: 'cps', unit: 'counts', counts: 8, window_s: 1, threshold: 6 });
    expect(a?.evidence.background_cps).toBeCloseTo(0.35, 1);
    expect(a?.evidence.params).toMatchObject({ false_alarms_per_hour: 0.125, tests_per_hour: 14400, base_window_s: 1 });
    expect(a?.readings_before).toHaveLength(30);
  });
  it.each([
    [true, 0.35],
    [false, 0.7],
  ])('bag_present=%s: the background after 200 s at 1 cps is %s cps (frozen while a bag is present)', (bag, expected) => {
    const { feed, engine } = setUp([createBackgroundRule(() => DEFAULT_BACKGROUND)]);
    quiet(feed, 150);
    // 1 cps is three times background but below every threshold: it only teaches the background, unless occupied.
    for (let i = 0; i < 200; i++) expect(feed({ cps: 1, bag_present: bag })).toEqual([]);
    expect(feed({ cps: 12 })).toEqual(['raised:radiation_background:high']);
    expect(engine.list()[0]?.evidence.background_cps).toBeCloseTo(expected, 1);
  });
  it('uses bGeigie 5-s counts as its window', () => {
    const { feed, engine } = setUp([createBackgroundRule(() => DEFAULT_BACKGROUND)]);
    for (let i = 0; i < 40; i++) feed({ counts_5s: 2, cpm: 24 }, 5000);
    expect(feed({ counts_5s: 14, cpm: 36 }, 5000)).toEqual(['raised:radiation_background:high']);
    expect(engine.list()[0]?.evidence).toMatchObject({ channel: 'counts_5s', window_s: 5, counts: 14 });
  });
});

describe('device and data-quality rules', () => {
  const health = { stale_window_ms: 5000, stale_delay_s: 10, zero_counts_s: 120, battery_low_v: 3.5 };
  it('raises device_stale from the tick and clears it with the next reading', () => {
    const { feed, tick } = setUp([createStaleRule(() => health)]);
    feed({ cpm: 20 });
    expect(tick(14_000)).toEqual([]);
    expect(tick(2_000)).toEqual(['raised:device_stale:low']);
    expect(tick(60_000)).toEqual([]);
    expect(feed({ cpm: 20 })).toEqual(['cleared:device_stale:low']);
  });
  it('flags a GM tube counting zero for minutes, low battery, and a high-voltage fault', () => {
    const { feed } = setUp(createHealthRules(() => health));
    expect(feed({ cpm: 0 }, 60_000)).toEqual([]);
    expect(feed({ cpm: 0 }, 60_000)).toEqual([]);
    expect(feed({ cpm: 0 }, 60_000)).toEqual(['raised:device_zero_counts:medium']);
    expect(feed({ cpm: 3, battery_voltage: 3.4 }, 1000)).toEqual(['cleared:device_zero_counts:medium']);
    expect(feed({ cpm: 3, battery_voltage: 3.4 }, 31_000)).toEqual(['raised:device_battery_low:medium']);
    expect(feed({ cpm: 3, hv_fault: true })).toEqual(['raised:device_hv_fault:high']);
  });
  it('rate of rise needs half a window of history before it judges a slope', () => {
    const rise = createRiseRule(() => ({ ...health, rise: { channel: 'dose_rate', unit: 'uSv/h', per_min: 0.5, window_s: 60 } }));
    const { feed } = setUp([rise]);
    expect(feed({ dose_rate: 0.1 })).toEqual([]);
    expect(feed({ dose_rate: 3 })).toEqual([]); // a step 1 s later is not a slope
    expect(feed({ dose_rate: 0.1 }, 40_000)).toEqual([]);
    expect(feed({ dose_rate: 0.8 }, 10_000)).toEqual(['raised:rate_of_rise:medium']);
  });
});

describe('X-ray scanner safety rules', () => {
  const base = {
    beam_on: false,
    interlocks_closed: true,
    belt_running: true,
    estop_pressed: false,
    xray_lamp_ok: true,
    leakage_dose_rate: 0.05,
  };
  it('leakage warns at 0.5 µSv/h and alarms at 5 µSv/h', () => {
    const { feed } = setUp(
      createXrayRules(() => DEFAULT_XRAY),
      'xray_scanner',
    );
    expect(feed({ ...base, leakage_dose_rate: 0.5 })).toEqual([]);
    expect(feed({ ...base, leakage_dose_rate: 0.6 })).toEqual(['raised:xray_leakage:medium']);
    expect(feed({ ...base, leakage_dose_rate: 5.2 })).toEqual(['escalated:xray_leakage:high']);
  });
  it('interlock open with beam on is a latching emergency; beam on with belt stopped waits 2 s; E-stop; lamp fault', () => {
    const { feed, engine } = setUp(
      createXrayRules(() => DEFAULT_XRAY),
      'xray_scanner',
    );
    expect(feed({ ...base, interlocks_closed: false })).toEqual([]); // beam off: fine
    expect(feed({ ...base, beam_on: true, interlocks_closed: false })).toEqual(['raised:xray_interlock_open_beam_on:emergency']);
    expect(feed({ ...base })).toEqual(['cleared:xray_interlock_open_beam_on:emergency']);
    expect(engine.list()[0]).toMatchObject({ needs_reset: true, isa_state: 'unacknowledged' });
    expect(engine.list()[0]?.evidence.params).toMatchObject({ beam_on: true, interlocks_closed: false });
    expect(feed({ ...base, beam_on: true, belt_running: false })).toEqual([]);
    expect(feed({ ...base, beam_on: true, belt_running: false })).toEqual([]);
    expect(feed({ ...base, beam_on: true, belt_running: false })).toEqual(['raised:xray_beam_on_belt_stopped:high']);
    expect(feed({ ...base, estop_pressed: true })).toEqual(['cleared:xray_beam_on_belt_stopped:high', 'raised:xray_estop:high']);
    expect(feed({ ...base, estop_pressed: true, xray_lamp_ok: false })).toEqual(['raised:xray_lamp_fault:medium']);
  });
});

describe('accumulated dose per shift', () => {
  it('integrates dose rate, raises at the investigation levels and restarts at the shift change', () => {
    const { feed } = setUp([createShiftDoseRule(() => DEFAULT_SHIFT_DOSE)]);
    // T0 is 2027-01-15T08:00Z: the 06:00–14:00 shift. 30 µSv/h for 8 min (16 intervals after the first reading) = 4 µSv.
    const out: string[] = [];
    for (let i = 0; i < 8 * 2 + 1; i++) out.push(...feed({ dose_rate: 30 }, 30_000));
    expect(out).toEqual(['raised:shift_dose:medium']);
    for (let i = 0; i < 12 * 2; i++) out.push(...feed({ dose_rate: 30 }, 30_000));
    expect(out).toEqual(['raised:shift_dose:medium', 'escalated:shift_dose:high']);
    expect(feed({ dose_rate: 0.1 }, 6 * 3_600_000)).toEqual(['cleared:shift_dose:high']);
  });
});

describe('rules from the config', () => {
  it('resolves defaults ← profile ← device and builds the whole rule set', () => {
    const config = ConfigSchema.parse({
      station: { id: 's' },
      alarms: {
        profiles: { 'gq-gmc': { zero_counts_s: 600 } },
        devices: { g2: { background: { enabled: false }, personal_dosimeter: true } },
      },
    });
    const g1 = resolveAlarmSettings(config.alarms, 'gq-gmc', 'g1', 15_000);
    expect(g1.health).toMatchObject({ battery_low_v: 3.5, zero_counts_s: 600, stale_window_ms: 15_000, stale_delay_s: 30 });
    expect(g1.background?.false_alarms_per_shift).toBe(1);
    expect(g1.shiftDose).toBeUndefined();
    const g2 = resolveAlarmSettings(config.alarms, 'gq-gmc', 'g2', 15_000);
    expect(g2.background).toBeUndefined();
    expect(g2.shiftDose).toEqual(DEFAULT_SHIFT_DOSE);
    expect(rulesFromConfig(config, new Map()).map((r) => r.id)).toEqual([
      'dose_rate_high',
      'radiation_background',
      'rate_of_rise',
      'device_stale',
      'device_zero_counts',
      'device_battery_low',
      'device_hv_fault',
      'xray_leakage',
      'xray_interlock_open_beam_on',
      'xray_beam_on_belt_stopped',
      'xray_estop',
      'xray_lamp_fault',
      'shift_dose',
    ]);
  });
});
