/**
 * A synthetic agent process: the real outbox + publisher (src/agent) fed with generated
 * readings instead of a serial device. Used by `npm run bench:ingest` and by the outage tests,
 * which need an agent they can SIGKILL.
 *
 *   node --import tsx bench/load-agent.ts --mqtt mqtt://127.0.0.1:1883 --outbox /tmp/o.sqlite \
 *     --rate 500 [--count N] [--start-seq 0] [--t0 <ms>] [--coalesce-ms 50] [--max-per-message 1000]
 *
 * Reading `seq` has `ts = t0 + seq` (ms) and `values.counts = seq`, so identities never collide and
 * a test can tell exactly which readings arrived. `--rate 0` generates as fast as the outbox
 * takes them (bounded by --window readings in the outbox). Prints one JSON line of counters every
 * 250 ms and a final one with `"done":true`; SIGTERM stops generating, drains, exits 0.
 */
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import { createPublisher } from '../src/agent/publisher.ts';
import { topics } from '../src/core/contract.ts';
import type { Reading } from '../src/core/reading.ts';
import { openDurableQueue } from '../src/queue/durable-queue.ts';

const { values: a } = parseArgs({
  options: {
    mqtt: { type: 'string' },
    outbox: { type: 'string', default: ':memory:' },
    rate: { type: 'string', default: '500' },
    count: { type: 'string', default: '0' },
    'start-seq': { type: 'string', default: '0' },
    t0: { type: 'string' },
    station: { type: 'string', default: 'bench' },
    device: { type: 'string', default: 'gen-1' },
    'coalesce-ms': { type: 'string', default: '50' },
    'max-per-message': { type: 'string', default: '1000' },
    'max-inflight': { type: 'string', default: '1000' },
    window: { type: 'string', default: '200000' },
  },
});
if (!a.mqtt) throw new Error('--mqtt is required');
const rate = Number(a.rate);
const count = Number(a.count);
const startSeq = Number(a['start-seq']);
const t0 = a.t0 ? Number(a.t0) : Date.now() - 3_600_000;
const window = Number(a.window);

const client = mqtt.connect(a.mqtt, { protocolVersion: 4, clientId: `radscreen-load-${a.device}-${process.pid}`, reconnectPeriod: 500 });
client.on('error', () => {});
const outbox = openDurableQueue({ path: a.outbox, maxRows: 10_000_000, maxAgeMs: 7 * 86_400_000 });
const publisher = createPublisher({
  client,
  topic: topics.readings(a.station, a.device),
  outbox,
  coalesceMs: Number(a['coalesce-ms']),
  maxInflight: Number(a['max-inflight']),
  maxPerMessage: Number(a['max-per-message']),
  backlogRatePerSec: 100_000,
  onPublishError() {},
});

const makeReading = (seq: number): Reading => ({
  station: a.station,
  device: a.device,
  // mqtt-json declares `counts` (≥ 0, no upper bound): the reading's number travels there, since
  // ingest refuses channels a profile does not declare (docs/data-integrity.md).
  profile: 'mqtt-json',
  kind: 'dosimeter',
  ts: t0 + seq,
  ts_source: 'agent',
  values: { cpm: seq % 1000, dose_rate: (seq % 1000) / 175, counts: seq },
  quality: 'good',
  source: 'simulated',
});

let generated = 0;
let stopping = false;
let started = Date.now();
const report = (extra: object = {}) => {
  const p = publisher.stats();
  const m = process.memoryUsage();
  process.stdout.write(
    `${JSON.stringify({ generated, published: p.published, messages: p.messages, queued: p.queued, startedAt: started, rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, ...extra })}\n`,
  );
};

function generate(): void {
  if (stopping) return;
  const due = rate > 0 ? Math.floor(((Date.now() - started) / 1000) * rate) : generated + Math.max(0, window - publisher.stats().queued);
  const target = count > 0 ? Math.min(count, due) : due;
  while (generated < target) {
    publisher.publish(makeReading(startSeq + generated));
    generated++;
  }
  if (count > 0 && generated >= count) return;
  setTimeout(generate, rate > 0 ? 5 : 1);
}

const reporter = setInterval(report, 250);
client.once('connect', () => {
  // The benchmark times from the first reading generated, not from process start-up.
  started = Date.now();
  report();
  generate();
});
process.on('SIGTERM', async () => {
  stopping = true;
  await Promise.race([publisher.drain(), new Promise((r) => setTimeout(r, 10_000))]);
  publisher.close();
  clearInterval(reporter);
  report({ done: true, elapsedMs: Date.now() - started, totalAppended: outbox.totalAppended() });
  outbox.close();
  await client.endAsync();
  process.exit(0);
});
