import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';

/**
 * Start and stop the real services the tests use: influxd 1.x, mosquitto and socat pty pairs.
 * Every process is started here and stopped by its own PID (never by name), so several test
 * runs and private outage-test instances coexist on one machine. See docs/runtime-facts.md §1.
 */

/** A process this module started; `stop()` is idempotent and resolves once it has exited. */
export interface RunningProcess {
  pid: number;
  /** SIGTERM, then SIGKILL after `graceMs` (default 5 s); resolves when the process has exited. */
  stop(graceMs?: number): Promise<void>;
}

/** A private influxd; `restart()` keeps its ports and data dir, so points written before survive. */
export interface InfluxdHandle extends RunningProcess {
  /** http://127.0.0.1:<port>, no trailing slash. */
  url: string;
  dir: string;
  restart(): Promise<void>;
}

/** A private mosquitto; anonymous access on a loopback listener, persistence on. */
export interface MosquittoHandle extends RunningProcess {
  /** mqtt://127.0.0.1:<port> */
  url: string;
  dir: string;
  restart(): Promise<void>;
}

/** A mosquitto that refuses anonymous clients; `lines` go into its config (password_file, acl_file…). */
export interface MosquittoSecurity {
  lines: string;
}

/** The Debian packages the tests need, and the binary that proves each is installed. */
export const REQUIRED_PACKAGES: ReadonlyArray<{ pkg: string; bin: string }> = [
  { pkg: 'influxdb', bin: 'influxd' },
  { pkg: 'influxdb-client', bin: 'influx' },
  { pkg: 'mosquitto', bin: 'mosquitto' },
  { pkg: 'mosquitto-clients', bin: 'mosquitto_pub' },
  { pkg: 'socat', bin: 'socat' },
  { pkg: 'chromium', bin: '/usr/bin/chromium' },
  // systemd-analyze verifies the units `radscreen install` writes (test/component/install.test.ts).
  { pkg: 'systemd', bin: 'systemd-analyze' },
];
const APT_PACKAGES = 'influxdb influxdb-client mosquitto mosquitto-clients socat chromium systemd';
export const APT_COMMAND = `apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${APT_PACKAGES}`;
/** Debian puts mosquitto in /usr/sbin, which is not on every PATH. */
const SEARCH_PATH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/** Absolute path of a binary, or undefined when it is not installed. */
export function findBinary(bin: string): string | undefined {
  if (bin.startsWith('/')) return existsSync(bin) ? bin : undefined;
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), ...SEARCH_PATH];
  return dirs.map((d) => join(d, bin)).find((p) => existsSync(p));
}

/**
 * Installs missing packages with apt when running as root; otherwise throws naming them.
 * Cheap when everything is present (a few stat calls).
 */
export function ensurePackages(): void {
  const missing = REQUIRED_PACKAGES.filter((p) => findBinary(p.bin) === undefined).map((p) => p.pkg);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new Error(`missing Debian packages: ${missing.join(', ')}. Install them as root with:\n  ${APT_COMMAND}`);
  }
  execFileSync('apt-get', ['update'], { stdio: 'inherit' });
  execFileSync('apt-get', ['install', '-y', '--no-install-recommends', ...APT_PACKAGES.split(' ')], {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  const still = REQUIRED_PACKAGES.filter((p) => findBinary(p.bin) === undefined).map((p) => p.pkg);
  if (still.length > 0) throw new Error(`apt-get did not provide: ${still.join(', ')}`);
}

/** A TCP port that was free a moment ago on 127.0.0.1 (the OS picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` every 10 ms until it is true; throws with `what` and the log path after `timeoutMs`. */
async function waitUntil(what: string, probe: () => Promise<boolean> | boolean, child: ChildProcess, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`${what}: process exited (${child.exitCode ?? child.signalCode})`);
    if (await probe()) return;
    await sleep(10);
  }
  throw new Error(`${what}: not ready after ${timeoutMs} ms`);
}

