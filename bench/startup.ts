/**
 * `npm run bench:startup` (`-- --json`; `-- --runs 1` for a quick look): how long `radscreen
 * station` takes from spawn to ready, i.e. the console answering `/healthz` with 200 (readings
 * being stored) and every configured device online, run from the TypeScript sources through tsx
 * and from the plain JavaScript of `npm run build` (built here into a temp dir). Four simulated
 * Geiger counters on socat ptys, the embedded broker, a private influxd. Alternating runs, median
 * reported. Not a test: figures only.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { freePort, startInfluxd, stopChild } from '../test/support/services.ts';
import { buildDist } from './build-dist.ts';

const { values: a } = parseArgs({ options: { json: { type: 'boolean', default: false }, runs: { type: 'string', default: '3' } } });
const DEVICES = 4;
const root = join(import.meta.dirname, '..');
const say = (s: string) => !a.json && process.stderr.write(`${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const dir = mkdtempSync(join(os.tmpdir(), 'radscreen-bench-startup-'));
const influx = await startInfluxd(join(dir, 'influx'));
const started: ChildProcess[] = [];

async function startOnce(kind: 'tsx' | 'built', main: string, run: number): Promise<number> {
  const runDir = join(dir, `${kind}-${run}`);
  const port = await freePort();
  const config = {
    station: { id: 'bench' },
    data_dir: join(runDir, 'data'),
    mqtt: { embedded: { port: await freePort() } },
    influx: { url: influx.url, database: `startup_${kind}_${run}` },
    server: { port },
    devices: Array.from({ length: DEVICES }, (_, i) => ({
      id: `gm-${i}`,
      profile: 'mightyohm-geiger',
      simulate: { background_usvh: 0.1, seed: i + 1 },
    })),
  };
  mkdirSync(runDir, { recursive: true });
  const configPath = join(runDir, 'station.yaml');
  writeFileSync(configPath, stringify(config));
  const args = kind === 'tsx' ? ['--import', 'tsx', main] : [main];
  const t0 = performance.now();
  const proc = spawn(process.execPath, [...args, 'station', '--config', configPath], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, RADSCREEN_LOG_LEVEL: 'warn' },
  });
  started.push(proc);
  let stderr = '';
  proc.stderr?.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  for (;;) {
    if (proc.exitCode !== null || performance.now() - t0 > 120_000) throw new Error(`bench: station (${kind}) not ready: ${stderr}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      const body = (await res.json()) as { devices?: { online?: number } };
      if (res.status === 200 && (body.devices?.online ?? 0) >= DEVICES) break;
    } catch {
      // not listening yet
    }
    await sleep(20);
  }
  const seconds = (performance.now() - t0) / 1000;
  await stopChild(proc);
  return seconds;
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] as number;
try {
  say('npm run build…');
  const built = buildDist(join(dir, 'built'));
  const source = join(root, 'src', 'cli', 'main.ts');
  const times: Record<'tsx' | 'built', number[]> = { tsx: [], built: [] };
  for (let i = 0; i < Number(a.runs); i++) {
    for (const kind of ['tsx', 'built'] as const) {
      const s = await startOnce(kind, kind === 'tsx' ? source : built, i);
      say(`  ${kind}: ${s.toFixed(2)} s`);
      times[kind].push(s);
    }
  }
  const result = {
    devices: DEVICES,
    tsx_ready_s: Number(median(times.tsx).toFixed(2)),
    built_ready_s: Number(median(times.built).toFixed(2)),
    runs: times,
    loadavg: os.loadavg().map((l) => Number(l.toFixed(2))),
  };
  process.stdout.write(a.json ? `${JSON.stringify(result)}\n` : `${JSON.stringify(result, null, 2)}\n`);
} finally {
  await Promise.all(started.map((p) => stopChild(p, 2000)));
  await influx.stop();
  rmSync(dir, { recursive: true, force: true });
}
