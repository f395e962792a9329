import type { Source } from '../core/reading.ts';
import type { EngineState } from './engine-state.ts';
import { AlarmActionError, type LifecycleEvent } from './lifecycle.ts';
import type { Alarm, AlarmTransition, Disposition, ParcelEvidence } from './types.ts';

/**
 * Operator and technician actions on the engine. Each returns the transitions it caused
 * (already stored) and throws AlarmActionError: `not_found` (no such id), `invalid_state`
 * (e.g. acknowledging twice, resetting an alarm whose condition is still active),
 * `invalid_argument` (e.g. a shelve without a future expiry). `user` is whoever is logged in;
 * the engine does not check roles (the HTTP layer does).
 */
export interface EngineActions {
  /** Acknowledge an open occurrence; closes it when its condition already cleared (and it is not latched). */
  acknowledge(id: string, by: { user: string; comment?: string }): AlarmTransition[];
  /** Mute the audible cue until `until` (default now + silenceMs). Not an acknowledgement; emergencies refuse. */
  silence(id: string, by: { user: string; until?: number }): AlarmTransition[];
  /** Shelve (hide from annunciation) until `until` (required, at most maxShelveMs ahead); new occurrences of the point inherit it. */
  shelve(id: string, by: { user: string; until: number; comment?: string }): AlarmTransition[];
  /** End a shelve early. */
  unshelve(id: string, by: { user: string }): AlarmTransition[];
  /** Reset a latched occurrence whose condition cleared; implies acknowledgement; closes it. */
  reset(id: string, by: { user: string; comment?: string }): AlarmTransition[];
  /** Classify an occurrence (open or closed): true, innocent (NORM, medical isotope), false, training. */
  setDisposition(id: string, by: { user: string; value: Disposition; comment?: string; nuclide?: string }): AlarmTransition[];
  /** Adds the identified parcel the occurrence (open or closed) was raised during to its evidence. */
  setParcel(id: string, parcel: ParcelEvidence): AlarmTransition[];
  /**
   * Take a whole device (or one rule of it) out of service, or return it. Its open occurrences and
   * every new one carry `out_of_service` and do not annunciate, but keep being evaluated.
   */
  setOutOfService(station: string, device: string, by: { user: string; on: boolean; comment?: string; rule?: string }): AlarmTransition[];
  /** Suppression by design (maintenance mode, beam off, trainer mode): like out-of-service but set by the system. */
  setSuppressed(station: string, device: string, opts: { on: boolean; reason: string; rule?: string }): AlarmTransition[];
  /**
   * Retires the devices of a finished training (or replay) run: every open occurrence of a device
   * of `source` (only `devices` when given) gets disposition `training` and is cleared,
   * acknowledged and reset by `user` until it is closed, and the engine forgets the device (its
   * readings, rule memory and overlays), so no timer rule raises for it again.
   */
  retireDevices(opts: {
    source: Exclude<Source, 'live' | 'simulated'>;
    devices?: readonly string[];
    user: string;
    reason: string;
  }): AlarmTransition[];
}

interface ActionDeps {
  state: EngineState;
  now: () => number;
  silenceMs: number;
  maxShelveMs: number;
  get(id: string): Alarm | undefined;
  apply(alarm: Alarm, ev: LifecycleEvent, now: number, out: AlarmTransition[]): Alarm;
}

