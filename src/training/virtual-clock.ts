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

  // A binary min-heap on (at, seq): a replayed scenario schedules one timer per recorded reading
  // (up to 200,000 per device), so finding the next due timer by scanning would be quadratic.
  // Cleared timers stay in the heap and are skipped when they surface (not in `timers` any more).
  const heap: Timer[] = [];
  const before = (a: Timer, b: Timer) => a.at < b.at || (a.at === b.at && a.seq < b.seq);
  const push = (t: Timer) => {
    heap.push(t);
    for (let i = heap.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i] as Timer, heap[parent] as Timer)) break;
      [heap[i], heap[parent]] = [heap[parent] as Timer, heap[i] as Timer];
      i = parent;
    }
  };
  const popTop = () => {
    const last = heap.pop() as Timer;
    if (heap.length === 0) return;
    heap[0] = last;
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && before(heap[l] as Timer, heap[m] as Timer)) m = l;
      if (r < heap.length && before(heap[r] as Timer, heap[m] as Timer)) m = r;
      if (m === i) break;
      [heap[i], heap[m]] = [heap[m] as Timer, heap[i] as Timer];
      i = m;
    }
  };
  const add = (fn: () => void, ms: number, every: boolean): number => {
    const d = Math.max(1, Math.round(ms));
    const t: Timer = { id: nextId++, at: now + d, seq: seq++, fn, ...(every ? { every: d } : {}) };
    timers.set(t.id, t);
    push(t);
    return t.id;
  };
  const due = (): Timer | undefined => {
    while (heap.length > 0 && timers.get((heap[0] as Timer).id) !== heap[0]) popTop();
    return heap[0];
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
        popTop();
        if (next.every) {
          next.at += next.every;
          next.seq = seq++;
          push(next);
        } else timers.delete(next.id);
        next.fn();
      }
      if (t > now) now = t;
    },
  };
}
