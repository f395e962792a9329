import type { Reading } from '../core/reading.ts';
import type { DeviceSeen } from './rule.ts';
import type { Alarm, ReadingSample } from './types.ts';

/**
 * The engine's in-memory bookkeeping, split out of engine.ts: open occurrences by id and by
 * (station, device, rule), devices seen with their recent readings, and per-point overlays
 * (shelve, suppression, out-of-service) that new occurrences inherit. Everything here except
 * `recent` is JSON and goes to the store's `memory` table.
 */

/** A device as the engine tracks it, with its latest values (for occupancy inputs). */
export interface DeviceRecord extends DeviceSeen {
  source: Reading['source'];
  values: Reading['values'];
  /** `seq` of the last reading evaluated (absent = 0): with `last_ts`, its identity. */
  last_seq?: number;
}

/** Overlays on a point: key `${station}:${device}` (device-wide) or `${station}:${device}:${rule}`. */
export interface PointOverlay {
  shelved?: Alarm['shelved'];
  suppressed?: Alarm['suppressed'];
  out_of_service?: Alarm['out_of_service'];
}

/** Keeps readings as compact samples for the evidence window. */
export function toSample(r: Reading): ReadingSample {
  return { ts: r.ts, quality: r.quality, values: { ...r.values } };
}

export class EngineState {
  /** Open (not closed) occurrences by id. */
  readonly open = new Map<string, Alarm>();
  /** `${station}:${device}:${rule}` → id of its one occurrence with state `active`. */
  readonly activeByKey = new Map<string, string>();
  readonly devices = new Map<string, DeviceRecord>();
  readonly ruleState = new Map<string, unknown>();
  readonly overlays = new Map<string, PointOverlay>();
  /** Last readings per device (newest last), for `readings_before`. */
  readonly recent = new Map<string, ReadingSample[]>();
  /** Alarm id → how many more readings go into its `readings_after`. */
  readonly collecting = new Map<string, number>();
  /** Engine-clock times of `raised` transitions per station, for flood detection. */
  readonly raises = new Map<string, number[]>();
  readonly flood = new Map<string, { active: boolean; since?: number; peak: number }>();

  add(alarm: Alarm): void {
    this.open.set(alarm.id, alarm);
    if (alarm.state === 'active') this.activeByKey.set(`${alarm.station}:${alarm.device}:${alarm.rule}`, alarm.id);
  }

  /** Replaces an occurrence after a lifecycle event, dropping it from `open` once closed. */
  update(alarm: Alarm): void {
    const key = `${alarm.station}:${alarm.device}:${alarm.rule}`;
    if (alarm.state !== 'active' && this.activeByKey.get(key) === alarm.id) this.activeByKey.delete(key);
    if (alarm.state === 'active' && alarm.closed_at === undefined) this.activeByKey.set(key, alarm.id);
    if (alarm.closed_at !== undefined) {
      this.open.delete(alarm.id);
      this.collecting.delete(alarm.id);
    } else this.open.set(alarm.id, alarm);
  }

  /** The open, cleared occurrence of a latching rule still waiting for its reset, if any. */
  latchedAwaitingReset(station: string, device: string, rule: string): Alarm | undefined {
    for (const a of this.open.values())
      if (a.station === station && a.device === device && a.rule === rule && a.state === 'cleared' && a.needs_reset) return a;
    return undefined;
  }

  active(station: string, device: string, rule: string): Alarm | undefined {
    const id = this.activeByKey.get(`${station}:${device}:${rule}`);
    return id === undefined ? undefined : this.open.get(id);
  }

  /**
   * Evidence bookkeeping after a reading: appends it to `readings_after` of the device's alarms
   * still collecting (not the ones it raised itself, at `now`) and to the device's ring of the
   * last `keep` readings. Returns the alarms changed (to save).
   */
  keepEvidence(sample: ReadingSample, r: Pick<Reading, 'station' | 'device'>, now: number, keep: number): Alarm[] {
    const changed: Alarm[] = [];
    for (const [id, left] of this.collecting) {
      const a = this.open.get(id);
      if (!a || a.station !== r.station || a.device !== r.device || a.raised_at === now) continue;
      a.readings_after.push(sample);
      changed.push(a);
      if (left <= 1) this.collecting.delete(id);
      else this.collecting.set(id, left - 1);
    }
    const key = `${r.station}:${r.device}`;
    const ring = this.recent.get(key) ?? [];
    ring.push(sample);
    if (ring.length > keep) ring.shift();
    this.recent.set(key, ring);
    return changed;
  }

  /** Overlays a new occurrence inherits: the device-wide ones, then the rule's own. */
  overlayFor(station: string, device: string, rule: string, now: number): PointOverlay {
    const dev = this.overlays.get(`${station}:${device}`) ?? {};
    const own = this.overlays.get(`${station}:${device}:${rule}`) ?? {};
    const shelved = own.shelved && own.shelved.until > now ? own.shelved : undefined;
    return {
      ...(shelved ? { shelved } : {}),
      ...((own.suppressed ?? dev.suppressed) ? { suppressed: own.suppressed ?? dev.suppressed } : {}),
      ...((own.out_of_service ?? dev.out_of_service) ? { out_of_service: own.out_of_service ?? dev.out_of_service } : {}),
    };
  }

  setOverlay(key: string, patch: Partial<Record<keyof PointOverlay, PointOverlay[keyof PointOverlay] | undefined>>): void {
    const next: PointOverlay = { ...(this.overlays.get(key) ?? {}), ...patch } as PointOverlay;
    for (const k of Object.keys(next) as (keyof PointOverlay)[]) if (next[k] === undefined) delete next[k];
    if (Object.keys(next).length === 0) this.overlays.delete(key);
    else this.overlays.set(key, next);
  }

  /** Memory rows for the store. */
  memoryEntries(): [string, unknown][] {
    return [
      ['devices', [...this.devices.values()]],
      ['rule_state', [...this.ruleState.entries()]],
      ['overlays', [...this.overlays.entries()]],
      ['raises', [...this.raises.entries()]],
    ];
  }

  /**
   * Loads memory rows. A device `trust` refuses is forgotten with its rule state (re-learnt from its
   * next readings); returns how many were dropped.
   */
  restoreMemory(mem: Map<string, unknown>, trust: (d: DeviceRecord) => boolean = () => true): number {
    const dropped = new Set<string>();
    for (const d of (mem.get('devices') as DeviceRecord[] | undefined) ?? []) {
      if (trust(d)) this.devices.set(`${d.station}:${d.device}`, d);
      else dropped.add(`${d.station}:${d.device}:`);
    }
    for (const [k, v] of (mem.get('rule_state') as [string, unknown][] | undefined) ?? [])
      if (![...dropped].some((prefix) => k.startsWith(prefix))) this.ruleState.set(k, v);
    for (const [k, v] of (mem.get('overlays') as [string, PointOverlay][] | undefined) ?? []) this.overlays.set(k, v);
    for (const [k, v] of (mem.get('raises') as [string, number[]][] | undefined) ?? []) this.raises.set(k, v);
    return dropped.size;
  }
}
