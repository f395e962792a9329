/**
 * `npm run bench:peer` (`-- --json` for one JSON object; `-- --quick` for a tenth of the counts):
 * radscreen's ingest side by side with the alternative a user would build, a Node-RED flow
 * `mqtt in → json → join 1,000 / 1 s → function → influxdb batch` (bench/nodered/flows.json), on
 * one private mosquitto and one private influxd started here. Both are driven with the same
 * messages by the same publisher (QoS 1, 1,000 in flight): first one reading per message, then
 * 100 readings per message (what the agent's coalescing sends). Each figure is readings/s from the
 * first publish to the moment InfluxDB holds every reading (polled every 50 ms, same for both).
 * Before them, in the same run: mosquitto's own QoS 1 ceiling, and the MQTT floor of a durable
 * ingest (bench/subscriber-floor.ts: parse and acknowledge at the end of the turn, nothing else,
 * through mqtt.js and by hand). Every run's CPU µs a message per process gives the ingest's budget
 * for 1.3× Node-RED, to set against those floors (docs/benchmarks.md "One reading per message").
 *
 * Node-RED (node-red@4.1.15 + node-red-contrib-influxdb@0.7.0) is installed with npm into a
 * directory under the OS temp dir on first use and reused after; it is never a project dependency.
 * radscreen's ingest runs compiled with its unit's V8 flags, as installed (bench/children.ts), as
 * Node-RED runs its own JavaScript; `-- --tsx` runs it through tsx instead. `BENCH_CPU_PROF=<dir>`
 * writes the ingest's CPU profile.
 * Not a test: figures only.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { topics } from '../src/core/contract.ts';
import { ensureSchema } from '../src/ingest/schema.ts';
import { countPoints } from '../test/support/influx-query.ts';
import { freePort, startInfluxd, startMosquitto, stopChild } from '../test/support/services.ts';
import { prepareChildren } from './children.ts';
import { measureBrokerCeiling, publishAll, until } from './mqtt-drive.ts';
import { type CpuShare, cpuMeter, peakRssMib } from './proc-stats.ts';

const NODE_RED = 'node-red@4.1.15';
const NODE_RED_INFLUX = 'node-red-contrib-influxdb@0.7.0';
const json = process.argv.includes('--json');
const scale = process.argv.includes('--quick') ? 0.1 : 1;
const SINGLE = 60_000 * scale;
// --connections N: MQTT connections of radscreen's ingest on one shared subscription (src/ingest/connections.ts).
const connArg = process.argv.indexOf('--connections');
const CONNECTIONS = connArg > 0 ? Number(process.argv[connArg + 1]) : 8;
const COALESCED = 300_000 * scale;
const PER_MESSAGE = 100;
const say = (s: string) => !json && process.stderr.write(`${s}\n`);
const TOPIC = topics.readings('bench', 'peer');

/** Installs Node-RED and its InfluxDB node once into a temp directory (npm), returns red.js. */
function installNodeRed(): string {
  const home = join(os.tmpdir(), `radscreen-nodered-${NODE_RED.split('@')[1]}`);
  const red = join(home, 'node_modules', 'node-red', 'red.js');
  const influxNode = join(home, 'node_modules', 'node-red-contrib-influxdb', 'package.json');
  if (existsSync(red) && existsSync(influxNode)) return red;
  say(`installing ${NODE_RED} and ${NODE_RED_INFLUX} into ${home} (npm)…`);
  mkdirSync(home, { recursive: true });
  writeFileSync(join(home, 'package.json'), '{"name":"radscreen-bench-nodered","private":true}\n');
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', NODE_RED, NODE_RED_INFLUX], {
    cwd: home,
    stdio: json ? 'ignore' : ['ignore', 'inherit', 'inherit'],
  });
  return red;
}

/** The same reading shape the agent publishes (profile mqtt-json declares cpm, dose_rate, counts). */
const t0 = Date.now() - 3_600_000;
let nextSeq = 0;
function reading(): string {
  const n = nextSeq++;
  return JSON.stringify({
    station: 'bench',
    device: 'peer',
    profile: 'mqtt-json',
    kind: 'dosimeter',
    ts: t0 + n,
    ts_source: 'agent',
    values: { cpm: n % 1000, dose_rate: (n % 1000) / 175, counts: n },
    quality: 'good',
    source: 'simulated',
  });
}
/** Pre-built payloads, so building them is not timed. */
function messages(count: number, perMessage: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < count / perMessage; i++) out.push(`{"v":1,"readings":[${Array.from({ length: perMessage }, reading).join(',')}]}`);
  return out;
}

