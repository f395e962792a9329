/**
 * `npm run bench:ingest` (`-- --json` for one JSON object): one run, on one private influxd and
 * one private mosquitto started here (test/support/services.ts), of
 *   1. the raw line-protocol ceiling: pre-built batches of 5,000 POSTed straight to /write with
 *      1, 2 and 4 POSTs in flight (each reported; the best is the ceiling);
 *   2. end to end through radscreen with agent-coalesced messages (load-agent → mosquitto →
 *      ingest-worker → spool → InfluxDB), each a separate process;
 *   3. the same with one reading per message at QoS 1;
 *   4. mosquitto's own QoS 1 publish→receive ceiling for that same one-reading message stream;
 * with the ratios, the peak RSS of each process and the machine. Not a test: figures only.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { topics } from '../src/core/contract.ts';
import { createLinePoster } from '../src/ingest/influx-http.ts';
import { ensureSchema } from '../src/ingest/schema.ts';
import { countPoints } from '../test/support/influx-query.ts';
import { startInfluxd, startMosquitto, stopChild } from '../test/support/services.ts';
import { prepareChildren } from './children.ts';
import { measureBrokerCeiling, until } from './mqtt-drive.ts';
import { type CpuShare, cpuMeter, cpuSeconds } from './proc-stats.ts';

const json = process.argv.includes('--json');
// The agent and ingest children run compiled, as a station does (bench/children.ts); --tsx runs them through tsx.
const children = prepareChildren(['ingest-worker.ts', 'load-agent.ts'], { tsx: process.argv.includes('--tsx') });
// --quick: a tenth of every count, to debug the bench itself (figures from it are not quoted).
const scale = process.argv.includes('--quick') ? 0.1 : 1;
// --connections N: MQTT connections of the ingest (a shared subscription; src/ingest/connections.ts).
const connArg = process.argv.indexOf('--connections');
const CONNECTIONS = connArg > 0 ? Number(process.argv[connArg + 1]) : 8;
const RAW_POINTS = 500_000 * scale;
const COALESCED = 300_000 * scale;
const SINGLE = 60_000 * scale;
const say = (s: string) => !json && process.stderr.write(`${s}\n`);

const dir = mkdtempSync(join(os.tmpdir(), 'radscreen-bench-'));
const [influx, broker] = await Promise.all([startInfluxd(join(dir, 'influx')), startMosquitto(join(dir, 'mosquitto'))]);
const peakRss: Record<string, number> = { bench: 0 };
/** Each child's memory breakdown (MiB) in the report line of its peak RSS: where the memory goes. */
const atPeak: Record<string, Record<string, number>> = {};
const mib = (b: unknown) => Math.round(Number(b ?? 0) / 2 ** 20);
const sampleSelf = setInterval(() => (peakRss.bench = Math.max(peakRss.bench ?? 0, process.memoryUsage.rss())), 100);
const started: ChildProcess[] = [];

