/**
 * One clock for everything that measures time in a run: the alarm engine, its rules (through the
 * engine's `now`), the simulators and a training run's schedule. Live code uses `systemClock`; a
 * training run uses a virtual clock (src/training/virtual-clock.ts) that advances N× faster than
 * the wall, or as fast as the CPU allows, and still fires every timer in the same order.
 */
export interface Clock {
  /** ms since the epoch. */
  now(): number;
  /** Calls `fn` every `ms` (at least 1 ms) from now on; returns a handle for clearInterval. */
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
  /** Calls `fn` once after `ms`; returns a handle for clearTimeout. */
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The process's wall clock and timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (h) => clearInterval(h as NodeJS.Timeout),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};
