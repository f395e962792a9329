import type { Source } from '../core/reading.ts';
import type { EngineState } from './engine-state.ts';
import type { Alarm, AlarmSeverity, AlarmTransition } from './types.ts';

/** Flood state of one station (EEMUA 191 / ISA-18.2: starts above `count` raises per window, ends below half). */
export interface FloodStatus {
  station: string;
  active: boolean;
  /** Engine clock when the current flood began. */
  since?: number;
  /** Raises within the rolling window right now. */
  raised_in_window: number;
  /** Most raises ever seen within one window. */
  peak: number;
}

/**
 * Alarm-management KPIs (§C) over a window of transitions. Rates are per hour of the window;
 * times in seconds. Chattering: a (device, rule) raised or reactivated 3 or more times within any 60 s.
 * Stale: open occurrences whose condition has been active more than 24 h.
 */
export interface AlarmKpis {
  window_h: number;
  raised: number;
  alarms_per_hour: number;
  /** Most raises in any 10-minute span of the window. */
  max_per_10min: number;
  by_severity: Record<AlarmSeverity, number>;
  acknowledged: number;
  time_to_ack_s: { mean: number | null; p50: number | null; max: number | null };
  chattering: { station: string; device: string; rule: string; raises_in_60s: number }[];
  stale: { id: string; active_h: number }[];
  open: number;
  unacknowledged: number;
  shelved: number;
  out_of_service: number;
  suppressed: number;
  floods_active: string[];
}

const STALE_MS = 24 * 3_600_000;

/**
 * Whether alarms of this source belong to the station's live picture (KPIs, flood, header).
 * Training and replay alarms are kept, listed apart, and never counted (docs/health-and-training-isolation.md).
 */
export function isLiveSource(source: Source): boolean {
  return source !== 'training' && source !== 'replay';
}

/** Records one raise for `station` and moves its flood state (engine-internal). */
export function updateFlood(s: EngineState, station: string, now: number, cfg: { count: number; windowMs: number }): void {
  const times = (s.raises.get(station) ?? []).filter((t) => now - t < cfg.windowMs);
  times.push(now);
  s.raises.set(station, times);
  const f = s.flood.get(station) ?? { active: false, peak: 0 };
  f.peak = Math.max(f.peak, times.length);
  if (!f.active && times.length > cfg.count) {
    f.active = true;
    f.since = now;
  } else if (f.active && times.length < cfg.count / 2) {
    f.active = false;
    f.since = undefined;
  }
  s.flood.set(station, f);
}

function quantile(sorted: number[], q: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? null;
}

/**
 * Computes KPIs from stored transitions plus the open occurrences (pure apart from its inputs).
 * Only live-station alarms count (isLiveSource): a training run never moves a KPI.
 */
export function computeKpis(
  allTransitions: AlarmTransition[],
  allOpen: Alarm[],
  now: number,
  windowMs: number,
  s?: EngineState,
): AlarmKpis {
  const transitions = allTransitions.filter((t) => isLiveSource(t.alarm.source));
  const open = allOpen.filter((a) => isLiveSource(a.source));
  const raised = transitions.filter((t) => t.kind === 'raised');
  const bySeverity: Record<AlarmSeverity, number> = { low: 0, medium: 0, high: 0, emergency: 0 };
  for (const t of raised) bySeverity[t.alarm.severity]++;
  const raisedAt = new Map(raised.map((t) => [t.alarm.id, t.ts]));
  const acks = transitions
    .filter((t) => t.kind === 'acknowledged' && raisedAt.has(t.alarm.id))
    .map((t) => (t.ts - (raisedAt.get(t.alarm.id) ?? t.ts)) / 1000)
    .sort((a, b) => a - b);
  const times = raised.map((t) => t.ts).sort((a, b) => a - b);
  let max10 = 0;
  for (let i = 0, j = 0; i < times.length; i++) {
    while ((times[i] as number) - (times[j] as number) >= 600_000) j++;
    max10 = Math.max(max10, i - j + 1);
  }
  const perKey = new Map<string, number[]>();
  // A latched alarm that comes back before its reset is the same entry `reactivated`: for
  // chattering it is one more occurrence all the same (ISA-18.2 counts annunciations, not entries).
  for (const t of transitions.filter((x) => x.kind === 'raised' || x.kind === 'reactivated')) {
    const k = `${t.alarm.station}\u0000${t.alarm.device}\u0000${t.alarm.rule}`;
    perKey.set(k, [...(perKey.get(k) ?? []), t.ts]);
  }
  const chattering: AlarmKpis['chattering'] = [];
  for (const [k, ts] of perKey) {
    let best = 0;
    for (let i = 0, j = 0; i < ts.length; i++) {
      while ((ts[i] as number) - (ts[j] as number) > 60_000) j++;
      best = Math.max(best, i - j + 1);
    }
    const [station = '', device = '', rule = ''] = k.split('\u0000');
    if (best >= 3) chattering.push({ station, device, rule, raises_in_60s: best });
  }
  const hours = windowMs / 3_600_000;
  return {
    window_h: hours,
    raised: raised.length,
    alarms_per_hour: raised.length / hours,
    max_per_10min: max10,
    by_severity: bySeverity,
    acknowledged: acks.length,
    time_to_ack_s: {
      mean: acks.length ? acks.reduce((x, y) => x + y, 0) / acks.length : null,
      p50: quantile(acks, 0.5),
      max: acks.length ? (acks[acks.length - 1] ?? null) : null,
    },
    chattering,
    stale: open
      .filter((a) => a.state === 'active' && now - a.raised_at > STALE_MS)
      .map((a) => ({ id: a.id, active_h: (now - a.raised_at) / 3_600_000 })),
    open: open.length,
    unacknowledged: open.filter((a) => !a.acknowledged).length,
    shelved: open.filter((a) => a.shelved && a.shelved.until > now).length,
    out_of_service: open.filter((a) => a.out_of_service).length,
    suppressed: open.filter((a) => a.suppressed).length,
    floods_active: s ? [...s.flood.entries()].filter(([, f]) => f.active).map(([k]) => k) : [],
  };
}