/** Spawns a bench/ process and tracks the peak RSS it reports under `name`. */
function startNode(name: string, script: string, args: string[]) {
  // BENCH_CPU_PROF=<dir> profiles each child (node --cpu-prof), to find the hot spots.
  const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF] : [];
  const proc = spawn(process.execPath, [...prof, ...children.argv(script, script.startsWith('load-agent') ? 'agent' : 'ingest'), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  started.push(proc);
  let last: Record<string, number | boolean> = {};
  let buf = '';
  proc.stdout?.on('data', (c: Buffer) => {
    const lines = (buf + c.toString()).split('\n');
    buf = lines.pop() ?? '';
    for (const l of lines) {
      if (!l.trim()) continue;
      last = JSON.parse(l) as typeof last;
      if (Number(last.rss ?? 0) > (peakRss[name] ?? 0)) {
        peakRss[name] = Number(last.rss);
        atPeak[name] = { rss: mib(last.rss), heapUsed: mib(last.heapUsed), heapTotal: mib(last.heapTotal), external: mib(last.external) };
        if (last.buffered !== undefined) atPeak[name].spooled = Number(last.buffered);
        if (last.queued !== undefined) atPeak[name].queued = Number(last.queued);
      }
    }
  });
  return { proc, last: () => last };
}

/**
 * The raw ceiling: the same 500,000 pre-built points POSTed in batches of 5,000 with 1, 2 and 4
 * POSTs in flight, each into a fresh database. influxd uses more than one core when it gets more
 * than one request at a time, so one-at-a-time understates its limit (issue 14 measured 1.47×
 * with 2 in flight); the best of the three is the ceiling the ratios use.
 */
async function measureRaw(): Promise<{ byInflight: Record<number, number>; best: number }> {
  const t0 = Date.now() - 3_600_000;
  const batches: string[] = [];
  for (let b = 0; b < RAW_POINTS / 5000; b++) {
    const lines: string[] = [];
    for (let i = 0; i < 5000; i++) {
      const n = b * 5000 + i;
      lines.push(
        `radiation,device=gen-${n % 100},profile=mightyohm-geiger,source=simulated,station=bench cpm=${n % 1000},dose_rate=${(n % 1000) / 175},quality="good",seq=${n},ts_source="agent" ${(t0 + n) * 1000}`,
      );
    }
    batches.push(lines.join('\n'));
  }
  const byInflight: Record<number, number> = {};
  for (const inflight of [1, 2, 4]) {
    const database = `bench_raw_${inflight}`;
    await ensureSchema({ url: influx.url, database, retention: '30d' });
    const poster = createLinePoster({ url: influx.url, database, maxSockets: inflight });
    let next = 0;
    const lane = async () => {
      while (next < batches.length) {
        const body = batches[next++] as string;
        const outcome = await poster.post(body);
        if (outcome.kind !== 'ok') throw new Error(`raw write failed: ${JSON.stringify(outcome)}`);
      }
    };
    const start = performance.now();
    const cpu0 = cpuSeconds(influx.pid);
    await Promise.all(Array.from({ length: inflight }, lane));
    const seconds = (performance.now() - start) / 1000;
    rawInfluxdCpuUs[inflight] = Number((((cpuSeconds(influx.pid) - cpu0) * 1e6) / RAW_POINTS).toFixed(1));
    poster.destroy();
    const stored = await countPoints(influx.url, database, 'radiation');
    if (stored !== RAW_POINTS) throw new Error(`raw (${inflight} in flight): stored ${stored} of ${RAW_POINTS}`);
    byInflight[inflight] = RAW_POINTS / seconds;
  }
  return { byInflight, best: Math.max(...Object.values(byInflight)) };
}

/** influxd's CPU µs per point in the raw runs, by POSTs in flight. */
const rawInfluxdCpuUs: Record<number, number> = {};
/** CPU µs per reading of each process in an end-to-end run, by run name: where the 2 cores go. */
const cpuPerReading: Record<string, CpuShare> = {};

/** End to end: readings/s from the first reading generated to the last one written by ingest. */
async function measureEndToEnd(name: string, count: number, perMessage: number, coalesceMs: number, connections: number): Promise<number> {
  const db = `bench_${name}`;
  const worker = startNode(`ingest (${name})`, 'ingest-worker.ts', [
    ...['--mqtt', broker.url, '--influx', influx.url, '--db', db, '--spool', join(dir, `${name}-spool.sqlite`)],
    ...['--client-id', `bench-${name}`, '--batch-size', '5000', '--flush-ms', '50', '--expect', String(count)],
    ...['--connections', String(connections)],
  ]);
  await until(() => worker.last().ready === true || worker.last().messages !== undefined, 20_000, 'ingest ready');
  const agent = startNode(`agent (${name})`, 'load-agent.ts', [
    ...['--mqtt', broker.url, '--outbox', join(dir, `${name}-outbox.sqlite`), '--rate', '0', '--count', String(count)],
    ...[
      '--max-per-message',
      String(perMessage),
      '--coalesce-ms',
      String(coalesceMs),
      // The generator stays at most 20,000 readings ahead of the broker's PUBACKs (20 messages
      // of 1,000): a device hands the agent readings at its own pace, never a run's worth at
      // once, so what the agent holds is its outbox and in-flight window, not a generator's hoard.
      '--window',
      '20000',
    ],
  ]);
  await until(() => agent.last().startedAt !== undefined, 30_000, `${name}: agent started`);
  const pids = { influxd: influx.pid, mosquitto: broker.pid, agent: agent.proc.pid ?? -1, ingest: worker.proc.pid ?? -1 };
  const meter = cpuMeter(pids);
  await until(() => worker.last().writtenAllAt !== undefined, 600_000, `${name}: ${count} written`);
  cpuPerReading[name] = meter(count);
  // From the agent's first generated reading to the ingest's last write (same machine clock),
  // so neither process's start-up is counted.
  const seconds = (Number(worker.last().writtenAllAt) - Number(agent.last().startedAt)) / 1000;
  const stored = await countPoints(influx.url, db, 'radiation');
  if (stored !== count) throw new Error(`${name}: stored ${stored} of ${count}`);
  await Promise.all([stopChild(agent.proc), stopChild(worker.proc)]);
  return count / seconds;
}

/** mosquitto alone: the same one-reading messages (mqtt-drive.ts), pre-built, 1000 in flight. */
function measureBroker(count: number): Promise<number> {
  const t0 = Date.now() - 3_600_000;
  const body = (n: number) =>
    `{"v":1,"readings":[${JSON.stringify({ station: 'bench', device: 'ceiling', profile: 'mqtt-json', kind: 'dosimeter', ts: t0 + n, ts_source: 'agent', values: { cpm: n % 1000, dose_rate: (n % 1000) / 175, counts: n }, quality: 'good', source: 'simulated' })}]}`;
  return measureBrokerCeiling(
    broker.url,
    topics.readings('bench', 'ceiling'),
    Array.from({ length: count }, (_, n) => body(n)),
  );
}

try {
  say('raw line-protocol ceiling…');
  const rawRuns = await measureRaw();
  const raw = rawRuns.best;
  say('end to end, coalesced…');
  const coalesced = await measureEndToEnd('coalesced', COALESCED, 1000, 50, CONNECTIONS);
  say('end to end, one reading per message…');
  const single = await measureEndToEnd('single', SINGLE, 1, 0, CONNECTIONS);
  say('end to end, one reading per message, one connection…');
  const singleOne = CONNECTIONS === 1 ? single : await measureEndToEnd('single1', SINGLE, 1, 0, 1);
  say('mosquitto QoS 1 ceiling…');
  const ceiling = await measureBroker(SINGLE);
  const figures = {
    raw_ceiling_points_per_s: Math.round(raw),
    raw_1_inflight_points_per_s: Math.round(rawRuns.byInflight[1] ?? 0),
    raw_2_inflight_points_per_s: Math.round(rawRuns.byInflight[2] ?? 0),
    raw_4_inflight_points_per_s: Math.round(rawRuns.byInflight[4] ?? 0),
    coalesced_readings_per_s: Math.round(coalesced),
    single_readings_per_s: Math.round(single),
    single_one_connection_readings_per_s: Math.round(singleOne),
    ingest_connections: CONNECTIONS,
    broker_ceiling_messages_per_s: Math.round(ceiling),
    coalesced_ratio: Number((coalesced / raw).toFixed(3)),
    single_ratio: Number((single / ceiling).toFixed(3)),
    cpu_us_per_reading: cpuPerReading,
    raw_influxd_cpu_us_per_point: rawInfluxdCpuUs,
  };
  const cpus = os.cpus();
  const machine = {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memory_gib: Number((os.totalmem() / 2 ** 30).toFixed(1)),
    node: process.version,
    // The machine is shared: a figure taken under load is not comparable to one taken idle.
    loadavg: os.loadavg().map((l) => Number(l.toFixed(2))),
    children: children.mode,
  };
  const rssMib = Object.fromEntries(Object.entries(peakRss).map(([k, v]) => [k, Math.round(v / 2 ** 20)]));
  if (json) {
    process.stdout.write(`${JSON.stringify({ ...figures, machine, peak_rss_mib: rssMib, memory_at_peak_mib: atPeak })}\n`);
  } else {
    const pct = (r: number) => `${(r * 100).toFixed(0)} %`;
    const rows: Array<[string, string]> = [
      ['machine', `${machine.cpu}, ${machine.cores} cores, ${machine.memory_gib} GiB, Node ${machine.node}`],
      ['load average (1, 5, 15 min) at the end', machine.loadavg.join(', ')],
      ['agent and ingest run', machine.children === 'compiled' ? 'compiled JavaScript (as a station)' : 'through tsx'],
      ...([1, 2, 4] as const).map((n): [string, string] => [
        `raw line protocol, ${n} POST${n > 1 ? 's' : ''} in flight (${RAW_POINTS.toLocaleString('en')} pts, batches of 5,000)`,
        `${Math.round(rawRuns.byInflight[n] ?? 0).toLocaleString('en')} points/s`,
      ]),
      ['raw ceiling = best of 1, 2, 4 in flight', `${figures.raw_ceiling_points_per_s.toLocaleString('en')} points/s`],
      ['ingest MQTT connections (shared subscription)', String(CONNECTIONS)],
      [
        `end to end, coalesced (${COALESCED.toLocaleString('en')} readings, ≤1000/msg)`,
        `${figures.coalesced_readings_per_s.toLocaleString('en')} readings/s`,
      ],
      [
        `end to end, one reading per message QoS 1 (${SINGLE.toLocaleString('en')})`,
        `${figures.single_readings_per_s.toLocaleString('en')} readings/s`,
      ],
      [
        `end to end, one reading per message QoS 1, 1 connection (${SINGLE.toLocaleString('en')})`,
        `${figures.single_one_connection_readings_per_s.toLocaleString('en')} readings/s`,
      ],
      [
        'mosquitto QoS 1 publish→receive ceiling, same messages',
        `${figures.broker_ceiling_messages_per_s.toLocaleString('en')} messages/s`,
      ],
      ['coalesced / best raw ceiling (target ≥ 70 %)', pct(figures.coalesced_ratio)],
      ['one-per-message / broker ceiling (target ≥ 90 %)', pct(figures.single_ratio)],
      ['CPU µs per point of influxd in the raw runs, 1 / 2 / 4 in flight', [1, 2, 4].map((n) => rawInfluxdCpuUs[n] ?? 0).join(' / ')],
      ...Object.entries(cpuPerReading).map(([run, byProcess]): [string, string] => [
        `CPU µs per reading (${run}): ${Object.keys(byProcess).join(' / ')} = total`,
        `${Object.values(byProcess).join(' / ')} = ${Object.values(byProcess)
          .reduce((a, b) => a + b, 0)
          .toFixed(1)}`,
      ]),
      ...Object.entries(rssMib).map(([k, v]): [string, string] => {
        const m = atPeak[k];
        return [`peak RSS: ${k}`, m ? `${v} MiB (V8 heap ${m.heapUsed} used of ${m.heapTotal}, external ${m.external})` : `${v} MiB`];
      }),
    ];
    const w = Math.max(...rows.map((r) => r[0].length));
    process.stdout.write(`| ${'measure'.padEnd(w)} | figure |\n|${'-'.repeat(w + 2)}|--------|\n`);
    for (const [k, v] of rows) process.stdout.write(`| ${k.padEnd(w)} | ${v} |\n`);
  }
} finally {
  clearInterval(sampleSelf);
  await Promise.all(started.map((p) => stopChild(p, 2000)));
  await Promise.all([influx.stop(), broker.stop()]);
  rmSync(dir, { recursive: true, force: true });
  children.cleanup();
}
