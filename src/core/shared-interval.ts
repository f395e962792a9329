/**
 * Periodic jobs of the same period share one timer. An agent runs several periodic jobs per
 * device (serial watchdog, outbox expiry, status); each with its own `setInterval` meant a wake-up
 * of the process per device per period at a different instant, 64 or more a second on a large
 * station, for jobs that take microseconds. Profiled in `npm run bench:agent` (docs/benchmarks.md
 * "Edge footprint"): every wake-up of an idle Node process costs far more than the job it runs.
 * Sharing one timer per period turns those into one wake-up per period, whatever the devices.
 *
 * A job joins a timer already running, so its first run comes at that timer's next tick, anywhere
 * from 0 to `ms` after it was added (then every `ms`): fine for watchdogs and housekeeping, not for
 * a job that must wait a full period first. A job that throws does not stop the other jobs of its
 * period; its error is rethrown on a microtask, where it reaches the process as a bare interval's
 * error would.
 */
const timers = new Map<number, { timer: NodeJS.Timeout; jobs: Set<() => void> }>();

/** Runs `job` every `ms` on the shared timer of that period; returns a function that stops it. */
export function everyInterval(ms: number, job: () => void): () => void {
  const period = Math.max(1, Math.round(ms));
  let group = timers.get(period);
  if (!group) {
    const jobs = new Set<() => void>();
    const timer = setInterval(() => {
      for (const j of jobs) {
        try {
          j();
        } catch (err) {
          queueMicrotask(() => {
            throw err;
          });
        }
      }
    }, period);
    group = { timer, jobs };
    timers.set(period, group);
  }
  // A job added twice must run twice, so each registration gets its own wrapper.
  const entry = () => job();
  group.jobs.add(entry);
  const g = group;
  return () => {
    if (!g.jobs.delete(entry)) return;
    if (g.jobs.size === 0) {
      clearInterval(g.timer);
      if (timers.get(period) === g) timers.delete(period);
    }
  };
}

/** Periods with a live shared timer, and how many jobs each runs (for tests). */
export function sharedIntervals(): Map<number, number> {
  return new Map([...timers].map(([p, g]) => [p, g.jobs.size]));
}
