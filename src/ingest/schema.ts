import { InfluxDB } from 'influx';
import type { IngestLogger } from './logger.ts';

/**
 * Creates the database and its default retention policy at start-up, idempotently, with the
 * `influx` package (schema work is rare, so its speed does not matter; writes go through
 * influx-writer.ts). Safe to run from several ingest workers at once: CREATE DATABASE is a
 * no-op when the database exists, and the policy is altered to the configured duration.
 */

/** The default retention policy every point lands in unless a writer names another. */
export const RAW_POLICY = 'raw';

/** Connection and retention for ensureSchema. `retention` is like `30d`, `12w`, `48h` or `INF`. */
export interface SchemaOptions {
  url: string;
  database: string;
  retention: string;
  username?: string;
  password?: string;
}

/** influx's RequestError carries the whole request and response: keep the message only (RUNTIME-NOTES §4). */
function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function connect(opts: SchemaOptions): InfluxDB {
  const u = new URL(opts.url);
  return new InfluxDB({
    host: u.hostname,
    port: Number(u.port || (u.protocol === 'https:' ? 443 : 8086)),
    protocol: u.protocol === 'https:' ? 'https' : 'http',
    ...(u.pathname !== '/' ? { path: u.pathname } : {}),
    ...(opts.username !== undefined ? { username: opts.username, password: opts.password ?? '' } : {}),
  });
}

/**
 * Creates `database` and makes RAW_POLICY (duration `retention`) its default policy.
 * @throws Error with influxd's message (not the package's request dump) when influxd refuses or is unreachable.
 */
export async function ensureSchema(opts: SchemaOptions, log?: IngestLogger): Promise<void> {
  const influx = connect(opts);
  const rp = { database: opts.database, duration: opts.retention, replication: 1, isDefault: true };
  try {
    await influx.createDatabase(opts.database);
    const policies = await influx.showRetentionPolicies(opts.database);
    if (policies.some((p) => p.name === RAW_POLICY)) await influx.alterRetentionPolicy(RAW_POLICY, rp);
    else await influx.createRetentionPolicy(RAW_POLICY, rp);
    log?.info({ database: opts.database, policy: RAW_POLICY, retention: opts.retention }, 'influx schema ready');
  } catch (err) {
    const message = messageOf(err);
    log?.error({ database: opts.database, err: message }, 'influx schema set-up failed');
    throw new Error(`InfluxDB schema set-up for '${opts.database}' failed: ${message}`);
  }
}
