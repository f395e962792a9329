import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** True when Debian's `influxd` (InfluxDB 1.x) is on the PATH. */
export function hasInfluxd(): boolean {
  return spawnSync('influxd', ['version'], { stdio: 'ignore' }).status === 0;
}

/** A free loopback port, or `preferred` when it is free. */
export async function freePort(preferred = 0): Promise<number> {
  const tryPort = (port: number) =>
    new Promise<number | undefined>((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(undefined));
      s.listen(port, '127.0.0.1', () => {
        const a = s.address();
        s.close(() => resolve(typeof a === 'object' && a ? a.port : undefined));
      });
    });
  return (preferred ? await tryPort(preferred) : undefined) ?? ((await tryPort(0)) as number);
}

/** The managed influxd's admin account: ingest and import write with it, nothing may write without it. */
export interface InfluxCredentials {
  username: string;
  password: string;
}

export interface ManagedInfluxd {
  url: string;
  /** host:port of the RPC service `influxd backup` and `influxd restore` talk to (loopback). */
  rpcAddress: string;
  pid: number;
  /** The admin user created at first start (auth is on: anonymous queries and writes get 401). */
  credentials: InfluxCredentials;
  stop(): Promise<void>;
}

/** `<dir>/admin-credentials.json`, mode 0600: `{ username, password, url, rpc }` (url, rpc: where it listened last). */
export function managedInfluxCredentialsPath(dir: string): string {
  return join(dir, 'admin-credentials.json');
}

/** The managed influxd's credentials and last URL, when a station has created them in `dir`. */
export function readManagedInfluxCredentials(dir: string): (InfluxCredentials & { url?: string; rpc?: string }) | undefined {
  const path = managedInfluxCredentialsPath(dir);
  if (!existsSync(path)) return undefined;
  const doc = JSON.parse(readFileSync(path, 'utf8')) as Partial<InfluxCredentials & { url: string; rpc: string }>;
  if (typeof doc.username !== 'string' || typeof doc.password !== 'string') throw new Error(`${path}: no username and password`);
  return {
    username: doc.username,
    password: doc.password,
    ...(typeof doc.url === 'string' ? { url: doc.url } : {}),
    ...(typeof doc.rpc === 'string' ? { rpc: doc.rpc } : {}),
  };
}

function writeCredentials(dir: string, doc: InfluxCredentials & { url: string; rpc: string }): void {
  const path = managedInfluxCredentialsPath(dir);
  writeFileSync(`${path}.tmp`, `${JSON.stringify(doc, null, 2)}\n`, { mode: 0o600 });
  chmodSync(`${path}.tmp`, 0o600);
  renameSync(`${path}.tmp`, path);
}

async function influxQuery(url: string, q: string, auth?: InfluxCredentials): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  if (auth) headers.authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
  return fetch(`${url}/query`, { method: 'POST', headers, body: new URLSearchParams({ q }) });
}

/**
 * Makes sure the admin user exists. With auth on and no user yet, influxd accepts exactly one
 * unauthenticated statement, creating an admin (InfluxDB 1.x docs, "Authentication and
 * authorization"); once one exists, that door is closed. So: try the stored credentials; on 401
 * create the user; a second 401 means an admin with another password exists (credentials file
 * lost): say so rather than start without storage.
 */
async function ensureAdmin(url: string, credentials: InfluxCredentials, dir: string): Promise<void> {
  if ((await influxQuery(url, 'SHOW USERS', credentials)).ok) return;
  const create = await influxQuery(
    url,
    `CREATE USER "${credentials.username}" WITH PASSWORD '${credentials.password}' WITH ALL PRIVILEGES`,
  );
  if (create.ok && (await influxQuery(url, 'SHOW USERS', credentials)).ok) return;
  throw new Error(
    `the private influxd in ${dir} has an admin user whose password is not in ${managedInfluxCredentialsPath(dir)} (${create.status} ${await create.text()}); restore that file or remove ${join(dir, 'meta')}`,
  );
}

/**
 * Starts a private influxd for the demo station, data under `dir`, HTTP and RPC ports on
 * loopback. The RPC port is set too: left at its default 8088 a second instance dies
 * (docs/install.md "Storage endpoint"). Reporting to InfluxData is off. HTTP auth is on: an admin user with a
 * random password is created at first start and kept in `admin-credentials.json` (0600) in
 * `dir`, so another local user (or a process on the loopback) can neither read nor rewrite the
 * dose history (docs/calibration-trust.md, "InfluxDB auth").
 */
export async function startManagedInfluxd(
  dir: string,
  preferredPort = 8086,
  opts: { /** The port was configured (influx.managed_port): take it or fail, never another. */ strictPort?: boolean } = {},
): Promise<ManagedInfluxd> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stored = readManagedInfluxCredentials(dir);
  // 24 random bytes, base64url: no quote or backslash to escape in the CREATE USER statement.
  const credentials: InfluxCredentials = {
    username: stored?.username ?? 'radscreen',
    password: stored?.password ?? randomBytes(24).toString('base64url'),
  };
  const httpPort = await freePort(preferredPort);
  if (opts.strictPort && httpPort !== preferredPort)
    throw new Error(`influx.managed_port ${preferredPort} is in use: stop what holds it or configure another port for the private influxd`);
  const rpcPort = await freePort(0);
  const conf = join(dir, 'influxdb.conf');
  writeFileSync(
    conf,
    [
      'reporting-enabled = false',
      `bind-address = "127.0.0.1:${rpcPort}"`,
      '[meta]',
      `  dir = "${join(dir, 'meta')}"`,
      '  logging-enabled = false',
      '[data]',
      `  dir = "${join(dir, 'data')}"`,
      `  wal-dir = "${join(dir, 'wal')}"`,
      '  query-log-enabled = false',
      '  index-version = "inmem"',
      '[monitor]',
      '  store-enabled = false',
      '[http]',
      `  bind-address = "127.0.0.1:${httpPort}"`,
      '  log-enabled = false',
      '  auth-enabled = true',
      '[continuous_queries]',
      '  run-interval = "1s"',
      '',
    ].join('\n'),
  );
  const logFd = openSync(join(dir, 'influxd.log'), 'a');
  const child: ChildProcess = spawn('influxd', ['-config', conf], { stdio: ['ignore', logFd, logFd] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${httpPort}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`influxd exited with ${child.exitCode}; see ${join(dir, 'influxd.log')}`);
    const ok = await fetch(`${url}/ping`).then(
      (r) => r.status === 204,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`influxd did not answer on ${url} within 15 s; see ${join(dir, 'influxd.log')}`);
    }
    await sleep(50);
  }
  try {
    // Written before the user is created, so a crash in between leaves the password that will be used.
    writeCredentials(dir, { ...credentials, url, rpc: `127.0.0.1:${rpcPort}` });
    await ensureAdmin(url, credentials, dir);
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  return {
    url,
    rpcAddress: `127.0.0.1:${rpcPort}`,
    pid: child.pid as number,
    credentials,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
