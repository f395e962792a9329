import { describe, expect, it } from 'vitest';
import { resolveDoseRateLimits, thresholdsFromConfig } from '../../src/alarms/dose-rate-rule.ts';
import { createAlarmEngine } from '../../src/alarms/engine.ts';
import { AlarmTransitionSchema } from '../../src/alarms/types.ts';
import type { Quality, Reading } from '../../src/core/reading.ts';

const T0 = 1_800_000_000_000;

function reading(device: string, doseRate: number, ts: number, quality: Quality = 'good'): Reading {
  return {
    station: 'st1',
    device,
    profile: 'mightyohm-geiger',
    kind: 'dosimeter',
    ts,
    ts_source: 'agent',
    values: { dose_rate: doseRate, cpm: Math.round(doseRate * 175), cps: 1, mode: 'SLOW' },
    quality,
    source: 'simulated',
  };
}

/** An engine on a hand-driven clock, 1.0 µSv/h threshold, 0.2 deadband (clears below 0.8). */
function setUp(devices: Record<string, { threshold_usvh?: number; deadband_usvh?: number }> = {}) {
  let t = T0;
  const engine = createAlarmEngine({ now: () => t, thresholds: { default: { threshold_usvh: 1.0, deadband_usvh: 0.2 }, devices } });
  let ts = T0;
  const feed = (device: string, v: number, q: Quality = 'good') => {
    t += 1000;
    ts += 1000;
    return engine.evaluate(reading(device, v, ts, q));
  };
  return { engine, feed, clock: () => t };
}

describe('alarm engine: dose rate rule', () => {
  it('stays quiet at or below the threshold', () => {
    const { engine, feed } = setUp();
    expect(feed('g1', 0.12)).toEqual([]);
    expect(feed('g1', 1.0)).toEqual([]);
    expect(engine.list()).toEqual([]);
  });

  it('raises above the threshold with evidence and a stable id', () => {
    const { engine, feed, clock } = setUp();
    const [t] = feed('g1', 1.5);
    expect(t?.kind).toBe('raised');
    expect(AlarmTransitionSchema.parse(t)).toEqual(t);
    expect(t?.alarm).toMatchObject({
      id: `st1:g1:dose_rate_high:${clock()}`,
      state: 'active',
      device: 'g1',
      raised_at: clock(),
      evidence: { channel: 'dose_rate', value: 1.5, threshold: 1.0, deadband: 0.2, unit: 'uSv/h', reading_ts: clock() },
    });
    expect(engine.list().map((a) => a.id)).toEqual([t?.alarm.id]);
  });

  it('does not chatter inside the deadband and clears only below threshold − deadband', () => {
    const { engine, feed } = setUp();
    const raised = feed('g1', 1.2);
    expect(raised).toHaveLength(1);
    // Hovering around the threshold: no new alarm, no clear.
    for (const v of [0.95, 1.1, 0.85, 1.05, 0.8]) expect(feed('g1', v)).toEqual([]);
    expect(engine.list({ state: 'active' })).toHaveLength(1);
    expect(engine.list()[0]?.peak).toBe(1.2);
    const [cleared] = feed('g1', 0.79);
    expect(cleared?.kind).toBe('cleared');
    expect(cleared?.alarm.id).toBe(raised[0]?.alarm.id);
    expect(cleared?.alarm.clear_evidence?.value).toBe(0.79);
    expect(engine.list({ state: 'active' })).toEqual([]);
    expect(engine.list({ state: 'cleared' })).toHaveLength(1);
  });

  it('keeps one active alarm per device however long the rate stays high', () => {
    const { engine, feed } = setUp();
    const all = [1.5, 3, 9, 2, 1.4].flatMap((v) => feed('g1', v));
    expect(all.map((t) => t.kind)).toEqual(['raised']);
    expect(engine.list({ state: 'active' })[0]?.peak).toBe(9);
    // Another device gets its own alarm.
    expect(feed('g2', 2).map((t) => t.kind)).toEqual(['raised']);
    expect(engine.list({ state: 'active' }).map((a) => a.device)).toEqual(['g2', 'g1']);
  });

  it('raises again after a clear, with a new id, and lists active before cleared', () => {
    const { engine, feed } = setUp();
    const first = feed('g1', 2)[0]?.alarm.id;
    feed('g1', 0.1);
    const second = feed('g1', 2)[0]?.alarm.id;
    expect(second).toBeDefined();
    expect(second).not.toBe(first);
    expect(engine.list().map((a) => [a.id, a.state])).toEqual([
      [second, 'active'],
      [first, 'cleared'],
    ]);
  });

  it('ignores readings of quality invalid, but not suspect (warming up)', () => {
    const { engine, feed } = setUp();
    expect(feed('g1', 50, 'invalid')).toEqual([]);
    expect(engine.list()).toEqual([]);
    expect(feed('g1', 5, 'suspect').map((t) => t.kind)).toEqual(['raised']);
    // An invalid low reading must not clear it either.
    expect(feed('g1', 0, 'invalid')).toEqual([]);
    expect(engine.list({ state: 'active' })).toHaveLength(1);
  });

  it('ignores readings older than the last one for the device', () => {
    const { engine, feed, clock } = setUp();
    feed('g1', 2);
    expect(engine.evaluate(reading('g1', 0.1, clock() - 1000))).toEqual([]);
    expect(engine.list({ state: 'active' })).toHaveLength(1);
  });

  it('applies per-device threshold and deadband overrides', () => {
    const { feed } = setUp({ hot: { threshold_usvh: 5, deadband_usvh: 1 } });
    expect(feed('hot', 4.9)).toEqual([]);
    expect(feed('hot', 5.1)).toHaveLength(1);
    expect(feed('hot', 4.1)).toEqual([]);
    expect(feed('hot', 3.9).map((t) => t.kind)).toEqual(['cleared']);
    expect(feed('g1', 1.1)).toHaveLength(1);
  });

  it('builds thresholds from the config, per-device values overriding the station ones', () => {
    const th = thresholdsFromConfig({
      alarms: { dose_rate_usvh: 1, deadband_usvh: 0.2 },
      devices: [
        { id: 'a', profile: 'p', options: {}, alarm: { dose_rate_usvh: 3 }, no_data_timeout_s: 10 },
        { id: 'b', profile: 'p', options: {}, alarm: {}, no_data_timeout_s: 10 },
      ],
    });
    expect(resolveDoseRateLimits(th, 'a')).toEqual({ threshold_usvh: 3, deadband_usvh: 0.2 });
    expect(resolveDoseRateLimits(th, 'b')).toEqual({ threshold_usvh: 1, deadband_usvh: 0.2 });
    expect(resolveDoseRateLimits(th, 'unknown')).toEqual({ threshold_usvh: 1, deadband_usvh: 0.2 });
  });
});