const children = prepareChildren(['ingest-worker.ts', 'subscriber-floor.ts'], { tsx: process.argv.includes('--tsx') });
const dir = mkdtempSync(join(os.tmpdir(), 'radscreen-bench-peer-'));
const [influx, broker] = await Promise.all([startInfluxd(join(dir, 'influx')), startMosquitto(join(dir, 'mosquitto'))]);
const started: ChildProcess[] = [];
const publisher = await mqtt.connectAsync(broker.url, { protocolVersion: 4, clientId: 'bench-peer-pub' });

/** What each CPU accounting row of the report measured. */
const CPU_RUNS = {
  ceiling: "mosquitto's ceiling (bench = publisher + subscriber)",
  floor_mqttjs: `floor: mqtt.js, ${CONNECTIONS} connections, acknowledged per turn (consumer)`,
  floor_handmade: 'floor: by hand, 1 connection, PUBACKs of a turn in one write (consumer)',
  nodered: 'Node-RED (consumer)',
  radscreen: 'radscreen (consumer = ingest)',
} as const;
/** The processes every run shares: this bench (publisher; in the ceiling run also the subscriber), mosquitto, influxd. */
const sharedPids = () => ({ bench: process.pid, mosquitto: broker.pid, influxd: influx.pid });

/** Publishes at QoS 1 with 1,000 in flight, then waits until `db` holds `target` points; returns readings/s. */
async function drive(db: string, payloads: string[], readings: number, target: number): Promise<number> {
  const start = performance.now();
  await publishAll(publisher, TOPIC, payloads);
  await until(async () => (await countPoints(influx.url, db, 'radiation')) >= target, 300_000, `${db}: ${target} stored`);
  const seconds = (performance.now() - start) / 1000;
  const stored = await countPoints(influx.url, db, 'radiation');
  if (stored !== target) throw new Error(`${db}: stored ${stored}, expected ${target}`);
  return readings / seconds;
}

/** One warm-up reading through the whole path (subscription, first write), then the two runs. */
async function runBoth(db: string, consumerPid: number): Promise<{ single: number; coalesced: number; singleCpu: CpuShare }> {
  await drive(db, messages(1, 1), 1, 1);
  const singles = messages(SINGLE, 1);
  const meter = cpuMeter({ ...sharedPids(), consumer: consumerPid });
  const single = await drive(db, singles, SINGLE, 1 + SINGLE);
  const singleCpu = meter(SINGLE);
  const coalescedPayloads = messages(COALESCED, PER_MESSAGE);
  const coalesced = await drive(db, coalescedPayloads, COALESCED, 1 + SINGLE + COALESCED);
  return { single, coalesced, singleCpu };
}

/**
 * The MQTT floor of a durable ingest (bench/subscriber-floor.ts): a child that only parses and
 * acknowledges at the end of each turn, through mqtt.js on the ingest's connections, or by hand.
 */
