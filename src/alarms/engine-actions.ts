import type { EngineState } from './engine-state.ts';
import { AlarmActionError, type LifecycleEvent } from './lifecycle.ts';
import type { Alarm, AlarmTransition, Disposition } from './types.ts';

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
  /**
   * Take a whole device (or one rule of it) out of service, or return it. Its open occurrences and
   * every new one carry `out_of_service` and do not annunciate, but keep being evaluated.
   */
  setOutOfService(station: string, device: string, by: { user: string; on: boolean; comment?: string; rule?: string }): AlarmTransition[];
  /** Suppression by design (maintenance mode, beam off, trainer mode): like out-of-service but set by the system. */
  setSuppressed(station: string, device: string, opts: { on: boolean; reason: string; rule?: string }): AlarmTransition[];
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

  return {
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
