import type { ErrorCode } from '../core/errors.ts';
import type { Reading, Source } from '../core/reading.ts';
import { DEFAULT_TIMESTAMP_WINDOW, type TimestampWindow } from '../core/time-window.ts';
import { createDoseRateRule, type DoseRateThresholds } from './dose-rate-rule.ts';
import { createEngineActions, type EngineActions } from './engine-actions.ts';
import { EngineState, toSample } from './engine-state.ts';
import { type AlarmKpis, computeKpis, type FloodStatus, isLiveSource, updateFlood } from './kpis.ts';
import { applyEvent, deriveIsaState, type LifecycleEvent, shouldAnnunciate } from './lifecycle.ts';
import { admitReading, plausibleMemory } from './reading-admission.ts';
import type { AlarmRule, DeviceSeen, RuleContext, RuleDecision } from './rule.ts';
import { type AlarmStore, openAlarmStore } from './store.ts';
import { createTransitionBus, emitterOn, type TransitionBus } from './transition-bus.ts';
import { type Alarm, type AlarmTransition, severityRank, type TransitionKind } from './types.ts';

/** Inputs of the engine. */
export interface AlarmEngineOptions {
  /** ms since the epoch; fake in tests, reading timestamps in `replay --speed max`. */
  now: () => number;
  /** The fixed dose-rate rule's limits; used when `rules` is not given. */
  thresholds?: DoseRateThresholds;
  /** The rule set; defaults to the dose-rate rule built from `thresholds` (see rulesFromConfig). */
  rules?: readonly AlarmRule[];
  /** Where state lives; default an in-memory SQLite store. The engine closes it on `close()`. */
  store?: AlarmStore;
  /** How long a silence lasts when the caller gives no end, ms. Default 30 000 (IMO). */
  silenceMs?: number;
  /** Longest shelve allowed, ms. Default 8 h (one shift). */
  maxShelveMs?: number;
  /** Rule memory is written to the store at most this often (on `tick`), ms. Default 10 000. */
  persistEveryMs?: number;
  /** Readings kept before / after each alarm as evidence. Default 30 / 10. */
  readingsBefore?: number;
  readingsAfter?: number;
  /** Flood: more than `count` raises within `windowMs` per station (default 10 in 10 min). */
  flood?: { count: number; windowMs: number };
  /** Kept for compatibility; history now lives in the store, unbounded. */
  historyLimit?: number;
  /**
   * Plausibility window for reading timestamps around `now()` (config `time_window`); readings
   * outside it are rejected and counted (`rejected()`). Default DEFAULT_TIMESTAMP_WINDOW.
   */
  timestampWindow?: TimestampWindow;
  /** The one sink every transition goes through after it is stored; default a new bus that logs nothing. */
  transitions?: TransitionBus;
}

/** List filters; `state` filters the condition (active / cleared), `source` keeps training apart. */
export interface ListOptions {
  limit?: number;
  state?: 'active' | 'cleared' | 'all';
  source?: Source | 'all';
}

/**
 * The alarm engine: rules → one occurrence per (station, device, rule) → ISA-18.2 lifecycle →
 * store. Pure apart from the injected clock and the store. Every method that changes something
 * returns the transitions it caused, in order, already persisted, and emits them on `transitions`
 * (the one sink: SSE, MQTT and metrics subscribe there; callers never forward them by hand).
 * Operator actions throw AlarmActionError (`not_found`, `invalid_state`, `invalid_argument`).
 */
