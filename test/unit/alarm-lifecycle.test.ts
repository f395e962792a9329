import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type AlarmEngine, createAlarmEngine } from '../../src/alarms/engine.ts';
import { AlarmActionError } from '../../src/alarms/lifecycle.ts';
import type { AlarmRule } from '../../src/alarms/rule.ts';
import { openAlarmStore } from '../../src/alarms/store.ts';
import { type AlarmSeverity, AlarmTransitionSchema, type IsaState } from '../../src/alarms/types.ts';
import type { Reading } from '../../src/core/reading.ts';

const T0 = 1_800_000_000_000;

/** value > 1 is abnormal; ≥ 5 high, ≥ 10 emergency, else medium. */
function levelRule(id: string, latching: boolean): AlarmRule {
  const sev = (v: number): AlarmSeverity => (v >= 10 ? 'emergency' : v >= 5 ? 'high' : 'medium');
  return {
    id,
    latching,
    evaluate(r, active) {
      const v = r.values.x as number;
      const evidence = { channel: 'x', value: v, unit: 'uSv/h', threshold: 1, deadband: 0, reading_ts: r.ts, quality: r.quality };
      if (!active) return v > 1 ? { action: 'raise', severity: sev(v), evidence, message: `x=${v}` } : { action: 'none' };
      return v > 1 ? { action: 'hold', severity: sev(v), evidence } : { action: 'clear', evidence, message: `x back to ${v}` };
    },
  };
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** An engine on a file store, a hand clock, and a tiny step language for the table below. */
function harness(latching: boolean) {
  const dir = mkdtempSync(join(tmpdir(), 'radscreen-alarm-'));
  dirs.push(dir);
  const path = join(dir, 'alarms.sqlite');
  let t = T0;
  const open = (): AlarmEngine =>
    createAlarmEngine({ now: () => t, rules: [levelRule(latching ? 'latch' : 'level', latching)], store: openAlarmStore(path) });
  let engine = open();
  let id = '';
  const kinds: string[] = [];
  const run = (step: string): void => {
    const [op = '', arg = ''] = step.replace(/^!/, '').split(':');
    const expectFail = step.startsWith('!');
    t += 1000;
    const user = 'op1';
    try {
      const out = (() => {
        switch (op) {
          case 'v': {
            const r: Reading = {
              station: 'st1',
              device: 'd1',
              profile: 'test-dev',
              kind: 'dosimeter',
              ts: t,
              ts_source: 'agent',
              values: { x: Number(arg) },
              quality: 'good',
              source: 'live',
            };
            return engine.evaluate(r);
          }
          case 'ack':
            return engine.acknowledge(id, { user, comment: 'seen' });
          case 'silence':
            return engine.silence(id, { user });
          case 'wait':
            t += Number(arg);
            return engine.tick();
          case 'shelve':
            return engine.shelve(id, { user, until: t + Number(arg), comment: 'known NORM pallet' });
          case 'unshelve':
            return engine.unshelve(id, { user });
          case 'reset':
            return engine.reset(id, { user, comment: 'parcel inspected' });
          case 'disp':
            return engine.setDisposition(id, { user, value: arg as 'innocent' });
          case 'oos':
            return engine.setOutOfService('st1', 'd1', { user: 'tech', on: arg === 'on', comment: 'calibration' });
          case 'sup':
            return engine.setSuppressed('st1', 'd1', { on: arg === 'on', reason: 'maintenance mode' });
          case 'restart':
            engine.close();
            engine = open();
            return [];
          default:
            throw new Error(`bad step ${step}`);
        }
      })();
      if (expectFail) throw new Error(`step ${step} should have been refused`);
      for (const tr of out) {
        AlarmTransitionSchema.parse(tr);
        if (tr.kind === 'raised') id = tr.alarm.id;
        kinds.push(tr.kind);
      }
    } catch (e) {
      if (!expectFail || !(e instanceof AlarmActionError)) throw e;
      kinds.push(`refused:${e.code}`);
    }
  };
  return { run, kinds, engine: () => engine, id: () => id, now: () => t };
}

interface Row {
  name: string;
  latching?: boolean;
  steps: string[];
  kinds: string[];
  isa: IsaState;
}

const rows: Row[] = [
  { name: 'normal → unacknowledged', steps: ['v:0', 'v:2'], kinds: ['raised'], isa: 'unacknowledged' },
  { name: 'unacknowledged → acknowledged', steps: ['v:2', 'ack'], kinds: ['raised', 'acknowledged'], isa: 'acknowledged' },
  {
    name: 'acknowledged → normal on clear',
    steps: ['v:2', 'ack', 'v:0'],
    kinds: ['raised', 'acknowledged', 'cleared', 'closed'],
    isa: 'normal',
  },
  { name: 'unacknowledged → rtn_unacknowledged on clear', steps: ['v:2', 'v:0'], kinds: ['raised', 'cleared'], isa: 'rtn_unacknowledged' },
  {
    name: 'rtn_unacknowledged → normal on ack',
    steps: ['v:2', 'v:0', 'ack'],
    kinds: ['raised', 'cleared', 'acknowledged', 'closed'],
    isa: 'normal',
  },
  {
    name: 'escalation re-annunciates an acknowledged alarm',
    steps: ['v:2', 'ack', 'v:6'],
    kinds: ['raised', 'acknowledged', 'escalated'],
    isa: 'unacknowledged',
  },
  { name: 'de-escalation is silent', steps: ['v:6', 'v:2', 'v:3'], kinds: ['raised'], isa: 'unacknowledged' },
  {
    name: 'acknowledging twice is refused',
    steps: ['v:2', 'ack', '!ack'],
    kinds: ['raised', 'acknowledged', 'refused:invalid_state'],
    isa: 'acknowledged',
  },
  {
    name: 'silence is not acknowledge and expires after 30 s',
    steps: ['v:2', 'silence', 'wait:10000', 'wait:25000'],
    kinds: ['raised', 'silenced', 'silence_expired'],
    isa: 'unacknowledged',
  },
  {
    name: 'an emergency cannot be silenced',
    steps: ['v:12', '!silence'],
    kinds: ['raised', 'refused:invalid_state'],
    isa: 'unacknowledged',
  },
  {
    name: 'shelved, then the shelve expires',
    steps: ['v:2', 'shelve:60000', 'wait:30000', 'wait:40000'],
    kinds: ['raised', 'shelved', 'unshelved'],
    isa: 'unacknowledged',
  },
  {
    name: 'unshelved early by the operator',
    steps: ['v:2', 'shelve:60000', 'unshelve'],
    kinds: ['raised', 'shelved', 'unshelved'],
    isa: 'unacknowledged',
  },
  {
    name: 'a shelve without a future expiry is refused',
    steps: ['v:2', '!shelve:-5'],
    kinds: ['raised', 'refused:invalid_argument'],
    isa: 'unacknowledged',
  },
  {
    name: 'a new occurrence of a shelved point is born shelved',
    steps: ['v:2', 'shelve:600000', 'v:0', 'ack', 'v:3'],
    kinds: ['raised', 'shelved', 'cleared', 'acknowledged', 'closed', 'raised'],
    isa: 'shelved',
  },
  {
    name: 'out of service and back',
    steps: ['v:2', 'oos:on', 'v:3', 'oos:off'],
    kinds: ['raised', 'out_of_service', 'returned_to_service'],
    isa: 'unacknowledged',
  },
  { name: 'out of service covers new occurrences', steps: ['oos:on', 'v:2'], kinds: ['raised'], isa: 'out_of_service' },
  {
    name: 'suppressed by design and back',
    steps: ['v:2', 'sup:on', 'sup:off'],
    kinds: ['raised', 'suppressed', 'unsuppressed'],
    isa: 'unacknowledged',
  },
  {
    name: 'disposition on a closed alarm',
    steps: ['v:2', 'ack', 'v:0', 'disp:innocent'],
    kinds: ['raised', 'acknowledged', 'cleared', 'closed', 'disposition'],
    isa: 'normal',
  },
  {
    name: 'a closed alarm cannot be acknowledged',
    steps: ['v:2', 'ack', 'v:0', '!ack'],
    kinds: ['raised', 'acknowledged', 'cleared', 'closed', 'refused:invalid_state'],
    isa: 'normal',
  },
  {
    name: 'latching: clear keeps it with the operator',
    latching: true,
    steps: ['v:2', 'v:0'],
    kinds: ['raised', 'cleared'],
    isa: 'unacknowledged',
  },
  {
    name: 'latching: ack after clear still needs a reset',
    latching: true,
    steps: ['v:2', 'v:0', 'ack'],
    kinds: ['raised', 'cleared', 'acknowledged'],
    isa: 'acknowledged',
  },
  {
    name: 'latching: reset closes it',
    latching: true,
    steps: ['v:2', 'ack', 'v:0', 'reset'],
    kinds: ['raised', 'acknowledged', 'cleared', 'reset', 'closed'],
    isa: 'normal',
  },
  {
    name: 'latching: reset while active is refused',
    latching: true,
    steps: ['v:2', '!reset'],
    kinds: ['raised', 'refused:invalid_state'],
    isa: 'unacknowledged',
  },
  {
    name: 'restart: a raised alarm is not lost nor raised again',
    steps: ['v:2', 'restart', 'v:3'],
    kinds: ['raised'],
    isa: 'unacknowledged',
  },
  {
    name: 'restart: an acknowledged alarm is not re-alarmed and closes on clear',
    steps: ['v:2', 'ack', 'restart', 'v:3', 'v:0'],
    kinds: ['raised', 'acknowledged', 'cleared', 'closed'],
    isa: 'normal',
  },
  {
    name: 'restart: rtn_unacknowledged survives and closes on ack',
    steps: ['v:2', 'v:0', 'restart', 'ack'],
    kinds: ['raised', 'cleared', 'acknowledged', 'closed'],
    isa: 'normal',
  },
  {
    name: 'restart: a silence still expires',
    steps: ['v:2', 'silence', 'restart', 'wait:31000'],
    kinds: ['raised', 'silenced', 'silence_expired'],
    isa: 'unacknowledged',
  },
  {
    name: 'restart: a shelve keeps its expiry',
    steps: ['v:2', 'shelve:60000', 'restart', 'wait:10000', 'wait:60000'],
    kinds: ['raised', 'shelved', 'unshelved'],
    isa: 'unacknowledged',
  },
  {
    name: 'restart: latched alarm still needs its reset',
    latching: true,
    steps: ['v:2', 'v:0', 'restart', 'reset'],
    kinds: ['raised', 'cleared', 'reset', 'closed'],
    isa: 'normal',
  },
];

describe('alarm lifecycle (ISA-18.2), table-driven, on a SQLite file', () => {
  it.each(rows)('$name', ({ latching = false, steps, kinds, isa }) => {
    const h = harness(latching);
    for (const s of steps) h.run(s);
    expect(h.kinds).toEqual(kinds);
    expect(h.engine().get(h.id())?.isa_state).toBe(isa);
    // Every transition is in the alarm's history, in order, restarts included.
    const stored = h
      .engine()
      .history(h.id())
      .map((t) => t.kind);
    expect(h.kinds.filter((k) => !k.startsWith('refused')).slice(-stored.length)).toEqual(stored);
    h.engine().close();
  });
});

describe('alarm occurrences', () => {
  it('keeps one active occurrence per device and rule, and every occurrence in history', () => {
    const h = harness(false);
    for (const s of ['v:2', 'v:3', 'v:0', 'v:4', 'v:0', 'v:5']) h.run(s);
    const e = h.engine();
    expect(e.list({ state: 'active' })).toHaveLength(1);
    const all = e.list();
    expect(all.map((a) => [a.state, a.isa_state])).toEqual([
      ['active', 'unacknowledged'],
      ['cleared', 'rtn_unacknowledged'],
      ['cleared', 'rtn_unacknowledged'],
    ]);
    expect(new Set(all.map((a) => a.id)).size).toBe(3);
    e.close();
  });

  it('records who acknowledged, with the comment, and annunciates only unacknowledged unsilenced alarms', () => {
    const h = harness(false);
    h.run('v:2');
    const e = h.engine();
    const [ack] = e.acknowledge(h.id(), { user: 'alice', comment: 'parcel moved aside' });
    expect(ack?.alarm.acknowledged).toEqual({ user: 'alice', at: h.now(), comment: 'parcel moved aside' });
    expect(ack).toMatchObject({ user: 'alice', comment: 'parcel moved aside', annunciate: false });
    expect(e.history(h.id())[0]?.annunciate).toBe(true);
    expect(() => e.acknowledge('nope', { user: 'alice' })).toThrow(expect.objectContaining({ code: 'not_found' }));
    e.close();
  });

  it('detects a flood (more than 10 raises in 10 min) and reports KPIs', () => {
    const h = harness(false);
    for (let i = 0; i < 11; i++) {
      h.run('v:2');
      if (i < 3) h.run('ack');
      h.run('v:0');
    }
    const e = h.engine();
    expect(e.flood('st1')).toMatchObject({ active: true, raised_in_window: 11 });
    const k = e.kpis({ windowMs: 3_600_000 });
    expect(k.raised).toBe(11);
    expect(k.alarms_per_hour).toBe(11);
    expect(k.acknowledged).toBe(3);
    expect(k.time_to_ack_s.p50).toBe(1);
    expect(k.chattering).toEqual([{ station: 'st1', device: 'd1', rule: 'level', raises_in_60s: 11 }]);
    expect(k.floods_active).toEqual(['st1']);
    e.close();
  });
});
