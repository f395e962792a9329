/**
 * `npm run bench:alarms` (`-- --json` for one JSON object; `-- --seconds N --rate R`): the
 * publish → SSE latency of alarm transitions while R readings/s (default 5,000) of background
 * load flow through one station: an embedded aedes broker and the real server (startServer:
 * MQTT feed, alarm engine with the configured rules and its SQLite store, SSE). The load comes
 * from 50 simulated devices in a worker thread (QoS 1, two readings per message, as the agent
 * coalesces them; readings/s reported are those the server received, load and probe together); a probe device in the main thread alternates a 2.0 µSv/h and a 0.1 µSv/h
 * reading every 100 ms, so each probe publish raises or clears an alarm, and the time from the
 * publish call to its `alarm` event arriving on an `/api/stream` client is recorded. The probe,
 * the SSE client and the server share one event loop, as in `radscreen station`. Not a test.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import os from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { catalogue } from '../devices/index.ts';
import { parseConfig } from '../src/config/load.ts';
import { topics } from '../src/core/contract.ts';
import type { Reading } from '../src/core/reading.ts';
import { openAuthStore } from '../src/server/auth/store.ts';
import { startServer } from '../src/server/start.ts';
import { asAgent, asServer, startTestBroker } from '../test/support/mqtt-identities.ts';

const args = process.argv.slice(2);
const json = args.includes('--json');
const option = (name: string, dflt: number) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const SECONDS = option('--seconds', 20);
const RATE = option('--rate', 5000);
const WARMUP_S = 3;
const STATION = 'bench';
const PROBE = 'probe-geiger';
const say = (s: string) => !json && process.stderr.write(`${s}\n`);

const dir = mkdtempSync(join(os.tmpdir(), 'radscreen-bench-alarms-'));
const broker = await startTestBroker(dir);
const config = parseConfig(
  `station: { id: ${STATION} }\ndata_dir: ${dir}\nserver: { host: 127.0.0.1, port: 0 }\nalarms: { dose_rate_usvh: 1.0, deadband_usvh: 0.2 }\n`,
  { catalogue, env: {} },
);
const serverClient = await mqtt.connectAsync(broker.url, { protocolVersion: 4, clientId: 'bench-server', ...asServer(dir, STATION) });
const auth = openAuthStore();
const server = await startServer({
  config,
  mqtt: serverClient,
  log: pino({ level: 'silent' }),
  storage: { enabled: false, detail: 'bench' },
  auth,
});
let readingsSeen = 0;
server.state.on('reading', () => readingsSeen++);

// The SSE client: every `alarm` event for the probe device closes the oldest open probe publish.
const pending: number[] = [];
const latencies: number[] = [];
let measuring = false;
await new Promise<void>((resolve, reject) => {
  get(`${server.url}/api/stream`, (res) => {
    let buf = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buf += chunk;
      for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        if (!block.startsWith('event: alarm')) continue;
        const t = JSON.parse(block.slice(block.indexOf('data: ') + 6)) as { kind: string; alarm: { device: string } };
        if (t.alarm.device !== PROBE || (t.kind !== 'raised' && t.kind !== 'cleared')) continue;
        const sent = pending.shift();
        if (sent !== undefined && measuring) latencies.push(performance.now() - sent);
      }
    });
    resolve();
  }).on('error', reject);
});

const load = new Worker(
  `const { workerData, parentPort } = require('node:worker_threads');
   const mqtt = require('mqtt');
   const { url, station, rate, logins } = workerData;
   const DEVICES = 50, PER_MSG = 2;
   // The broker lets each device connection publish only its own readings: one client per device.
   const clients = logins.map((login, i) => mqtt.connect(url, { protocolVersion: 4, clientId: 'bench-load-' + i, ...login }));
   const client = clients[0];
   let sent = 0, n = 0, start = 0;
   client.on('connect', () => {
     parentPort.postMessage('ready');
     start = Date.now();
     setInterval(() => {
       // Catch up to rate × elapsed, so timer drift does not lower the load.
       const due = Math.floor(((Date.now() - start) * rate) / 1000);
       while (sent + PER_MSG <= due) {
         const device = 'load-' + String(n++ % DEVICES).padStart(2, '0');
         const ts = Date.now();
         const readings = [];
         for (let k = 0; k < PER_MSG; k++) readings.push({ station, device, profile: 'mightyohm-geiger', kind: 'dosimeter', ts: ts + k,
           ts_source: 'agent', values: { cps: 0, cpm: 21, dose_rate: 0.12 }, quality: 'good', source: 'simulated' });
         clients[(n - 1) % DEVICES].publish('radscreen/v1/' + station + '/' + device + '/readings', JSON.stringify({ v: 1, readings }), { qos: 1 });
         sent += PER_MSG;
       }
     }, 20);
     setInterval(() => parentPort.postMessage({ sent }), 1000);
   });
   parentPort.on('message', (m) => { if (m === 'stop') Promise.all(clients.map((c) => c.endAsync())).then(() => process.exit(0)); });`,
  {
    eval: true,
    workerData: {
      url: broker.url,
      station: STATION,
      rate: RATE,
      logins: Array.from({ length: 50 }, (_, i) => asAgent(dir, STATION, `load-${String(i).padStart(2, '0')}`)),
    },
  },
);
await new Promise<void>((resolve) => load.once('message', () => resolve()));

const probe = await mqtt.connectAsync(broker.url, { protocolVersion: 4, clientId: 'bench-probe', ...asAgent(dir, STATION, PROBE) });
let high = true;
function probeReading(): Reading {
  const dose = high ? 2.0 : 0.1;
  high = !high;
  return {
    station: STATION,
    device: PROBE,
    profile: 'mightyohm-geiger',
    kind: 'dosimeter',
    ts: Date.now(),
    ts_source: 'agent',
    values: { cps: Math.round((dose * 175.4) / 60), cpm: Math.round(dose * 175.4), dose_rate: dose },
    quality: 'good',
    source: 'simulated',
  };
}
const probeTimer = setInterval(() => {
  pending.push(performance.now());
  probe.publish(topics.readings(STATION, PROBE), JSON.stringify({ v: 1, readings: [probeReading()] }), { qos: 1 });
}, 100);

say(`warming up ${WARMUP_S} s, then measuring ${SECONDS} s at ${RATE} readings/s of load…`);
await new Promise((r) => setTimeout(r, WARMUP_S * 1000));
measuring = true;
const seen0 = readingsSeen;
const t0 = performance.now();
await new Promise((r) => setTimeout(r, SECONDS * 1000));
const elapsedS = (performance.now() - t0) / 1000;
const readingsPerS = (readingsSeen - seen0) / elapsedS;
measuring = false;
clearInterval(probeTimer);

load.postMessage('stop');
await new Promise((r) => load.once('exit', r));
await probe.endAsync();
await server.close();
await serverClient.endAsync();
auth.close();
await broker.close();
rmSync(dir, { recursive: true, force: true });

const sorted = [...latencies].sort((a, b) => a - b);
const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
const round = (v: number) => Math.round(v * 100) / 100;
const cpus = os.cpus();
const result = {
  readings_per_s: Math.round(readingsPerS),
  alarm_latency_p50_ms: round(q(0.5)),
  alarm_latency_p99_ms: round(q(0.99)),
  alarm_latency_max_ms: round(sorted.at(-1) ?? Number.NaN),
  alarm_samples: sorted.length,
  seconds: round(elapsedS),
  // Load average at the end: figures from a busy shared machine are not comparable with an idle one.
  machine: { cpu: cpus[0]?.model ?? 'unknown', cores: cpus.length, node: process.version, loadavg_1m: round(os.loadavg()[0] ?? 0) },
};
if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
else {
  process.stdout.write(
    `readings through the station: ${result.readings_per_s}/s (load target ${RATE}/s)\n` +
      `publish → SSE alarm latency over ${result.alarm_samples} transitions: p50 ${result.alarm_latency_p50_ms} ms, ` +
      `p99 ${result.alarm_latency_p99_ms} ms, max ${result.alarm_latency_max_ms} ms (target p99 ≤ 20 ms)\n` +
      `machine: ${result.machine.cpu}, ${result.machine.cores} cores, node ${result.machine.node}, load average ${result.machine.loadavg_1m}\n`,
  );
}
