import { describe, expect, it } from 'vitest';
import { catalogue } from '../../devices/index.ts';
import { simulators } from '../../simulators/index.ts';
import { parseConfig } from '../../src/config/load.ts';
import { alarmSequence, type RunSpeed, startEngineRun } from '../../src/training/engine-run.ts';
import { listScenarios, type Scenario } from '../../src/training/scenario.ts';
import { createVirtualClock } from '../../src/training/virtual-clock.ts';

const T0 = 1_800_000_000_000;
const config = (yaml = '') => parseConfig(`station: { id: st1 }\ndevices: []\n${yaml}`, { catalogue, env: {} });

async function sequenceOf(s: Scenario, speed: RunSpeed, cfg = config()) {
  const run = startEngineRun({ scenario: s, config: cfg, catalogue, simulators, speed, startMs: T0 });
  expect(await run.done).toBe('finished');
  return alarmSequence(run.transitions(), run.startMs);
}

/**
 * Each shipped scenario cut to about half a minute of real time, so the 1× run stays short: its
 * quiet lead-in removed and, where a rule needs minutes of history (the background rule's
 * warm-up), the station config shortened instead. The 20× run of the same variant must match it.
 */
const SHORT: Record<string, { edit(s: Scenario): void; config?: string }> = {
  'xray-interlock-beam-on': {
    edit(s) {
      s.duration_s = 32;
      for (const a of s.devices[0]?.actions ?? []) a.at_s -= 10;
    },
  },
  'medical-isotope-parcel': {
    edit(s) {
      s.duration_s = 30;
      (s.devices[0] as Scenario['devices'][number]).simulate.events = [{ at_s: 5, duration_s: 12, peak_usvh: 6, shape: 'step' }];
    },
  },
  'weak-cs137-parcel': {
    config: 'alarms:\n  defaults:\n    background: { warmup_s: 10 }\n',
    edit(s) {
      s.duration_s = 30;
      (s.devices[0] as Scenario['devices'][number]).simulate.events = [
        { at_s: 14, duration_s: 3, peak_usvh: 1.5, shape: 'pass', every_s: 8 },
      ];
    },
  },
  'norm-parcel': {
    config: 'alarms:\n  defaults:\n    background: { warmup_s: 10 }\n',
    edit(s) {
      s.duration_s = 30;
      (s.devices[0] as Scenario['devices'][number]).simulate.events = [{ at_s: 18, duration_s: 12, peak_usvh: 0.8, shape: 'step' }];
    },
  },
  'two-simultaneous-alarms': {
    edit(s) {
      s.duration_s = 30;
      const [scanner, geiger] = s.devices as [Scenario['devices'][number], Scenario['devices'][number]];
      for (const a of scanner.actions) a.at_s = a.at_s === 20 ? 0 : a.at_s === 30 ? 8 : 25;
      geiger.simulate.events = [{ at_s: 6, duration_s: 15, peak_usvh: 5, shape: 'step' }];
    },
  },
  'detector-drift': {
    config: 'alarms:\n  defaults:\n    background: { warmup_s: 10 }\n',
    edit(s) {
      s.duration_s = 30;
      (s.devices[0] as Scenario['devices'][number]).simulate.events = [
        { at_s: 12, duration_s: 18, peak_usvh: 0.2, shape: 'step' },
        { at_s: 16, duration_s: 14, peak_usvh: 0.4, shape: 'step' },
        { at_s: 20, duration_s: 10, peak_usvh: 1.2, shape: 'step' },
      ];
    },
  },
  'geiger-cable-pulled': {
    edit(s) {
      s.duration_s = 25;
      (s.devices[0] as Scenario['devices'][number]).cable_pull = [
        { at_s: 3, action: 'unplug' },
        { at_s: 15, action: 'replug' },
      ];
    },
  },
};

describe('virtual clock', () => {
  it('fires timers in time order, same-ms timers in the order they were set, intervals again and again', () => {
    const c = createVirtualClock(T0);
    const fired: string[] = [];
    c.setInterval(() => fired.push(`i@${c.now() - T0}`), 1000);
    c.setTimeout(() => fired.push(`t@${c.now() - T0}`), 1000);
    const gone = c.setTimeout(() => fired.push('never'), 500);
    c.clearTimeout(gone);
    c.advanceTo(T0 + 2500);
    expect(fired).toEqual(['i@1000', 't@1000', 'i@2000']);
    expect(c.now()).toBe(T0 + 2500);
  });

  it('keeps that order with many timers (a replay sets one per reading), cleared ones and intervals cleared from inside', () => {
    const c = createVirtualClock(T0);
    const fired: number[] = [];
    // 5,000 timers in shuffled order of due time, two per ms: order by time, then by setting.
    const due = Array.from({ length: 5000 }, (_, i) => 1 + ((i * 7919) % 2500));
    const ids = due.map((ms, i) => c.setTimeout(() => fired.push(i), ms));
    for (const [i, id] of ids.entries()) if (i % 3 === 0) c.clearTimeout(id);
    let ticks = 0;
    const every = c.setInterval(() => {
      ticks += 1;
      if (ticks === 3) c.clearInterval(every);
    }, 700);
    expect(c.nextAt()).toBe(T0 + 1);
    c.advanceTo(T0 + 10_000);
    const expected = due
      .map((ms, i) => ({ ms, i }))
      .filter(({ i }) => i % 3 !== 0)
      .sort((a, b) => a.ms - b.ms || a.i - b.i)
      .map(({ i }) => i);
    expect(fired).toEqual(expected);
    expect(ticks).toBe(3);
    expect(c.nextAt()).toBeUndefined();
  });
});

describe('one clock: a training run at 20× is the same run as at 1×', () => {
  const shipped = listScenarios().map((e) => {
    if (!e.scenario) throw new Error(`${e.file}: ${e.problems.join('; ')}`);
    return e.scenario;
  });

  it('every shipped scenario has a shortened variant for the 1× run', () => {
    expect(shipped.map((s) => s.name).filter((n) => !SHORT[n])).toEqual([]);
  });

  it('each shipped scenario gives the same alarm sequence at 1× (shortened) and 20×, and at 20× and max speed (full length)', async () => {
    const short = shipped.map(async (full) => {
      const v = SHORT[full.name] as (typeof SHORT)[string];
      const s = structuredClone(full);
      v.edit(s);
      const cfg = config(v.config);
      const [a, b] = await Promise.all([sequenceOf(s, 1, cfg), sequenceOf(s, 20, cfg)]);
      return { name: `${s.name} (shortened) 1× vs 20×`, a, b };
    });
    const long = shipped.map(async (s) => {
      const [a, b] = await Promise.all([sequenceOf(s, 20), sequenceOf(s, 'max')]);
      return { name: `${s.name} 20× vs max`, a, b };
    });
    for (const p of await Promise.all([...short, ...long])) {
      expect(p.a.filter((x) => x.kind === 'raised').length, `${p.name}: raises an alarm`).toBeGreaterThan(0);
      expect(p.b, p.name).toEqual(p.a);
    }
  }, 120_000); // the 1× runs take ~30 s of wall time by design; headroom for a loaded shared machine
});
