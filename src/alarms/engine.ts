import type { Reading } from '../core/reading.ts';
import { createDoseRateRule, type DoseRateThresholds } from './dose-rate-rule.ts';
import type { AlarmRule } from './rule.ts';
import type { Alarm, AlarmTransition } from './types.ts';

/** Inputs of the engine: a clock and the limits; `rules` replaces the default rule set. */
export interface AlarmEngineOptions {
  /** ms since the epoch; fake in tests. Stamps `raised_at` / `cleared_at`. */
  now: () => number;
  thresholds: DoseRateThresholds;
  /** Defaults to the dose-rate rule built from `thresholds`. */
  rules?: readonly AlarmRule[];
  /** How many cleared alarms `list()` remembers (oldest dropped first). Default 200. */
  historyLimit?: number;
}

/**
 * The alarm engine: pure apart from the injected clock. It owns which alarms are active
 * and a bounded history of cleared ones; persistence (SQLite) and the ISA-18.2 lifecycle
 * (acknowledge, shelve) will wrap it rather than change `evaluate`.
 */
export interface AlarmEngine {
  /**
   * Runs every rule on one reading and returns the transitions it caused (often none).
   * A reading older than the last one evaluated for the same device is ignored, so a
   * redelivered or reordered backlog cannot flip an alarm back and forth.
   */
  evaluate(reading: Reading): AlarmTransition[];
  /** Active alarms (newest first), then recently cleared ones (newest first); copies. */
  list(opts?: { limit?: number; state?: 'active' | 'cleared' | 'all' }): Alarm[];
  /** The active alarm for one (station, device, rule), if any. */
  activeFor(station: string, device: string, rule: string): Alarm | undefined;
}

/** Creates an engine; see AlarmEngine. */
export function createAlarmEngine(opts: AlarmEngineOptions): AlarmEngine {
  const rules = opts.rules ?? [createDoseRateRule(opts.thresholds)];
  const historyLimit = opts.historyLimit ?? 200;
  const active = new Map<string, Alarm>();
  /** Cleared alarms, newest last. */
  const history: Alarm[] = [];
  const lastTs = new Map<string, number>();
  const usedIds = new Set<string>();

  /** `${station}:${device}:${rule}:${raisedAt}`, suffixed in the rare case a clear and re-raise share a millisecond. */
  function makeId(base: string, raisedAt: number): string {
    let id = `${base}:${raisedAt}`;
    for (let n = 2; usedIds.has(id); n++) id = `${base}:${raisedAt}-${n}`;
    usedIds.add(id);
    return id;
  }

  function remember(alarm: Alarm): void {
    history.push(alarm);
    const dropped = history.splice(0, Math.max(0, history.length - historyLimit));
    for (const a of dropped) usedIds.delete(a.id);
  }

  function evaluate(reading: Reading): AlarmTransition[] {
    const deviceKey = `${reading.station}:${reading.device}`;
    const previous = lastTs.get(deviceKey);
    if (previous !== undefined && reading.ts < previous) return [];
    lastTs.set(deviceKey, reading.ts);

    const transitions: AlarmTransition[] = [];
    for (const rule of rules) {
      const key = `${deviceKey}:${rule.id}`;
      const current = active.get(key);
      const decision = rule.evaluate(reading, current);
      if (decision.action === 'raise' && !current) {
        const ts = opts.now();
        const alarm: Alarm = {
          id: makeId(key, ts),
          station: reading.station,
          device: reading.device,
          profile: reading.profile,
          rule: rule.id,
          severity: decision.severity,
          state: 'active',
          message: decision.message,
          raised_at: ts,
          evidence: decision.evidence,
          peak: decision.evidence.value,
        };
        active.set(key, alarm);
        transitions.push({ v: 1, kind: 'raised', ts, alarm: structuredClone(alarm) });
      } else if (decision.action === 'hold' && current) {
        current.peak = Math.max(current.peak, decision.evidence.value);
      } else if (decision.action === 'clear' && current) {
        const ts = opts.now();
        const alarm: Alarm = { ...current, state: 'cleared', cleared_at: ts, clear_evidence: decision.evidence, message: decision.message };
        active.delete(key);
        remember(alarm);
        transitions.push({ v: 1, kind: 'cleared', ts, alarm: structuredClone(alarm) });
      }
    }
    return transitions;
  }

  function list(o: { limit?: number; state?: 'active' | 'cleared' | 'all' } = {}): Alarm[] {
    const state = o.state ?? 'all';
    const act = state === 'cleared' ? [] : [...active.values()].sort((a, b) => b.raised_at - a.raised_at);
    const cleared = state === 'active' ? [] : [...history].reverse();
    return [...act, ...cleared].slice(0, o.limit ?? Number.POSITIVE_INFINITY).map((a) => structuredClone(a));
  }

  return {
    evaluate,
    list,
    activeFor: (station, device, rule) => {
      const a = active.get(`${station}:${device}:${rule}`);
      return a ? structuredClone(a) : undefined;
    },
  };
}
