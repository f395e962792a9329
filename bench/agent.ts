/**
 * `npm run bench:agent` (`-- --json`; `-- --duration 10` for a short development run): the edge
 * footprint of one `radscreen agent` process. N MightyOhm-style Geiger counters are simulated on
 * socat pty pairs by THIS process (so the simulators' cost is not the agent's), each sending one
 * line a second; the agent reads them over the real serialport and publishes to a private
 * mosquitto, where a subscriber counts readings. The agent is what stations run: the plain
 * JavaScript of `npm run build` (built here into a temp dir, bench/build-dist.ts). One more run
 * at --tsx-devices (default 64; 0 skips it) runs the sources through tsx, for comparison: tsx
 * loads its ESM hooks in a second thread, which costs RSS and CPU.
 *
 * Per run: CPU % of one core used by the agent process (utime + stime from /proc, all threads)
 * over two windows of the same length back to back, both starting once every device's readings
 * arrive (start-up excluded): the first includes V8 compiling the hot path as it warms up, the
 * second is what the agent costs running on (a station's agent runs for weeks). Peak RSS is VmHWM
 * (start-up included). First 64 devices for --duration seconds a window (default 60), then 8, 16
 * and 32 for --growth-duration (default 30) to show how cost grows. Not a test.
 * Both run with the V8 flags the installed agent unit uses (src/cli/install-files.ts NODE_FLAGS);
 * `--node-flags='…'` replaces them, `--node-flags=none` runs V8's defaults.
 * `BENCH_CPU_PROF=<dir>` runs the agent under `node --cpu-prof` (summarise with a profile viewer).
 * `--read-interval-ms N` sets `agent.serial_read_interval_ms` (default: the config's, 250).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import { SerialPort } from 'serialport';
import { stringify } from 'yaml';
import { NODE_FLAGS } from '../src/cli/install-files.ts';
import { topics } from '../src/core/contract.ts';
import { type PtyPair, startPtyPair } from '../src/transports/socat.ts';
import { freePort, startMosquitto, stopChild } from '../test/support/services.ts';
import { buildDist } from './build-dist.ts';
import { cpuSeconds, rssMib } from './proc-stats.ts';

const { values: a } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    duration: { type: 'string', default: '60' },
    'growth-duration': { type: 'string', default: '30' },
    devices: { type: 'string', default: '64,8,16,32' },
    'tsx-devices': { type: 'string', default: '64' },
    'node-flags': { type: 'string' },
    built: { type: 'string' },
    'read-interval-ms': { type: 'string' },
  },
});
const say = (s: string) => !a.json && process.stderr.write(`${s}\n`);
const dir = mkdtempSync(join(os.tmpdir(), 'radscreen-bench-agent-'));
const broker = await startMosquitto(join(dir, 'mosquitto'));
const started: ChildProcess[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Runner = 'built' | 'tsx';
const source = join(import.meta.dirname, '..', 'src', 'cli', 'main.ts');
const cpuProfDir = process.env.BENCH_CPU_PROF;
// The V8 flags the installed agent unit runs with, unless `--node-flags='…'` (`none`: V8's defaults).
const nodeFlags =
  a['node-flags'] === undefined ? [...(NODE_FLAGS.agent ?? [])] : a['node-flags'] === 'none' ? [] : a['node-flags'].split(' ');

interface RunResult {
  runner: Runner;
  devices: number;
  seconds: number;
  /** Over the first window after every device is online (includes V8 warming up). */
  cpu_pct_of_one_core: number;
  /** Over the next window of the same length: the running cost. */
  steady_cpu_pct_of_one_core: number;
  peak_rss_mib: number;
  /** RSS at the end of the measured window: what the agent holds running, without start-up's peak. */
  end_rss_mib: number;
  readings_per_s: number;
}

