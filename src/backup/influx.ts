import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { hasInfluxd, type InfluxCredentials, readManagedInfluxCredentials, startManagedInfluxd } from '../station/managed-influxd.ts';

/** The private influxd of a data dir, running: the station's own, or one started for the backup or restore. */
export interface InfluxEndpoint {
  url: string;
  rpc: string;
  credentials: InfluxCredentials;
  /** Stops it when this module started it; a no-op for the station's own. */
  release(): Promise<void>;
}

const reachable = (address: string): Promise<boolean> =>
  new Promise((resolve) => {
    const [host, port] = address.split(':');
    const s = connect({ host, port: Number(port) });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

/**
 * The station's influxd when it answers on the RPC address it recorded (a running station: the
 * backup is online), else a private one started on the same directory for as long as needed.
 */
export async function openManagedInflux(dir: string, opts: { mayStart: boolean }): Promise<InfluxEndpoint> {
  if (!hasInfluxd()) throw new Error('influxd is not installed (apt-get install influxdb)');
  const stored = readManagedInfluxCredentials(dir);
  if (stored?.rpc && stored.url && (await reachable(stored.rpc)))
    return { url: stored.url, rpc: stored.rpc, credentials: stored, release: async () => {} };
  if (!opts.mayStart)
    throw new Error(`the station's influxd does not answer on ${stored?.rpc ?? '(no address recorded)'} although the station is running`);
  const influxd = await startManagedInfluxd(dir, 0);
  return { url: influxd.url, rpc: influxd.rpcAddress, credentials: influxd.credentials, release: influxd.stop };
}

/** Runs `influxd backup|restore …`; throws with its output when it fails. */
export function runInfluxdTool(args: string[]): void {
  const r = spawnSync('influxd', args, { encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0)
    throw new Error(`influxd ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`}): ${r.stderr.trim().slice(-2000)}`);
}

/** Points per `<retention policy>.<measurement>` (the largest field count), to compare a restore with its backup. */
export async function countPoints(ep: InfluxEndpoint, database: string): Promise<Record<string, number>> {
  const auth = `Basic ${Buffer.from(`${ep.credentials.username}:${ep.credentials.password}`).toString('base64')}`;
  const query = async (q: string) => {
    const res = await fetch(`${ep.url}/query?db=${encodeURIComponent(database)}`, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ q }),
    });
    if (!res.ok) throw new Error(`InfluxDB ${res.status}: ${await res.text()}`);
    return ((await res.json()) as { results: { series?: { name: string; columns: string[]; values: unknown[][] }[]; error?: string }[] })
      .results[0];
  };
  const rps = (await query(`SHOW RETENTION POLICIES ON "${database}"`))?.series?.[0]?.values.map((v) => String(v[0])) ?? [];
  const out: Record<string, number> = {};
  for (const rp of rps) {
    const result = await query(`SELECT count(*) FROM "${database}"."${rp}"./.*/`);
    for (const s of result?.series ?? []) {
      const counts = (s.values[0] ?? []).slice(1).map((v) => Number(v ?? 0));
      out[`${rp}.${s.name}`] = Math.max(0, ...counts);
    }
  }
  return out;
}

/** The managed influxd's directory in a data dir (as the station lays it out). */
export const managedInfluxDir = (dataDir: string): string => join(dataDir, 'influxdb');
export const hasManagedInfluxData = (dataDir: string): boolean => existsSync(join(managedInfluxDir(dataDir), 'meta'));
