import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, openSync, writeFileSync } from 'node:fs';
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

export interface ManagedInfluxd {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * Starts a private influxd for the demo station, data under `dir`, HTTP and RPC ports on
 * loopback. The RPC port is set too: left at its default 8088 a second instance dies
 * (RUNTIME-NOTES §1a). Reporting to InfluxData is off.
 */
export async function startManagedInfluxd(dir: string, preferredPort = 8086): Promise<ManagedInfluxd> {
  mkdirSync(dir, { recursive: true });
  const httpPort = await freePort(preferredPort);
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
  return {
    url,
    pid: child.pid as number,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