export interface AlarmEngine extends EngineActions {
  /** Every transition, once, in order, after it is stored (transition-bus.ts). */
  readonly transitions: TransitionBus;
  /**
   * Runs every rule on one reading and returns the transitions it caused (often none).
   * A reading stamped outside the plausibility window around the engine clock is rejected and
   * counted by code (`rejected()`); one older than the device's watermark, or the last one
   * delivered again, is skipped and counted (`late()`), so a redelivered or reordered backlog
   * cannot flip an alarm back and forth (reading-admission.ts).
   */
  evaluate(reading: Reading): AlarmTransition[];
  /** Readings rejected for their timestamp since start, by code (RS_ERR_TS_FUTURE / RS_ERR_TS_PAST). */
  rejected(): Partial<Record<ErrorCode, number>>;
  /** Readings skipped since start as late or repeated (not errors: redelivery is normal). */
  late(): number;
  /** Timer work: staleness rules, silence and shelve expiry, persisting rule memory. Call every ~1 s. */
  tick(now?: number): AlarmTransition[];
  /** Active alarms (newest raised first), then cleared ones (newest cleared first, open then closed); copies. */
  list(opts?: ListOptions): Alarm[];
  /** One occurrence by id (open or closed). */
  get(id: string): Alarm | undefined;
  /** Every transition of one occurrence, oldest first. */
  history(id: string): AlarmTransition[];
  /** The active occurrence for one (station, device, rule), if any. */
  activeFor(station: string, device: string, rule: string): Alarm | undefined;
  /** Flood state of one station (ISA-18.2: >10 alarms in 10 min starts it, <5 ends it). */
  flood(station: string): FloodStatus;
  /** KPIs over the last `windowMs` (default 24 h) of transitions. */
  kpis(opts?: { windowMs?: number }): AlarmKpis;
  /** Writes rule memory and closes the store; the engine must not be used afterwards. */
  close(): void;
}

const keyOf = (a: { station: string; device: string }, rule: string) => `${a.station}:${a.device}:${rule}`;