export function createEngineActions(d: ActionDeps): EngineActions {
  const s = d.state;

  function run(id: string, ev: LifecycleEvent): AlarmTransition[] {
    const a = d.get(id);
    if (!a) throw new AlarmActionError('not_found', `no alarm ${id}`);
    const out: AlarmTransition[] = [];
    d.apply(a, ev, d.now(), out);
    return out;
  }

  /** Sets a point overlay and applies the matching event to every open occurrence under it. */
  function overlay(
    station: string,
    device: string,
    rule: string | undefined,
    field: 'out_of_service' | 'suppressed',
    value: Alarm['out_of_service'] | Alarm['suppressed'] | undefined,
    ev: LifecycleEvent,
  ): AlarmTransition[] {
    s.setOverlay(rule ? `${station}:${device}:${rule}` : `${station}:${device}`, { [field]: value });
    const out: AlarmTransition[] = [];
    const now = d.now();
    for (const a of [...s.open.values()]) {
      if (a.station !== station || a.device !== device || (rule && a.rule !== rule)) continue;
      if (Boolean(a[field]) === Boolean(value)) continue;
      d.apply(a, ev, now, out);
    }
    return out;
  }

  function retireDevices(o: Parameters<EngineActions['retireDevices']>[0]): AlarmTransition[] {
    const wanted = (device: string) => !o.devices || o.devices.includes(device);
    const out: AlarmTransition[] = [];
    const now = d.now();
    for (const open of [...s.open.values()]) {
      if (open.source !== o.source || !wanted(open.device)) continue;
      let a = d.apply(open, { type: 'disposition', user: o.user, value: 'training', comment: o.reason }, now, out);
      if (a.state === 'active') a = d.apply(a, { type: 'clear', evidence: a.evidence, message: `${a.message} (${o.reason})` }, now, out);
      if (a.closed_at === undefined && !a.acknowledged) a = d.apply(a, { type: 'acknowledge', user: o.user, comment: o.reason }, now, out);
      if (a.closed_at === undefined && a.needs_reset) d.apply(a, { type: 'reset', user: o.user, comment: o.reason }, now, out);
    }
    for (const [key, dev] of [...s.devices]) {
      if (dev.source !== o.source || !wanted(dev.device)) continue;
      s.devices.delete(key);
      s.recent.delete(key);
      for (const k of [...s.ruleState.keys()]) if (k.startsWith(`${key}:`)) s.ruleState.delete(k);
      for (const k of [...s.overlays.keys()]) if (k === key || k.startsWith(`${key}:`)) s.overlays.delete(k);
    }
    return out;
  }

  return {
    retireDevices,
    acknowledge: (id, by) => run(id, { type: 'acknowledge', ...by }),
    silence: (id, by) => run(id, { type: 'silence', user: by.user, until: by.until ?? d.now() + d.silenceMs }),
    shelve(id, by) {
      const now = d.now();
      if (by.until > now + d.maxShelveMs)
        throw new AlarmActionError('invalid_argument', `a shelve may last at most ${d.maxShelveMs / 60_000} min`);
      const out = run(id, { type: 'shelve', ...by });
      const a = out[0]?.alarm;
      if (a?.shelved) s.setOverlay(`${a.station}:${a.device}:${a.rule}`, { shelved: a.shelved });
      return out;
    },
    unshelve(id, by) {
      const out = run(id, { type: 'unshelve', user: by.user });
      const a = out[0]?.alarm;
      if (a) s.setOverlay(`${a.station}:${a.device}:${a.rule}`, { shelved: undefined });
      return out;
    },
    reset: (id, by) => run(id, { type: 'reset', ...by }),
    setDisposition: (id, by) => run(id, { type: 'disposition', ...by }),
    setParcel: (id, parcel) => run(id, { type: 'parcel', parcel }),
    setOutOfService(station, device, by) {
      const now = d.now();
      const value = by.on ? { user: by.user, at: now, ...(by.comment ? { comment: by.comment } : {}) } : undefined;
      const ev: LifecycleEvent = by.on
        ? { type: 'out_of_service', user: by.user, ...(by.comment ? { comment: by.comment } : {}) }
        : { type: 'return_to_service', user: by.user };
      return overlay(station, device, by.rule, 'out_of_service', value, ev);
    },
    setSuppressed(station, device, o) {
      const value = o.on ? { reason: o.reason, at: d.now() } : undefined;
      const ev: LifecycleEvent = o.on ? { type: 'suppress', reason: o.reason } : { type: 'unsuppress' };
      return overlay(station, device, o.rule, 'suppressed', value, ev);
    },
  };
}
