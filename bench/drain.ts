/**
 * `npm run bench:drain` (`-- --json`; `-- --minutes 6` for a short development run): a station's
 * InfluxDB outage and its drain. On a private influxd and mosquitto: one ingest worker
 * (bench/ingest-worker.ts, real consumer + spool + writer) runs; influxd is stopped; an agent
 * (bench/load-agent.ts, real outbox + publisher) sends the backlog of an outage of --minutes
 * (default 60) of a 20-device station at 1 Hz (72,000 readings for 60 min), which the ingest
 * spools; then influxd is started again and, while the ingest drains the spool, 20 live readings a
 * second (one per message, QoS 1) keep arriving. Figures:
 *   - drain time: influxd accepting connections again → every backlog reading written;
 *   - live readings' alarm latency, p50/p99/max, for those published during the drain: the ingest
 *     process also runs a station's alarm path (bench/alarm-probe.ts: its own MQTT subscription,
 *     the contract's parser and the real alarm engine, as the server's feed does in
 *     `radscreen station`, where it shares ingest's event loop); publish → `evaluate` returned;
 *   - live readings' store latency (publish → visible in InfluxDB, polled every 100 ms, so ±100 ms),
 *     p50/p99/max, for those published during the drain;
 *   - the ingest's event-loop delay p99/max during the drain: how late that process could be to
 *     handle anything else.
 * Live readings alternate 2.0 and 0.1 µSv/h, so each one raises or clears an alarm.
 * Not a test: figures only.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import { topics } from '../src/core/contract.ts';
import { queryInflux } from '../test/support/influx-query.ts';
import { startInfluxd, startMosquitto, stopChild } from '../test/support/services.ts';
import { prepareChildren } from './children.ts';

const { values: a } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    minutes: { type: 'string', default: '60' },
    // The ingest's backlog drain rate, points/s (config influx.backlog_rate_per_s); default: the config's default.
    'backlog-rate': { type: 'string' },
    tsx: { type: 'boolean', default: false },
  },
});
const DEVICES = 20;
const BACKLOG = Number(a.minutes) * 60 * DEVICES;
const LIVE_PER_S = DEVICES;
const say = (s: string) => !a.json && process.stderr.write(`${s}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// The agent and ingest children run compiled, as a station does (bench/children.ts); --tsx runs them through tsx.
const children = prepareChildren(['ingest-worker.ts', 'load-agent.ts'], { tsx: a.tsx });
const dir = mkdtempSync(join(os.tmpdir(), 'radscreen-bench-drain-'));
const [influx, broker] = await Promise.all([startInfluxd(join(dir, 'influx')), startMosquitto(join(dir, 'mosquitto'))]);
const started: ChildProcess[] = [];
const DB = 'bench_drain';

type Stats = Record<string, unknown>;
function startNode(script: string, args: string[]) {
  // BENCH_CPU_PROF=<dir> profiles each child (node --cpu-prof), to find what blocks the loop.
  const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF] : [];
  const proc = spawn(process.execPath, [...prof, ...children.argv(script, script.startsWith('load-agent') ? 'agent' : 'ingest'), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  started.push(proc);
  const lines: Stats[] = [];
  let buf = '';
  proc.stdout?.on('data', (c: Buffer) => {
    const parts = (buf + c.toString()).split('\n');
    buf = parts.pop() ?? '';
    for (const l of parts) if (l.trim()) lines.push({ ...(JSON.parse(l) as Stats), at: Date.now() });
  });
  return { proc, lines, last: () => lines.at(-1) ?? {} };
}
async function until(probe: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`bench: ${what} not reached within ${timeoutMs} ms`);
    await sleep(50);
  }
}
async function count(where: string): Promise<number> {
  const r = await queryInflux(influx.url, DB, `SELECT count("quality") FROM "radiation" WHERE ${where}`);
  const v = r.series?.[0]?.values[0]?.[1];
  return typeof v === 'number' ? v : 0;
}
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((x, y) => x - y);
  return s.length ? (s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number) : Number.NaN;
};

try {
  const ingest = startNode('ingest-worker.ts', [
    ...['--mqtt', broker.url, '--influx', influx.url, '--db', DB, '--spool', join(dir, 'spool.sqlite')],
    ...['--client-id', 'bench-drain-ingest', '--batch-size', '5000', '--flush-ms', '100'],
    ...['--alarm-probe', topics.readings('bench', 'live')],
    ...(a['backlog-rate'] ? ['--backlog-rate', a['backlog-rate']] : []),
  ]);
  await until(() => ingest.last().ready === true || ingest.last().messages !== undefined, 30_000, 'ingest ready');
  say('influxd down; sending the backlog…');
  await influx.stop();
  const agent = startNode('load-agent.ts', [
    ...['--mqtt', broker.url, '--outbox', join(dir, 'outbox.sqlite'), '--rate', '0', '--count', String(BACKLOG)],
    ...['--device', 'backlog', '--t0', String(Date.now() - Number(a.minutes) * 60_000 - 60_000)],
  ]);
  await until(() => Number(ingest.last().readings ?? 0) >= BACKLOG, 600_000, `${BACKLOG} readings spooled`);
  await stopChild(agent.proc);
  if (Number(ingest.last().written ?? 0) !== 0) throw new Error('bench: points written while influxd was down?');

  // Live readings, one per message, from now until the drain is over (and a little after).
  const pub = await mqtt.connectAsync(broker.url, { protocolVersion: 4, clientId: 'bench-drain-live' });
  const publishedAt: number[] = [];
  const liveTopic = topics.readings('bench', 'live');
  const live = setInterval(() => {
    const n = publishedAt.length;
    publishedAt.push(Date.now());
    const reading = {
      station: 'bench',
      device: 'live',
      profile: 'mqtt-json',
      kind: 'dosimeter',
      ts: Date.now(),
      seq: n % 1000,
      ts_source: 'agent',
      values: { cpm: 20, dose_rate: n % 2 === 0 ? 2.0 : 0.1, counts: n },
      quality: 'good',
      source: 'live',
    };
    pub.publish(liveTopic, JSON.stringify({ v: 1, readings: [reading] }), { qos: 1 });
  }, 1000 / LIVE_PER_S);

  say('influxd back; draining…');
  await influx.restart();
  const back = Date.now();
  const firstLine = ingest.lines.length;
  // Poll the live readings' count: the k-th live reading was visible at the first poll showing > k.
  const visibleAt: number[] = [];
  let drained: number | undefined;
  while (drained === undefined || Date.now() - drained < 2_000) {
    const t = Date.now();
    const n = await count(`"device" = 'live'`);
    while (visibleAt.length < n) visibleAt.push(t);
    if (drained === undefined && (await count(`"device" = 'backlog'`)) >= BACKLOG) drained = Date.now();
    if (Date.now() - back > 600_000) throw new Error('bench: backlog not drained within 10 min');
    await sleep(100);
  }
  clearInterval(live);
  await sleep(300); // the ingest's next stats line carries the last alarm latencies
  const drainEnd = drained as number;
  const latencies = publishedAt
    .map((p, k) => ({ p, v: visibleAt[k] }))
    .filter((x) => x.v !== undefined && x.p >= back && x.p <= drainEnd)
    .map((x) => (x.v as number) - x.p);
  const during = ingest.lines.slice(firstLine).filter((l) => Number(l.at) <= drainEnd);
  const alarmSeen = ingest.lines.flatMap((l) => (Array.isArray(l.alarm) ? (l.alarm as Array<[number, number]>) : []));
  const alarmLatencies = alarmSeen.filter(([ts]) => ts >= back && ts <= drainEnd).map(([, ms]) => ms);
  // The same live stream in the 2 s after the drain, same run: what the machine gives without a drain.
  const alarmAfter = alarmSeen.filter(([ts]) => ts > drainEnd).map(([, ms]) => ms);
  const result = {
    backlog_readings: BACKLOG,
    drain_s: Number(((drainEnd - back) / 1000).toFixed(2)),
    drain_readings_per_s: Math.round(BACKLOG / ((drainEnd - back) / 1000)),
    live_published_during_drain: latencies.length,
    live_alarm_latency_ms: {
      p50: pct(alarmLatencies, 50),
      p99: pct(alarmLatencies, 99),
      max: Math.max(...alarmLatencies),
      n: alarmLatencies.length,
    },
    live_alarm_latency_after_drain_ms: {
      p50: pct(alarmAfter, 50),
      p99: pct(alarmAfter, 99),
      max: Math.max(...alarmAfter),
      n: alarmAfter.length,
    },
    live_store_latency_ms: { p50: pct(latencies, 50), p99: pct(latencies, 99), max: Math.max(...latencies) },
    ingest_loop_delay_ms: {
      p99_worst_250ms_window: Number(Math.max(...during.map((l) => Number(l.loopDelayP99Ms ?? 0))).toFixed(1)),
      max: Number(Math.max(...during.map((l) => Number(l.loopDelayMaxMs ?? 0))).toFixed(1)),
    },
    peak_rss_mib_ingest: Math.round(Math.max(...ingest.lines.map((l) => Number(l.rss ?? 0))) / 2 ** 20),
    loadavg: os.loadavg().map((l) => Number(l.toFixed(2))),
    children: children.mode,
  };
  await pub.endAsync();
  process.stdout.write(a.json ? `${JSON.stringify(result)}\n` : `${JSON.stringify(result, null, 2)}\n`);
} finally {
  await Promise.all(started.map((p) => stopChild(p, 2000)));
  await Promise.all([influx.stop(), broker.stop()]);
  rmSync(dir, { recursive: true, force: true });
  children.cleanup();
}
