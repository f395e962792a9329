/**
 * `npm run bench:drain` (`-- --json`; `-- --minutes 6` for a short development run; `-- --runs N`
 * for N outages and drains in a row, their alarm latencies pooled): a station's
 * InfluxDB outage and its drain. On a private influxd and mosquitto: one ingest worker
 * (bench/ingest-worker.ts, real consumer + spool + writer) runs; influxd is stopped; an agent
 * (bench/load-agent.ts, real outbox + publisher) sends the backlog of an outage of --minutes
 * (default 60) of a 20-device station at 1 Hz (72,000 readings for 60 min), which the ingest
 * spools; then influxd is started again and, while the ingest drains the spool, 20 live readings a
 * second (one per message, QoS 1) arrive throughout, outages included. Figures:
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
import { until } from './mqtt-drive.ts';

const { values: a } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    minutes: { type: 'string', default: '60' },
    // The ingest's backlog drain rate, points/s (config influx.backlog_rate_per_s); default: the config's default.
    'backlog-rate': { type: 'string' },
    tsx: { type: 'boolean', default: false },
    runs: { type: 'string', default: '1' },
  },
});
const DEVICES = 20;
const BACKLOG = Number(a.minutes) * 60 * DEVICES;
const LIVE_PER_S = DEVICES;
const RUNS = Math.max(1, Number(a.runs));
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

  // Live readings, one per message, from the first outage until the last drain is over.
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

  // --runs N: N outages and drains in a row on the same processes (backlog device backlog-<k>),
  // so the alarm latencies of all N drains are pooled into one p99 (one drain gives only 30–60).
  const visibleAt: number[] = [];
  const windows: Array<{ back: number; end: number; firstLine: number }> = [];
  for (let k = 0; k < RUNS; k++) {
    say(`run ${k + 1}/${RUNS}: influxd down; sending the backlog…`);
    await influx.stop();
    await sleep(300); // a stats line from after the stop: live points written before it are counted
    const spooledBefore = Number(ingest.last().readings ?? 0);
    const liveBefore = publishedAt.length;
    const writtenBefore = Number(ingest.last().written ?? 0);
    const agent = startNode('load-agent.ts', [
      ...['--mqtt', broker.url, '--outbox', join(dir, `outbox-${k}.sqlite`), '--rate', '0', '--count', String(BACKLOG)],
      ...['--device', `backlog-${k}`, '--t0', String(Date.now() - Number(a.minutes) * 60_000 - 60_000)],
    ]);
    await until(() => Number(agent.last().published ?? 0) >= BACKLOG, 600_000, `${BACKLOG} readings published`);
    // Live readings are spooled too: all of the backlog is in once the count covers both.
    const spooled = () => Number(ingest.last().readings ?? 0) >= spooledBefore + BACKLOG + (publishedAt.length - liveBefore);
    await until(spooled, 600_000, `${BACKLOG} readings spooled`);
    await stopChild(agent.proc);
    if (Number(ingest.last().written ?? 0) !== writtenBefore) throw new Error('bench: points written while influxd was down?');

    say('influxd back; draining…');
    await influx.restart();
    const back = Date.now();
    const firstLine = ingest.lines.length;
    // Poll the live readings' count: the k-th live reading was visible at the first poll showing > k.
    let drained: number | undefined;
    while (drained === undefined || Date.now() - drained < 2_000) {
      const t = Date.now();
      const n = await count(`"device" = 'live'`);
      while (visibleAt.length < n) visibleAt.push(t);
      if (drained === undefined && (await count(`"device" = 'backlog-${k}'`)) >= BACKLOG) drained = Date.now();
      if (Date.now() - back > 600_000) throw new Error('bench: backlog not drained within 10 min');
      await sleep(100);
    }
    windows.push({ back, end: drained as number, firstLine });
  }
  clearInterval(live);
  await sleep(300); // the ingest's next stats line carries the last alarm latencies
  const inDrain = (t: number) => windows.some((w) => t >= w.back && t <= w.end);
  // The 2 s after each drain: the same live stream and machine, no drain.
  const afterDrain = (t: number) => windows.some((w) => t > w.end && t <= w.end + 2_000);
  const latencies = publishedAt
    .map((p, k) => ({ p, v: visibleAt[k] }))
    .filter((x) => x.v !== undefined && inDrain(x.p))
    .map((x) => (x.v as number) - x.p);
  const during = windows.flatMap((w) => ingest.lines.slice(w.firstLine).filter((l) => Number(l.at) <= w.end));
  const alarmSeen = ingest.lines.flatMap((l) => (Array.isArray(l.alarm) ? (l.alarm as Array<[number, number]>) : []));
  const alarmLatencies = alarmSeen.filter(([ts]) => inDrain(ts)).map(([, ms]) => ms);
  const alarmAfter = alarmSeen.filter(([ts]) => afterDrain(ts)).map(([, ms]) => ms);
  const drainS = windows.map((w) => Number(((w.end - w.back) / 1000).toFixed(2)));
  const stats = (xs: number[]) => ({ p50: pct(xs, 50), p99: pct(xs, 99), max: Math.max(...xs), n: xs.length });
  const result = {
    backlog_readings: BACKLOG,
    runs: RUNS,
    drain_s: RUNS === 1 ? drainS[0] : drainS,
    drain_readings_per_s: Math.round(BACKLOG / (Math.max(...drainS) || 1)),
    live_published_during_drain: latencies.length,
    live_alarm_latency_ms: stats(alarmLatencies),
    live_alarm_latency_after_drain_ms: stats(alarmAfter),
    live_store_latency_ms: stats(latencies),
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
