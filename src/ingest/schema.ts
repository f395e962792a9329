import { createHash } from 'node:crypto';
import { InfluxDB } from 'influx';
import { profiles } from '../../devices/index.ts';
import type { DeviceProfile } from '../core/profile.ts';
import type { IngestLogger } from './logger.ts';

/**
 * Creates the database, its retention policies (raw, 1-minute rollups) and the rollup continuous
 * queries at start-up, idempotently, with the `influx` package (schema work is rare, so its speed does not matter; writes go through
 * influx-writer.ts). Safe to run from several ingest workers at once: CREATE DATABASE is a
 * no-op when the database exists, and the policy is altered to the configured duration.
 */

/** The default retention policy every point lands in unless a writer names another. */
export const RAW_POLICY = 'raw';
/** The policy the 1-minute rollups (continuous queries) write into. */
export const ROLLUP_POLICY = 'rollup_1m';
/**
 * Replayed history (`radscreen import`, source `replay`): its own policy, created when missing
 * (default duration INF) and NEVER altered by anyone, so neither a station start nor an import
 * can shorten what the other keeps (docs/data-integrity.md "Retention policies").
 */
export const IMPORT_POLICY = 'import';

/** Connection and retention for ensureSchema. `retention` is like `30d`, `12w`, `48h` or `INF`. */
export interface SchemaOptions {
  url: string;
  database: string;
  retention: string;
  /** How long 1-minute rollups are kept (default `52w`). */
  rollup_retention?: string;
  /** Duration of IMPORT_POLICY when it has to be created (default `INF`); an existing one is left as it is. */
  import_retention?: string;
  /** How often the rollup CQs recompute the last 2 minutes (default `1m`; tests use `1s`). */
  rollupEvery?: string;
  username?: string;
  password?: string;
}

/** influx's RequestError carries the whole request and response: keep the message only (docs/runtime-facts.md §4). */
function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function connect(opts: Pick<SchemaOptions, 'url' | 'username' | 'password'>): InfluxDB {
  const u = new URL(opts.url);
  return new InfluxDB({
    host: u.hostname,
    port: Number(u.port || (u.protocol === 'https:' ? 443 : 8086)),
    protocol: u.protocol === 'https:' ? 'https' : 'http',
    ...(u.pathname !== '/' ? { path: u.pathname } : {}),
    ...(opts.username !== undefined ? { username: opts.username, password: opts.password ?? '' } : {}),
  });
}

/** One CQ per measurement: its name carries a hash of its text, so a changed catalogue replaces it. */
export interface RollupQuery {
  name: string;
  measurement: string;
  /** The SELECT … INTO … GROUP BY time(1m), * inside the CQ. */
  select: string;
  /** `RESAMPLE EVERY <every> FOR 2m`. */
  resample: string;
}

/**
 * The rollup continuous queries for the catalogue's numeric channels: per measurement, the mean
 * (same field name) and max (`<key>_max`) of every numeric channel over 1 minute, all tags kept.
 * The max matters here: a 1-minute mean would flatten a short source pass.
 */
export function rollupQueries(database: string, every = '1m', catalogue: readonly DeviceProfile[] = profiles): RollupQuery[] {
  const byMeasurement = new Map<string, Set<string>>();
  for (const p of catalogue) {
    const keys = byMeasurement.get(p.measurement) ?? new Set<string>();
    for (const c of p.channels) if ((c.type ?? 'number') === 'number') keys.add(c.key);
    byMeasurement.set(p.measurement, keys);
  }
  const q = (s: string) => `"${s.replace(/"/g, '\\"')}"`;
  const out: RollupQuery[] = [];
  for (const [measurement, keys] of [...byMeasurement].sort(([a], [b]) => a.localeCompare(b))) {
    if (keys.size === 0) continue;
    const fields = [...keys]
      .sort()
      .map((k) => `mean(${q(k)}) AS ${q(k)}, max(${q(k)}) AS ${q(`${k}_max`)}`)
      .join(', ');
    const select = `SELECT ${fields} INTO ${q(database)}.${q(ROLLUP_POLICY)}.${q(measurement)} FROM ${q(database)}.${q(RAW_POLICY)}.${q(measurement)} GROUP BY time(1m), *`;
    // RESAMPLE … FOR 2m: late points (agent backlog, spool replay) still reach the previous minute.
    const resample = `RESAMPLE EVERY ${every} FOR 2m`;
    const hash = createHash('sha1').update(`${resample} ${select}`).digest('hex').slice(0, 8);
    out.push({ name: `cq_${measurement}_1m_${hash}`, measurement, select, resample });
  }
  return out;
}