async function measureFloor(mode: 'mqttjs' | 'handmade'): Promise<CpuShare> {
  const topic = topics.readings('bench', `floor-${mode}`);
  const args = [mode, broker.url, topic, String(SINGLE), String(CONNECTIONS)];
  const proc = spawn(process.execPath, [...children.argv('subscriber-floor.ts', 'ingest'), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  started.push(proc);
  let out = '';
  proc.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  await until(() => out.includes('ready'), 30_000, `${mode} floor subscriber ready`);
  const payloads = messages(SINGLE, 1);
  const meter = cpuMeter({ ...sharedPids(), consumer: proc.pid ?? -1 });
  await publishAll(publisher, topic, payloads);
  const received = () => {
    if (proc.exitCode !== null) throw new Error(`bench: the ${mode} floor subscriber exited (${proc.exitCode}) before ${SINGLE} messages`);
    return out.includes('done');
  };
  await until(received, 120_000, `${mode} floor subscriber received ${SINGLE}`, 5);
  const cpu = meter(SINGLE);
  await stopChild(proc);
  return cpu;
}

/**
 * The ingest's CPU µs a message that would give `ratio`× Node-RED's one-per-message figure, from
 * this run's accounting: both runs saturate the two cores, so messages/s goes as 1 / (CPU a
 * message of every process); what the bench, mosquitto and influxd took in radscreen's run is
 * not the ingest's to save.
 */
function ingestBudget(nodered: CpuShare, radscreen: CpuShare, ratio: number): number {
  const sum = (c: CpuShare) => Object.values(c).reduce((a, b) => a + b, 0);
  return Number((sum(nodered) / ratio - (sum(radscreen) - (radscreen.consumer ?? 0))).toFixed(1));
}

async function measureNodeRed(): Promise<{ single: number; coalesced: number; singleCpu: CpuShare; rss: number }> {
  const red = installNodeRed();
  const userDir = join(dir, 'nodered');
  mkdirSync(userDir, { recursive: true });
  copyFileSync(join(import.meta.dirname, 'nodered', 'flows.json'), join(userDir, 'flows.json'));
  const db = 'bench_nodered';
  await ensureSchema({ url: influx.url, database: db, retention: '30d' });
  const proc = spawn(process.execPath, [red, '--userDir', userDir, '--port', String(await freePort()), 'flows.json'], {
    env: {
      ...process.env,
      NR_MQTT_PORT: new URL(broker.url).port,
      NR_INFLUX_PORT: new URL(influx.url).port,
      NR_INFLUX_DB: db,
      NR_TOPIC: TOPIC,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(proc);
  let log = '';
  proc.stdout?.on('data', (c: Buffer) => (log += c.toString()));
  proc.stderr?.on('data', (c: Buffer) => (log += c.toString()));
  await until(() => log.includes('Connected to broker'), 60_000, `Node-RED connected (log: ${log.slice(-2000)})`);
  const result = await runBoth(db, proc.pid ?? -1);
  const rss = peakRssMib(proc.pid ?? -1);
  await stopChild(proc);
  return { ...result, rss };
}

async function measureRadscreen(): Promise<{ single: number; coalesced: number; singleCpu: CpuShare; rss: number }> {
  const db = 'bench_radscreen';
  const proc = spawn(
    process.execPath,
    [
      // BENCH_CPU_PROF=<dir> profiles the ingest (node --cpu-prof), as bench:ingest does.
      ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF] : []),
      ...children.argv('ingest-worker.ts', 'ingest'),
      ...['--mqtt', broker.url, '--influx', influx.url, '--db', db, '--spool', join(dir, 'peer-spool.sqlite')],
      ...['--client-id', 'bench-peer-ingest', '--batch-size', '5000', '--flush-ms', '50'],
      ...['--connections', String(CONNECTIONS)],
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  started.push(proc);
  let ready = false;
  proc.stdout?.on('data', (c: Buffer) => (ready ||= c.toString().includes('"ready":true')));
  await until(() => ready, 30_000, 'radscreen ingest ready');
  const result = await runBoth(db, proc.pid ?? -1);
  const rss = peakRssMib(proc.pid ?? -1);
  await stopChild(proc);
  return { ...result, rss };
}

try {
  // What the broker itself carries of the one-reading stream, in the same run: the bound on any
  // subscriber's one-per-message figure (docs/benchmarks.md "One reading per message").
  say('mosquitto QoS 1 ceiling…');
  const ceilingMeter = cpuMeter(sharedPids());
  const ceiling = await measureBrokerCeiling(broker.url, topics.readings('bench', 'ceiling'), messages(SINGLE, 1));
  const ceilingCpu = ceilingMeter(SINGLE);
  say('MQTT floor of a durable ingest: mqtt.js, then by hand…');
  const floor = { mqttjs: await measureFloor('mqttjs'), handmade: await measureFloor('handmade') };
  say('Node-RED flow…');
  const nodered = await measureNodeRed();
  say('radscreen ingest…');
  const radscreen = await measureRadscreen();
  const cpus = os.cpus();
  const result = {
    nodered_readings_per_s: Math.round(nodered.single),
    nodered_coalesced_readings_per_s: Math.round(nodered.coalesced),
    radscreen_single_readings_per_s: Math.round(radscreen.single),
    radscreen_coalesced_readings_per_s: Math.round(radscreen.coalesced),
    radscreen_ingest_connections: CONNECTIONS,
    radscreen_ingest_runs: children.mode,
    single_ratio: Number((radscreen.single / nodered.single).toFixed(2)),
    broker_ceiling_messages_per_s: Math.round(ceiling),
    nodered_share_of_ceiling: Number((nodered.single / ceiling).toFixed(3)),
    radscreen_single_share_of_ceiling: Number((radscreen.single / ceiling).toFixed(3)),
    // One reading per message: CPU µs a message of each process ('consumer': Node-RED, or radscreen's ingest).
    cpu_us_per_message: {
      ceiling: ceilingCpu,
      floor_mqttjs: floor.mqttjs,
      floor_handmade: floor.handmade,
      nodered: nodered.singleCpu,
      radscreen: radscreen.singleCpu,
    },
    // What the ingest may spend a message for 1.3× Node-RED, against what the floors' consumers spent.
    ingest_budget_us_for_1_3x: ingestBudget(nodered.singleCpu, radscreen.singleCpu, 1.3),
    coalesced_ratio: Number((radscreen.coalesced / nodered.coalesced).toFixed(2)),
    peak_rss_mib: { nodered: nodered.rss, radscreen_ingest: radscreen.rss },
    machine: {
      cpu: cpus[0]?.model ?? 'unknown',
      cores: cpus.length,
      node: process.version,
      // Shared machine: figures taken under load are only comparable within one run.
      loadavg: os.loadavg().map((l) => Number(l.toFixed(2))),
    },
  };
  if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    const f = (n: number) => `${n.toLocaleString('en')} readings/s`;
    const rows: Array<[string, string]> = [
      ['machine', `${result.machine.cpu}, ${result.machine.cores} cores, Node ${result.machine.node}`],
      ['load average (1, 5, 15 min) at the end', result.machine.loadavg.join(', ')],
      ['radscreen ingest runs', children.mode === 'compiled' ? 'compiled JavaScript (as a station)' : 'through tsx'],
      [`Node-RED flow, one reading per message (${SINGLE.toLocaleString('en')})`, f(result.nodered_readings_per_s)],
      [
        `radscreen ingest (${CONNECTIONS} connections), one reading per message (${SINGLE.toLocaleString('en')})`,
        f(result.radscreen_single_readings_per_s),
      ],
      ['radscreen / Node-RED, one per message (target ≥ 1.3×)', `${result.single_ratio}×`],
      [
        `mosquitto's own QoS 1 ceiling, the same one-reading messages (a subscriber that only parses)`,
        `${result.broker_ceiling_messages_per_s.toLocaleString('en')} messages/s`,
      ],
      [
        'Node-RED / radscreen one per message, share of that ceiling',
        `${(100 * result.nodered_share_of_ceiling).toFixed(1)} % / ${(100 * result.radscreen_single_share_of_ceiling).toFixed(1)} %`,
      ],
      [`Node-RED flow, ${PER_MESSAGE} per message (${COALESCED.toLocaleString('en')})`, f(result.nodered_coalesced_readings_per_s)],
      [`radscreen ingest, ${PER_MESSAGE} per message (${COALESCED.toLocaleString('en')})`, f(result.radscreen_coalesced_readings_per_s)],
      ['radscreen / Node-RED, coalesced', `${result.coalesced_ratio}×`],
      ['peak RSS: Node-RED / radscreen ingest', `${nodered.rss} / ${radscreen.rss} MiB`],
      ...(['ceiling', 'floor_mqttjs', 'floor_handmade', 'nodered', 'radscreen'] as const).map((run): [string, string] => [
        `CPU µs a message, one per message, ${CPU_RUNS[run]}`,
        Object.entries(result.cpu_us_per_message[run])
          .map(([k, v]) => `${k} ${v}`)
          .join(' / '),
      ]),
      ["ingest CPU µs a message that 1.3× Node-RED leaves (this run; compare the floors' consumer)", `${result.ingest_budget_us_for_1_3x}`],
    ];
    const w = Math.max(...rows.map((r) => r[0].length));
    process.stdout.write(`| ${'measure'.padEnd(w)} | figure |\n|${'-'.repeat(w + 2)}|--------|\n`);
    for (const [k, v] of rows) process.stdout.write(`| ${k.padEnd(w)} | ${v} |\n`);
  }
} finally {
  await publisher.endAsync();
  await Promise.all(started.map((p) => stopChild(p, 2000)));
  await Promise.all([influx.stop(), broker.stop()]);
  rmSync(dir, { recursive: true, force: true });
  children.cleanup();
}
