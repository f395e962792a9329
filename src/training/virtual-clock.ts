import type { Clock } from '../core/clock.ts';

interface Timer {
  id: number;
  at: number;
  /** Insertion order: timers due at the same ms fire in the order they were set (deterministic). */
  seq: number;
  every?: number;
  fn: () => void;
}

/** A Clock whose time moves only when `advanceTo` is called: a discrete-event scheduler. */
export interface VirtualClock extends Clock {
  /**
   * Fires every timer due up to `t` (ms since the epoch) in time order, then sets the time to `t`.
   * Whatever speed the caller advances at, the same timers fire at the same virtual times in the
   * same order; that is what makes a run at 20× the same run as at 1×.
   */
  advanceTo(t: number): void;
  /** Virtual time of the next due timer, if any. */
  nextAt(): number | undefined;
}

export function createVirtualClock(startMs: number): VirtualClock {
  let now = startMs;
  let seq = 0;
  let nextId = 1;
  const timers = new Map<number, Timer>();

  const add = (fn: () => void, ms: number, every: boolean): number => {
    const d = Math.max(1, Math.round(ms));
    const t: Timer = { id: nextId++, at: now + d, seq: seq++, fn, ...(every ? { every: d } : {}) };
    timers.set(t.id, t);
    return t.id;
  };
  const due = (): Timer | undefined => {
    let best: Timer | undefined;
    for (const t of timers.values()) if (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t;
    return best;
  };

  return {
    now: () => now,
    setInterval: (fn, ms) => add(fn, ms, true),
    setTimeout: (fn, ms) => add(fn, ms, false),
    clearInterval: (h) => void timers.delete(h as number),
    clearTimeout: (h) => void timers.delete(h as number),
    nextAt: () => due()?.at,
    advanceTo(t) {
      for (let next = due(); next && next.at <= t; next = due()) {
        now = next.at;
        if (next.every) {
          next.at += next.every;
          next.seq = seq++;
        } else timers.delete(next.id);
        next.fn();
      }
      if (t > now) now = t;
    },
  };
}