/** CQ names of `database` (queryRaw: `showContinousQueries(db)` answers for the wrong database, docs/runtime-facts.md §4). */
async function continuousQueries(influx: InfluxDB, database: string): Promise<string[]> {
  const raw = (await influx.queryRaw('SHOW CONTINUOUS QUERIES', { database })) as {
    results?: { series?: { name: string; values?: unknown[][] }[] }[];
  };
  const series = raw.results?.[0]?.series?.find((s) => s.name === database);
  return (series?.values ?? []).map((v) => String(v[0]));
}

async function ensurePolicy(influx: InfluxDB, database: string, name: string, duration: string, isDefault: boolean): Promise<void> {
  const rp = { database, duration, replication: 1, isDefault };
  const policies = await influx.showRetentionPolicies(database);
  if (policies.some((p) => p.name === name)) await influx.alterRetentionPolicy(name, rp);
  else
    await influx.createRetentionPolicy(name, rp).catch((e: Error) => {
      // Another worker created it meanwhile: alter instead.
      if (!/already exists/.test(e.message)) throw e;
      return influx.alterRetentionPolicy(name, rp);
    });
}

/**
 * Creates policy `name` when the database has none of that name; an existing one keeps its
 * duration. Returns the duration in force, as influxd reports it (`0s` is INF).
 */
export async function createPolicyIfMissing(influx: InfluxDB, database: string, name: string, duration: string): Promise<string> {
  const found = (await influx.showRetentionPolicies(database)).find((p) => p.name === name);
  if (found) return found.duration;
  await influx.createRetentionPolicy(name, { database, duration, replication: 1, isDefault: false }).catch((e: Error) => {
    if (!/already exists/.test(e.message)) throw e;
  });
  return (await influx.showRetentionPolicies(database)).find((p) => p.name === name)?.duration ?? duration;
}

/**
 * Creates `database`, makes RAW_POLICY (duration `retention`) its default policy, creates
 * ROLLUP_POLICY and one 1-minute rollup CQ per measurement from the catalogue's numeric channels,
 * dropping rollup CQs of an older catalogue. Idempotent, and safe from several workers at once.
 * @throws Error with influxd's message (not the package's request dump) when influxd refuses or is unreachable.
 */
export async function ensureSchema(opts: SchemaOptions, log?: IngestLogger): Promise<void> {
  const influx = connect(opts);
  try {
    await influx.createDatabase(opts.database);
    await ensurePolicy(influx, opts.database, RAW_POLICY, opts.retention, true);
    await ensurePolicy(influx, opts.database, ROLLUP_POLICY, opts.rollup_retention ?? '52w', false);
    await createPolicyIfMissing(influx, opts.database, IMPORT_POLICY, opts.import_retention ?? 'INF');
    const wanted = rollupQueries(opts.database, opts.rollupEvery);
    const existing = await continuousQueries(influx, opts.database);
    for (const name of existing)
      if (/^cq_.+_1m_[0-9a-f]{8}$/.test(name) && !wanted.some((w) => w.name === name))
        await influx.dropContinuousQuery(name, opts.database);
    for (const cq of wanted)
      if (!existing.includes(cq.name))
        await influx.createContinuousQuery(cq.name, cq.select, opts.database, cq.resample).catch((e: Error) => {
          if (!/already exists/.test(e.message)) throw e;
        });
    log?.info(
      { database: opts.database, policy: RAW_POLICY, retention: opts.retention, rollups: wanted.map((w) => w.name) },
      'influx schema ready',
    );
  } catch (err) {
    const message = messageOf(err);
    log?.error({ database: opts.database, err: message }, 'influx schema set-up failed');
    throw new Error(`InfluxDB schema set-up for '${opts.database}' failed: ${message}`);
  }
}
