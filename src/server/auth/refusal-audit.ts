import type { AuditEntry } from './store.ts';

/** One refused anonymous request, as the audit log should learn of it. */
export interface Refusal {
  action: string;
  /** Stable error code of the refusal, e.g. RS_ERR_AUTH_REQUIRED. */
  code: string;
  ip: string | null;
  target: string | null;
  /** Why, in words (goes into the row's detail). */
  refused: string;
}

const WINDOW_MS = 60_000;
/** Distinct (action, code, address) keys per minute at most; beyond, addresses are folded into `*`. */
const MAX_KEYS = 1000;

interface Bucket {
  window: number;
  refusal: Refusal;
  /** Refusals after the first in this window, not yet written. */
  more: number;
  firstTs: number;
  lastTs: number;
}

/**
 * Bounded auditing of refused anonymous requests (a script can send thousands a second).
 * The first refusal per (action, code, address) in a minute is written at once, as before;
 * the rest of that minute are counted and written as one row with `detail.count` when the
 * minute is over (`flush`, called by a timer and on close). So a flood adds at most two rows
 * per key per minute instead of one per request.
 */
export class RefusalAudit {
  readonly #append: (e: Omit<AuditEntry, 'seq'>) => void;
  readonly #now: () => number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(opts: { append: (e: Omit<AuditEntry, 'seq'>) => void; now: () => number }) {
    this.#append = opts.append;
    this.#now = opts.now;
  }

  record(r: Refusal): void {
    const ts = this.#now();
    const window = Math.floor(ts / WINDOW_MS);
    let key = `${r.action}\n${r.code}\n${r.ip}`;
    if (!this.#buckets.has(key) && this.#buckets.size >= MAX_KEYS) {
      r = { ...r, ip: '*' };
      key = `${r.action}\n${r.code}\n*`;
    }
    const bucket = this.#buckets.get(key);
    if (bucket && bucket.window === window) {
      bucket.more++;
      bucket.lastTs = ts;
      return;
    }
    if (bucket) this.#writeSummary(bucket);
    this.#buckets.set(key, { window, refusal: r, more: 0, firstTs: ts, lastTs: ts });
    this.#append({
      ts,
      user: null,
      role: null,
      action: r.action,
      target: r.target,
      ok: false,
      detail: { refused: r.refused, code: r.code },
      ip: r.ip,
    });
  }

  /** Writes the counts of finished minutes (all of them with `all`, on close). */
  flush(all = false): void {
    const window = Math.floor(this.#now() / WINDOW_MS);
    for (const [key, bucket] of this.#buckets) {
      if (!all && bucket.window >= window) continue;
      this.#writeSummary(bucket);
      this.#buckets.delete(key);
    }
  }

  #writeSummary(b: Bucket): void {
    if (b.more === 0) return;
    this.#append({
      ts: b.lastTs,
      user: null,
      role: null,
      action: b.refusal.action,
      target: null,
      ok: false,
      detail: { refused: b.refusal.refused, code: b.refusal.code, count: b.more, first_ts: b.firstTs, last_ts: b.lastTs, aggregated: true },
      ip: b.refusal.ip,
    });
    b.more = 0;
  }
}
