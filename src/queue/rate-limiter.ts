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
