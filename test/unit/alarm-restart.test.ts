import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { catalogue } from '../../devices/index.ts';
import { poisson, seededRandom } from '../../simulators/physics.ts';
import { createAlarmEngine } from '../../src/alarms/engine.ts';
import { rulesFromConfig } from '../../src/alarms/rules-from-config.ts';
import { openAlarmStore } from '../../src/alarms/store.ts';
import type { AlarmTransition } from '../../src/alarms/types.ts';
import { parseConfig } from '../../src/config/load.ts';
import type { Reading } from '../../src/core/reading.ts';

/**
 * Restarting the engine must not raise alarms on background-only devices (issue 8 item 5;
 * docs/alarm-engine.md, "Restart"). A Rad Pro reports `cpm` as the mean of a sliding window that
 * refills after a restart, so its first readings are rates over a second or two, not 60-s counts.
 */
const T0 = 1_800_000_000_000;
const config = parseConfig(
  'station: { id: st1 }\ndevices:\n  - { id: rp, profile: radpro, simulate: {} }\n  - { id: g1, profile: mightyohm-geiger, simulate: {} }\n',
  { catalogue, env: {} },
);

function radproReading(ts: number, cpm: number): Reading {
  return {
    station: 'st1',
    device: 'rp',
    profile: 'radpro',
    kind: 'dosimeter',
    ts,
    ts_source: 'agent',
    values: { cpm },
    quality: 'good',
    source: 'live',
  };
}

/** A Rad Pro-like device: 15 CPM background, `cpm` = pulses of the last min(60, uptime) s scaled to a minute. */
function radproDevice(seed: number) {
  const rand = seededRandom(seed);
  const window: number[] = [];
  return () => {
    window.push(poisson(15 / 60, rand));
    if (window.length > 60) window.shift();
    return (window.reduce((a, b) => a + b, 0) * 60) / window.length;
  };
}

function engineAt(path: string, clock: { t: number }) {
  return createAlarmEngine({ now: () => clock.t, rules: rulesFromConfig(config, catalogue), store: openAlarmStore(path) });
}

const raised = (ts: AlarmTransition[]) => ts.filter((t) => t.kind === 'raised').map((t) => `${t.alarm.device}:${t.alarm.rule}`);

describe('alarm engine across a restart', () => {
  it('does not test a refilling sliding window against a restored background (Rad Pro, 30 restarts)', () => {
    const out: string[] = [];
    for (let run = 0; run < 30; run++) {
      const path = join(mkdtempSync(join(tmpdir(), 'radscreen-restart-')), 'alarms.sqlite');
      const clock = { t: T0 };
      let engine = engineAt(path, clock);
      let device = radproDevice(run + 1);
      // 5 minutes of background, one poll every 2 s: the background is learnt and the rule armed.
      for (let s = 0; s < 300; s++) {
        clock.t += 1000;
        const cpm = device();
        if (s % 2 === 0) out.push(...raised(engine.evaluate(radproReading(clock.t, cpm))));
        if (s % 10 === 0) out.push(...raised(engine.tick()));
      }
      engine.close();
      // Ctrl-C, 10 s down, start again: the simulator (or the device) restarts its window.
      clock.t += 10_000;
      engine = engineAt(path, clock);
      device = radproDevice(1000 + run);
      for (let s = 0; s < 120; s++) {
        clock.t += 1000;
        const cpm = device();
        if (s % 2 === 0) out.push(...raised(engine.evaluate(radproReading(clock.t, cpm))));
        out.push(...raised(engine.tick()));
      }
      engine.close();
    }
    expect(out).toEqual([]);
  });

  it('re-learns a background persisted long ago instead of trusting it', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'radscreen-restart-')), 'alarms.sqlite');
    const clock = { t: T0 };
    let engine = engineAt(path, clock);
    // A quiet hour learnt at 6 CPM…
    for (let s = 0; s < 300; s += 2) {
      clock.t += 2000;
      engine.evaluate(radproReading(clock.t, 6));
    }
    engine.close();
    // …then the station is off for a day and rain has since tripled the background.
    clock.t += 86_400_000;
    engine = engineAt(path, clock);
    const out: string[] = [];
    for (let s = 0; s < 240; s += 2) {
      clock.t += 2000;
      out.push(...raised(engine.evaluate(radproReading(clock.t, 30 + (s % 6)))));
    }
    engine.close();
    expect(out).toEqual([]);
  });

  it('gives a restored device its staleness window again from the start before it is stale', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'radscreen-restart-')), 'alarms.sqlite');
    const clock = { t: T0 };
    let engine = engineAt(path, clock);
    const geiger = (ts: number): Reading => ({
      ...radproReading(ts, 20),
      device: 'g1',
      profile: 'mightyohm-geiger',
      values: { cps: 0, cpm: 20 },
    });
    for (let s = 0; s < 10; s++) {
      clock.t += 1000;
      engine.evaluate(geiger(clock.t));
    }
    engine.close();
    // Down for 2 minutes; after the start the device takes 20 s to reconnect and report.
    clock.t += 120_000;
    engine = engineAt(path, clock);
    const out: string[] = [];
    for (let s = 0; s < 20; s++) {
      clock.t += 1000;
      out.push(...raised(engine.tick()));
    }
    engine.evaluate(geiger(clock.t));
    expect(out).toEqual([]);
    // A device that never comes back is still declared stale: window 5 s + delay 30 s after its last reading.
    for (let s = 0; s < 40; s++) {
      clock.t += 1000;
      out.push(...raised(engine.tick()));
    }
    expect(out).toEqual(['g1:device_stale']);
    engine.close();
  });
});
