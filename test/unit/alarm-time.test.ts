import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createAlarmEngine } from '../../src/alarms/engine.ts';
import { openAlarmStore } from '../../src/alarms/store.ts';
import { runReplay } from '../../src/cli/replay.ts';
import type { Reading } from '../../src/core/reading.ts';

/**
 * Device time is data, not authority (docs/alarm-engine.md, "Time"): a reading stamped outside the
 * plausibility window around the engine's own clock is rejected and counted, and no reading can
 * make the engine ignore the ones that follow it.
 */
const T0 = 1_800_000_000_000;
const DAY = 86_400_000;

function reading(doseRate: number, ts: number, seq?: number): Reading {
  return {
    station: 'st1',
    device: 'g1',
    profile: 'mightyohm-geiger',
    kind: 'dosimeter',
    ts,
    ts_source: 'device',
    ...(seq !== undefined ? { seq } : {}),
    values: { dose_rate: doseRate },
    quality: 'good',
    source: 'live',
  };
}

function setUp(store = openAlarmStore(), window?: { futureMs: number; pastMs: number }) {
  const clock = { t: T0 };
  const engine = createAlarmEngine({
    now: () => clock.t,
    thresholds: { default: { threshold_usvh: 1, deadband_usvh: 0.2 } },
    store,
    ...(window ? { timestampWindow: window } : {}),
  });
  return { engine, clock };
}

describe('alarm engine: reading timestamps against its own clock', () => {
  it('rejects and counts a reading stamped a year ahead, and keeps evaluating the next readings', () => {
    const { engine, clock } = setUp();
    expect(engine.evaluate(reading(0.1, T0 + 365 * DAY))).toEqual([]);
    expect(engine.rejected()).toEqual({ RS_ERR_TS_FUTURE: 1 });
    clock.t += 1000;
    // Before the fix this hot reading was "older" than the future one and ignored: a blind detector.
    expect(engine.evaluate(reading(5, clock.t)).map((t) => t.kind)).toEqual(['raised']);
  });

  it('rejects and counts a reading older than the past bound, even as the first one of a device', () => {
    const { engine } = setUp();
    expect(engine.evaluate(reading(5, T0 - 31 * DAY))).toEqual([]);
    expect(engine.rejected()).toEqual({ RS_ERR_TS_PAST: 1 });
    expect(engine.list()).toEqual([]);
  });

  it('takes the window from its options', () => {
    const { engine } = setUp(openAlarmStore(), { futureMs: 1000, pastMs: 60_000 });
    expect(engine.evaluate(reading(5, T0 + 2000))).toEqual([]);
    expect(engine.evaluate(reading(5, T0 - 61_000))).toEqual([]);
    expect(engine.rejected()).toEqual({ RS_ERR_TS_FUTURE: 1, RS_ERR_TS_PAST: 1 });
  });

  it('evaluates a reading stamped ahead inside the window, but it cannot hide the readings that follow', () => {
    const { engine, clock } = setUp();
    // A clock 4 minutes fast (inside the 5-min window), then corrected.
    expect(engine.evaluate(reading(0.1, T0 + 240_000))).toEqual([]);
    clock.t += 1000;
    expect(engine.evaluate(reading(5, clock.t)).map((t) => t.kind)).toEqual(['raised']);
    expect(engine.rejected()).toEqual({});
  });

  it('skips (and counts as late) a redelivered or reordered reading older than the last one evaluated', () => {
    const { engine, clock } = setUp();
    clock.t += 10_000;
    engine.evaluate(reading(5, T0 + 5000));
    expect(engine.evaluate(reading(0.1, T0 + 4000))).toEqual([]);
    // The exact same reading delivered twice (QoS 1 redelivery) is evaluated once.
    expect(engine.evaluate(reading(5, T0 + 5000))).toEqual([]);
    expect(engine.late()).toBe(2);
    expect(engine.list({ state: 'active' })).toHaveLength(1);
    // Same millisecond, another seq: a distinct reading (a burst stamped by the agent).
    expect(engine.evaluate(reading(0.1, T0 + 5000, 1)).map((t) => t.kind)).toEqual(['cleared']);
    // …and the first reading of that burst, redelivered after the second, is late again.
    expect(engine.evaluate(reading(5, T0 + 5000))).toEqual([]);
    expect(engine.late()).toBe(3);
  });

  it('recovers after a restart whose persisted state carries a future timestamp', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'radscreen-alarm-time-')), 'alarms.sqlite');
    const store = openAlarmStore(path);
    // What an older version persisted after a device clock jumped to 2100.
    const future = Date.parse('2100-01-01T00:00:00Z');
    store.saveMemory([
      [
        'devices',
        [
          {
            station: 'st1',
            device: 'g1',
            profile: 'mightyohm-geiger',
            kind: 'dosimeter',
            last_at: T0 - 5000,
            last_ts: future,
            source: 'live',
            values: {},
          },
        ],
      ],
      ['rule_state', [['st1:g1:rate_of_rise', [[future, 0.1]]]]],
    ]);
    store.close();
    const { engine, clock } = setUp(openAlarmStore(path));
    clock.t += 1000;
    expect(engine.evaluate(reading(5, clock.t)).map((t) => t.kind)).toEqual(['raised']);
    engine.close();
  });

  it('replay rejects a far-future outlier without moving its data clock, but follows a real gap', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'radscreen-replay-time-'));
    const replay = async (readings: Reading[]) => {
      const file = join(dir, `r${readings.length}-${readings[1]?.ts}.ndjson`);
      writeFileSync(file, `${readings.map((r) => JSON.stringify(r)).join('\n')}\n`);
      const errs: string[] = [];
      const transitions: string[] = [];
      const summary = await runReplay({
        file,
        speed: 'max',
        out: (l) => {
          const t = JSON.parse(l) as { kind: string; alarm: { rule: string } };
          transitions.push(`${t.kind}:${t.alarm.rule}`);
        },
        err: (l) => errs.push(l),
      });
      return { summary, errs, transitions };
    };
    const far = T0 + 365 * DAY;
    // One reading of a device whose clock jumped a year ahead, then hot readings at the right time.
    const outlier = await replay([reading(0.1, T0), reading(0.1, far), reading(5, T0 + 1000), reading(5, T0 + 2000)]);
    expect(outlier.summary.skipped).toEqual({ RS_ERR_TS_FUTURE: 1 });
    expect(outlier.transitions).toContain('raised:dose_rate_high');
    expect(outlier.errs.at(-1)).toMatch(/not evaluated: 1 RS_ERR_TS_FUTURE/);
    // A recording that resumes a year later: both later readings are replayed.
    const gap = await replay([reading(0.1, T0), reading(0.1, far), reading(5, far + 1000)]);
    expect(gap.summary.skipped).toEqual({});
    expect(gap.transitions).toContain('raised:dose_rate_high');
  });
});
