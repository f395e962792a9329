import { Counter, type Registry } from 'prom-client';

/**
 * Login throttling rules (docs/security-web.md "Login throttling"). A guess is refused
 * without a password check when:
 * - a check for the same user name is already running (one at a time per user: parallel
 *   guesses cannot race past the counter, because the slot is taken before the scrypt await);
 * - this (user, address) pair failed `freeFailures` times or more and its backoff has not
 *   run out: 1 s after the 3rd failure, doubling per further failure, at most 5 min.
 * A pair's record is forgotten `forgetAfterMs` after its last failure and on success. Only the
 * pair that failed waits: the same user from another address, or another user from the same
 * address, is not held up, so nobody can lock an operator out by guessing their password.
 */
export interface LoginThrottleOptions {
  now: () => number;
  freeFailures?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  forgetAfterMs?: number;
  /** Pairs remembered at most; the oldest are forgotten first (bounded memory under spraying). */
  maxPairs?: number;
}

/** A reserved attempt: report how the check went, exactly once. */
export interface LoginReservation {
  release(outcome: 'ok' | 'failed'): void;
}

/** Refused before any check; `retryAfterMs` > 0. */
export interface LoginRefusal {
  retryAfterMs: number;
  reason: string;
}

interface PairRecord {
  failures: number;
  lastFailureAt: number;
  nextAllowedAt: number;
}

export class LoginThrottle {
  readonly #opts: Required<LoginThrottleOptions>;
  readonly #pairs = new Map<string, PairRecord>();
  readonly #busyUsers = new Set<string>();

  constructor(opts: LoginThrottleOptions) {
    this.#opts = { freeFailures: 2, baseDelayMs: 1000, maxDelayMs: 300_000, forgetAfterMs: 15 * 60_000, maxPairs: 10_000, ...opts };
  }

  /** Backoff after `failures` failed checks of one pair, ms. */
  delayAfter(failures: number): number {
    const { freeFailures, baseDelayMs, maxDelayMs } = this.#opts;
    if (failures <= freeFailures) return 0;
    return Math.min(maxDelayMs, baseDelayMs * 2 ** (failures - freeFailures - 1));
  }

  /** Takes the attempt synchronously, or says why and for how long it is refused. */
  reserve(user: string, ip: string): LoginReservation | LoginRefusal {
    const now = this.#opts.now();
    const key = `${user}\n${ip}`;
    let pair = this.#pairs.get(key);
    if (pair && now - pair.lastFailureAt > this.#opts.forgetAfterMs) {
      this.#pairs.delete(key);
      pair = undefined;
    }
    if (pair && now < pair.nextAllowedAt) return { retryAfterMs: pair.nextAllowedAt - now, reason: 'backoff after failed logins' };
    if (this.#busyUsers.has(user)) return { retryAfterMs: 1000, reason: 'a login for this user is being checked' };
    this.#busyUsers.add(user);
    let released = false;
    return {
      release: (outcome) => {
        if (released) return;
        released = true;
        this.#busyUsers.delete(user);
        if (outcome === 'ok') {
          this.#pairs.delete(key);
          return;
        }
        const at = this.#opts.now();
        const prev = this.#pairs.get(key);
        const failures = (prev?.failures ?? 0) + 1;
        // Re-inserting keeps the Map in last-failure order, so the first key is the oldest.
        this.#pairs.delete(key);
        this.#pairs.set(key, { failures, lastFailureAt: at, nextAllowedAt: at + this.delayAfter(failures) });
        if (this.#pairs.size > this.#opts.maxPairs) this.#pairs.delete(this.#pairs.keys().next().value as string);
      },
    };
  }
}

/**
 * Runs password checks at most `concurrency` at a time with at most `maxQueued` waiting, so a
 * flood of logins neither starves the libuv threadpool (4 threads, shared with file I/O) nor
 * queues a real login behind hundreds of guesses: with 2 running and 8 waiting, a login waits
 * for at most ~5 checks (~0.5 s at ~100 ms each). `run` returns undefined when the queue is full.
 */
export class CheckPool {
  readonly #concurrency: number;
  readonly #maxQueued: number;
  #running = 0;
  readonly #waiting: (() => void)[] = [];
  readonly #checks: Counter;

  constructor(opts: { concurrency?: number; maxQueued?: number; registry: Registry }) {
    this.#concurrency = opts.concurrency ?? 2;
    this.#maxQueued = opts.maxQueued ?? 8;
    this.#checks =
      (opts.registry.getSingleMetric('radscreen_login_checks_total') as Counter | undefined) ??
      new Counter({ name: 'radscreen_login_checks_total', help: 'Password checks (scrypt) run for logins', registers: [opts.registry] });
  }

  async run<T>(check: () => Promise<T>): Promise<T | undefined> {
    if (this.#running >= this.#concurrency) {
      if (this.#waiting.length >= this.#maxQueued) return undefined;
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else this.#running++;
    try {
      this.#checks.inc();
      return await check();
    } finally {
      const next = this.#waiting.shift();
      // Hand the slot straight to the next waiter; otherwise free it.
      if (next) next();
      else this.#running--;
    }
  }
}