/** Creates an engine and loads open alarms and rule memory from the store; see AlarmEngine. */
export function createAlarmEngine(opts: AlarmEngineOptions): AlarmEngine {
  const rules = opts.rules ?? [createDoseRateRule(opts.thresholds ?? { default: { threshold_usvh: 1, deadband_usvh: 0.2 } })];
  const store = opts.store ?? openAlarmStore();
  const before = opts.readingsBefore ?? 30;
  const after = opts.readingsAfter ?? 10;
  const flood = opts.flood ?? { count: 10, windowMs: 600_000 };
  const persistEvery = opts.persistEveryMs ?? 10_000;
  const window = opts.timestampWindow ?? DEFAULT_TIMESTAMP_WINDOW;
  const rejectedByCode: Partial<Record<ErrorCode, number>> = {};
  let lateCount = 0;
  const s = new EngineState();
  s.restoreMemory(store.loadMemory(), (d) => plausibleMemory(d, opts.now(), window));
  for (const a of store.loadOpen()) s.add(a);
  const usedIds = new Set<string>();
  const startedAt = opts.now();
  /** Devices this engine instance has evaluated a reading of (see RuleContext.firstSinceStart). */
  const seenSinceStart = new Set<string>();
  let lastPersist = startedAt;

  function makeId(base: string, raisedAt: number): string {
    let id = `${base}:${raisedAt}`;
    for (let n = 2; usedIds.has(id) || s.open.has(id) || store.hasId(id); n++) id = `${base}:${raisedAt}-${n}`;
    usedIds.add(id);
    return id;
  }

  function record(kind: TransitionKind, alarm: Alarm, now: number, extra: { user?: string; comment?: string } = {}): AlarmTransition {
    alarm.isa_state = deriveIsaState(alarm, now);
    const annunciate =
      (kind === 'raised' || kind === 'escalated' || kind === 'reactivated' || kind === 'silence_expired' || kind === 'unshelved') &&
      shouldAnnunciate(alarm, now);
    const t: AlarmTransition = { v: 1, kind, ts: now, alarm: structuredClone(alarm), annunciate, ...extra };
    store.appendTransition(t);
    return t;
  }

  /** Applies a lifecycle event, records it, and a `closed` transition when the event ended the occurrence. */
  function apply(alarm: Alarm, ev: LifecycleEvent, now: number, out: AlarmTransition[]): Alarm {
    const r = applyEvent(alarm, ev, now);
    s.update(r.alarm);
    const actor = 'user' in ev && ev.user ? { user: ev.user } : {};
    const comment = 'comment' in ev && ev.comment ? { comment: ev.comment } : {};
    out.push(record(r.kind, r.alarm, now, { ...actor, ...comment }));
    if (r.closed) out.push(record('closed', r.alarm, now));
    return r.alarm;
  }

  function ctxFor(station: string, ruleKey: string, now: number, firstSinceStart = false): RuleContext {
    return {
      now,
      state: s.ruleState.get(ruleKey),
      lookup: (device, channel) => s.devices.get(`${station}:${device}`)?.values[channel],
      startedAt,
      firstSinceStart,
    };
  }

  function decide(rule: AlarmRule, dev: DeviceSeen & { source: Source }, d: RuleDecision, now: number, out: AlarmTransition[]): void {
    const key = keyOf(dev, rule.id);
    if (d.state !== undefined) s.ruleState.set(key, d.state);
    const current = s.active(dev.station, dev.device, rule.id);
    const latched = d.action === 'raise' && !current ? s.latchedAwaitingReset(dev.station, dev.device, rule.id) : undefined;
    if (d.action === 'raise' && latched) {
      apply(latched, { type: 'reactivate', severity: d.severity, evidence: d.evidence, message: d.message }, now, out);
    } else if (d.action === 'raise' && !current) {
      const alarm: Alarm = {
        id: makeId(key, now),
        station: dev.station,
        device: dev.device,
        profile: dev.profile,
        rule: rule.id,
        class: rule.class ?? 'radiological',
        severity: d.severity,
        state: 'active',
        isa_state: 'unacknowledged',
        message: d.message,
        source: dev.source,
        raised_at: now,
        evidence: d.evidence,
        peak: d.evidence.value,
        latching: rule.latching ?? false,
        needs_reset: rule.latching ?? false,
        escalations: 0,
        recurrences: 0,
        readings_before: [...(s.recent.get(`${dev.station}:${dev.device}`) ?? [])],
        readings_after: [],
        ...s.overlayFor(dev.station, dev.device, rule.id, now),
      };
      s.add(alarm);
      if (after > 0) s.collecting.set(alarm.id, after);
      out.push(record('raised', alarm, now));
      // Training and replay raises never count towards the station's flood (kpis.ts isLiveSource).
      if (isLiveSource(dev.source)) updateFlood(s, dev.station, now, flood);
    } else if (d.action === 'hold' && current) {
      if (d.severity && severityRank(d.severity) > severityRank(current.severity)) {
        apply(current, { type: 'escalate', severity: d.severity, evidence: d.evidence }, now, out);
      } else if (d.evidence.value > current.peak) {
        current.peak = d.evidence.value;
        store.saveAlarm(current);
      }
    } else if (d.action === 'clear' && current) {
      apply(current, { type: 'clear', evidence: d.evidence, message: d.message }, now, out);
    }
  }

  function evaluate(reading: Reading): AlarmTransition[] {
    const now = opts.now();
    const devKey = `${reading.station}:${reading.device}`;
    const admitted = admitReading(reading, now, s.devices.get(devKey), window);
    if (!admitted.ok) {
      if (admitted.code === 'late') lateCount++;
      else rejectedByCode[admitted.code] = (rejectedByCode[admitted.code] ?? 0) + 1;
      return [];
    }
    const dev = {
      station: reading.station,
      device: reading.device,
      profile: reading.profile,
      kind: reading.kind,
      last_at: now,
      last_ts: reading.ts,
      ...(reading.seq ? { last_seq: reading.seq } : {}),
      source: reading.source,
      values: reading.values,
    };
    s.devices.set(devKey, dev);
    const first = !seenSinceStart.has(devKey);
    seenSinceStart.add(devKey);
    const out: AlarmTransition[] = [];
    for (const rule of rules) {
      const key = keyOf(reading, rule.id);
      decide(
        rule,
        dev,
        rule.evaluate(reading, s.active(reading.station, reading.device, rule.id), ctxFor(reading.station, key, now, first)),
        now,
        out,
      );
    }
    for (const a of s.keepEvidence(toSample(reading), reading, now, before)) store.saveAlarm(a);
    return out;
  }

  function tick(at?: number): AlarmTransition[] {
    const now = at ?? opts.now();
    const out: AlarmTransition[] = [];
    for (const rule of rules) {
      if (!rule.tick) continue;
      const watched = rule.watch?.().filter((d) => !s.devices.has(`${d.station}:${d.device}`)) ?? [];
      for (const dev of [...s.devices.values(), ...watched]) {
        const key = keyOf(dev, rule.id);
        decide(rule, dev, rule.tick(dev, s.active(dev.station, dev.device, rule.id), ctxFor(dev.station, key, now)), now, out);
      }
    }
    for (const a of [...s.open.values()]) {
      if (a.silenced_until !== undefined && a.silenced_until <= now) apply(a, { type: 'silence_expire' }, now, out);
      const cur = s.open.get(a.id);
      if (cur?.shelved && cur.shelved.until <= now) apply(cur, { type: 'unshelve' }, now, out);
    }
    for (const [k, o] of s.overlays) if (o.shelved && o.shelved.until <= now) s.setOverlay(k, { shelved: undefined });
    if (now - lastPersist >= persistEvery) {
      store.saveMemory(s.memoryEntries());
      lastPersist = now;
    }
    return out;
  }

  function list(o: ListOptions = {}): Alarm[] {
    const want = o.state ?? 'all';
    const limit = o.limit ?? Number.POSITIVE_INFINITY;
    const src = (a: Alarm) => !o.source || o.source === 'all' || a.source === o.source;
    const open = [...s.open.values()].filter(src);
    const act = want === 'cleared' ? [] : open.filter((a) => a.state === 'active').sort((a, b) => b.raised_at - a.raised_at);
    let cleared: Alarm[] = [];
    if (want !== 'active') {
      const closed = store.listClosed(Number.isFinite(limit) ? limit : 10_000).filter(src);
      cleared = [...open.filter((a) => a.state === 'cleared'), ...closed].sort((a, b) => (b.cleared_at ?? 0) - (a.cleared_at ?? 0));
    }
    return [...act, ...cleared].slice(0, limit).map((a) => structuredClone(a));
  }

  const bus = opts.transitions ?? createTransitionBus();
  const emitting = emitterOn(bus);
  const rawActions = createEngineActions({
    state: s,
    now: opts.now,
    silenceMs: opts.silenceMs ?? 30_000,
    maxShelveMs: opts.maxShelveMs ?? 8 * 3_600_000,
    apply,
    get: (id) => s.open.get(id) ?? store.get(id),
  });

  // Every action (and retireDevices) emits what it returns; a refused one throws before that.
  const actions = Object.fromEntries(
    Object.entries(rawActions).map(([name, fn]) => [name, emitting(fn as (...a: unknown[]) => AlarmTransition[])]),
  ) as unknown as EngineActions;

  return {
    ...actions,
    transitions: bus,
    evaluate: emitting(evaluate),
    rejected: () => ({ ...rejectedByCode }),
    late: () => lateCount,
    tick: emitting(tick),
    list,
    get: (id) => structuredClone(s.open.get(id) ?? store.get(id)),
    history: (id) => store.transitions({ alarmId: id }),
    activeFor: (station, device, rule) => {
      const a = s.active(station, device, rule);
      return a ? structuredClone(a) : undefined;
    },
    flood: (station) => {
      const f = s.flood.get(station) ?? { active: false, peak: 0 };
      return { station, active: f.active, since: f.since, raised_in_window: (s.raises.get(station) ?? []).length, peak: f.peak };
    },
    kpis: (o = {}) => {
      const now = opts.now();
      const windowMs = o.windowMs ?? 86_400_000;
      return computeKpis(store.transitions({ since: now - windowMs }), [...s.open.values()], now, windowMs, s);
    },
    close: () => {
      store.saveMemory(s.memoryEntries());
      store.close();
    },
  };
}