async function run(runner: Runner, main: string, devices: number, seconds: number): Promise<RunResult> {
  const runDir = join(dir, `run-${runner}-${devices}-${Date.now()}`);
  mkdirSync(runDir, { recursive: true });
  const pairs: PtyPair[] = [];
  const ports: SerialPort[] = [];
  for (let i = 0; i < devices; i++) {
    const pair = await startPtyPair(join(runDir, `agent-${i}`), join(runDir, `device-${i}`));
    pairs.push(pair);
    ports.push(
      await new Promise<SerialPort>((ok, fail) => {
        const p = new SerialPort({ path: join(runDir, `device-${i}`), baudRate: 9600 }, (err) => (err ? fail(err) : ok(p)));
      }),
    );
  }
  // Every device sends one line a second, spread over the second like independent instruments.
  let tick = 0;
  const sender = setInterval(() => {
    const i = tick++ % devices;
    const cpm = 18 + (tick % 7);
    ports[i]?.write(`CPS, 0, CPM, ${cpm}, uSv/hr, 0.${String(cpm).padStart(2, '0')}, SLOW\n`);
  }, 1000 / devices);
  const config = {
    station: { id: 'bench' },
    data_dir: join(runDir, 'data'),
    mqtt: { url: broker.url },
    ...(a['read-interval-ms'] !== undefined ? { agent: { serial_read_interval_ms: Number(a['read-interval-ms']) } } : {}),
    devices: Array.from({ length: devices }, (_, i) => ({
      id: `gm-${i}`,
      profile: 'mightyohm-geiger',
      serial: { path: join(runDir, `agent-${i}`) },
    })),
  };
  const configPath = join(runDir, 'agent.yaml');
  writeFileSync(configPath, stringify(config));
  const sub = await mqtt.connectAsync(broker.url, { protocolVersion: 4, clientId: `bench-agent-sub-${devices}` });
  const seen = new Set<string>();
  let readings = 0;
  sub.on('message', (_t, payload) => {
    const m = JSON.parse(payload.toString()) as { readings?: Array<{ device: string }> };
    for (const r of m.readings ?? []) {
      seen.add(r.device);
      readings++;
    }
  });
  await sub.subscribeAsync(topics.allReadings('bench'), { qos: 1 });
  const agent = spawn(
    process.execPath,
    [
      ...(cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', cpuProfDir, '--cpu-prof-name', `agent-${runner}-${devices}.cpuprofile`] : []),
      ...nodeFlags,
      ...(runner === 'tsx' ? ['--import', 'tsx'] : []),
      main,
      'agent',
      '--config',
      configPath,
      '--metrics-port',
      String(await freePort()),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, RADSCREEN_LOG_LEVEL: 'warn' } },
  );
  started.push(agent);
  let stderr = '';
  agent.stderr?.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  const pid = agent.pid as number;
  const deadline = Date.now() + 60_000;
  while (seen.size < devices) {
    if (Date.now() > deadline || agent.exitCode !== null)
      throw new Error(`bench: ${seen.size} of ${devices} devices online within 60 s; agent stderr: ${stderr}`);
    await sleep(200);
  }
  const window = async () => {
    const cpu0 = cpuSeconds(pid);
    const n0 = readings;
    const t0 = performance.now();
    await sleep(seconds * 1000);
    const wall = (performance.now() - t0) / 1000;
    return { wall, cpuPct: Number(((100 * (cpuSeconds(pid) - cpu0)) / wall).toFixed(2)), perSec: (readings - n0) / wall };
  };
  const first = await window();
  const steady = await window();
  const result: RunResult = {
    runner,
    devices,
    seconds: Math.round(first.wall),
    cpu_pct_of_one_core: first.cpuPct,
    steady_cpu_pct_of_one_core: steady.cpuPct,
    peak_rss_mib: rssMib(pid, 'VmHWM'),
    end_rss_mib: rssMib(pid, 'VmRSS'),
    readings_per_s: Number(((first.perSec + steady.perSec) / 2).toFixed(1)),
  };
  clearInterval(sender);
  await stopChild(agent);
  await sub.endAsync();
  await Promise.all(ports.map((p) => new Promise((r) => (p.isOpen ? p.close(() => r(undefined)) : r(undefined)))));
  await Promise.all(pairs.map((p) => p.stop()));
  return result;
}

try {
  // `--built <dist/src/cli/main.js>` measures an existing build instead (another commit, for A/B runs).
  if (!a.built) say('npm run build…');
  const built = a.built ?? buildDist(join(dir, 'built'));
  const plan: Array<{ runner: Runner; devices: number; seconds: number }> = (a.devices ?? '')
    .split(',')
    .map((n, i) => ({ runner: 'built', devices: Number(n), seconds: Number(i === 0 ? a.duration : a['growth-duration']) }));
  const tsxDevices = Number(a['tsx-devices']);
  if (tsxDevices > 0) plan.push({ runner: 'tsx', devices: tsxDevices, seconds: Number(a['growth-duration']) });
  const runs: RunResult[] = [];
  for (const { runner, devices: n, seconds } of plan) {
    say(`agent (${runner}) with ${n} devices for ${seconds} s…`);
    const r = await run(runner, runner === 'built' ? built : source, n, seconds);
    say(
      `  ${JSON.stringify(r)} load ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    );
    runs.push(r);
  }
  runs.sort((x, y) => x.runner.localeCompare(y.runner) || x.devices - y.devices);
  const cpus = os.cpus();
  const machine = {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    node: process.version,
    agent_node_flags: nodeFlags.join(' '),
    loadavg: os.loadavg().map((l) => Number(l.toFixed(2))),
  };
  if (a.json) process.stdout.write(`${JSON.stringify({ runs, machine })}\n`);
  else {
    process.stdout.write(
      `machine: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}; agent node flags: ${machine.agent_node_flags || 'none'}; load average at the end ${machine.loadavg.join(', ')}\n`,
    );
    process.stdout.write(
      '| agent | devices at 1 Hz | s a window | agent CPU, first window (% of one core) | agent CPU, next window | agent peak RSS | RSS at the end | readings/s |\n|---|---|---|---|---|---|---|---|\n',
    );
    for (const r of runs)
      process.stdout.write(
        `| ${r.runner} | ${r.devices} | ${r.seconds} | ${r.cpu_pct_of_one_core} % | ${r.steady_cpu_pct_of_one_core} % | ${r.peak_rss_mib} MiB | ${r.end_rss_mib} MiB | ${r.readings_per_s} |\n`,
      );
  }
} finally {
  await Promise.all(started.map((p) => stopChild(p, 2000)));
  await broker.stop();
  rmSync(dir, { recursive: true, force: true });
}
