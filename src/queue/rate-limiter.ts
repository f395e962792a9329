/**
 * Token bucket for draining backlog at a bounded rate (rows/s), so a long replay cannot
 * swamp the broker or InfluxDB while live data keeps its place.
 */
export function createRateLimiter(ratePerSec: number, now: () => number = Date.now) {
  const capacity = Math.max(1, ratePerSec);
  let tokens = capacity;
  let last = now();
  return {
    /** Rows that may go now (≥ 0, at most `want`); call `spend` with what was actually taken. */
    allowance(want: number): number {
      const t = now();
      tokens = Math.min(capacity, tokens + ((t - last) / 1000) * ratePerSec);
      last = t;
      return Math.max(0, Math.min(want, Math.floor(tokens)));
    },
    spend(n: number): void {
      tokens -= n;
    },
    /** ms until at least one row is allowed. */
    waitMs(): number {
      return tokens >= 1 ? 0 : Math.ceil(((1 - tokens) / ratePerSec) * 1000);
    },
  };
}

/**
 * A backlog drained at a bounded rate: the agent's publisher and the ingest spool both read old
 * rows through this, so the pace-or-wait rule exists once. `take` returns a batch of at most
 * `want` items (charged to the bucket), `'wait'` while the bucket is empty (one timer then calls
 * `wake`), or `'empty'` when the backlog holds nothing.
 */
export function createPacedBacklog<B extends { items: number }>(opts: {
  ratePerSec: number;
  takeBacklog: (maxItems: number) => B | undefined;
  wake: () => void;
  now?: () => number;
}) {
  const limiter = createRateLimiter(opts.ratePerSec, opts.now);
  let timer: NodeJS.Timeout | undefined;
  return {
    take(want: number): B | 'wait' | 'empty' {
      const allowed = limiter.allowance(want);
      if (allowed === 0) {
        timer ??= setTimeout(() => {
          timer = undefined;
          opts.wake();
        }, limiter.waitMs());
        return 'wait';
      }
      const batch = opts.takeBacklog(allowed);
      if (!batch) return 'empty';
      limiter.spend(batch.items);
      return batch;
    },
    /** Cancels a pending wake-up (on close). */
    stop(): void {
      clearTimeout(timer);
      timer = undefined;
    },
  };
}