/** Resolves true when something accepts TCP connections on host:port. */
export function canConnect(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

/**
 * Children still running. If vitest exits without running teardown (Ctrl-C, a `timeout`),
 * they are killed on the way out rather than left listening; by PID, each one ours.
 */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** Spawns `cmd` with stdout and stderr appended to `logFile` (a pipe nobody reads would block it). */
function spawnLogged(cmd: string, args: string[], logFile: string, env?: NodeJS.ProcessEnv): ChildProcess {
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn(cmd, args, { stdio: ['ignore', fd, fd], env: env ?? process.env });
    // Report spawn failures (ENOENT) through exitCode checks rather than as an unhandled 'error'.
    child.on('error', () => {});
    live.add(child);
    child.once('exit', () => live.delete(child));
    return child;
  } finally {
    closeSync(fd);
  }
}

/** SIGTERM by PID, SIGKILL after graceMs; resolves once the child has exited. Idempotent. */
export async function stopChild(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(killer);
}

function influxdConfig(dir: string, httpPort: number, rpcPort: number): string {
  return `reporting-enabled = false
bind-address = "127.0.0.1:${rpcPort}"
[meta]
  dir = "${dir}/meta"
  logging-enabled = false
[data]
  dir = "${dir}/data"
  wal-dir = "${dir}/wal"
  query-log-enabled = false
  index-version = "inmem"
[monitor]
  store-enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:${httpPort}"
  auth-enabled = false
  log-enabled = false
  pprof-enabled = false
[continuous_queries]
  enabled = true
  log-enabled = true
  run-interval = "1s"
`;
}

async function pingInflux(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1000) });
    return res.status === 204;
  } catch {
    return false;
  }
}

/**
 * Starts influxd 1.x with meta/data/wal under `dir` on two free loopback ports (HTTP and RPC,
 * since the default RPC port 8088 would clash with a second instance). Resolves at /ping 204.
 */
export async function startInfluxd(dir: string): Promise<InfluxdHandle> {
  mkdirSync(dir, { recursive: true });
  const [httpPort, rpcPort] = [await freePort(), await freePort()];
  const conf = join(dir, 'influxdb.conf');
  writeFileSync(conf, influxdConfig(dir, httpPort, rpcPort));
  const url = `http://127.0.0.1:${httpPort}`;
  const bin = findBinary('influxd') ?? 'influxd';
  let child: ChildProcess;
  const launch = async () => {
    child = spawnLogged(bin, ['-config', conf], join(dir, 'influxd.log'));
    await waitUntil(`influxd on ${url} (log ${dir}/influxd.log)`, () => pingInflux(url), child);
  };
  await launch();
  const handle: InfluxdHandle = {
    url,
    dir,
    get pid() {
      return child.pid ?? -1;
    },
    stop: (graceMs) => stopChild(child, graceMs),
    restart: async () => {
      await stopChild(child);
      await launch();
    },
  };
  return handle;
}

function mosquittoConfig(dir: string, port: number, secure?: MosquittoSecurity): string {
  // No inline comments: mosquitto reads `user root # x` as a user named "root # x" (§1b).
  return `per_listener_settings false
user root
pid_file ${dir}/mosquitto.pid
persistence true
persistence_location ${dir}/data/
autosave_interval 30
log_dest file ${dir}/mosquitto.log
log_type error
log_type warning
log_type notice
listener ${port} 127.0.0.1
protocol mqtt
allow_anonymous ${secure ? 'false' : 'true'}
max_queued_messages 1000000
max_inflight_messages 0
${secure?.lines ?? ''}
`;
}

/**
 * Starts mosquitto (`user root` so it can write its persistence files under a root-owned
 * temp dir) on a free loopback port. Resolves when the port accepts connections.
 */
export async function startMosquitto(dir: string, secure?: MosquittoSecurity): Promise<MosquittoHandle> {
  mkdirSync(join(dir, 'data'), { recursive: true });
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, mosquittoConfig(dir, port, secure));
  const bin = findBinary('mosquitto') ?? 'mosquitto';
  let child: ChildProcess;
  const launch = async () => {
    child = spawnLogged(bin, ['-c', conf], join(dir, 'mosquitto.stdout.log'));
    await waitUntil(`mosquitto on port ${port} (log ${dir}/mosquitto.log)`, () => canConnect(port), child);
  };
  await launch();
  return {
    url: `mqtt://127.0.0.1:${port}`,
    dir,
    get pid() {
      return child.pid ?? -1;
    },
    stop: (graceMs) => stopChild(child, graceMs),
    restart: async () => {
      await stopChild(child);
      await launch();
    },
  };
}
