/**
 * One ingest worker process (src/ingest/consumer.ts), for `npm run bench:ingest` and the outage
 * tests, which SIGKILL workers and restart them with the same client id and spool.
 *
 *   node --import tsx bench/ingest-worker.ts --mqtt URL --influx URL --db NAME --spool FILE \
 *     --client-id ID [--share-group ingest] [--connections N] [--v5] [--batch-size 5000] [--flush-ms 100] [--expect N]
 *     [--alarm-probe TOPIC] [--backlog-rate POINTS_PER_S]
 *
 * `--alarm-probe TOPIC` also runs a station's alarm path in this process (bench/alarm-probe.ts) on
 * the readings of TOPIC and reports each one's publish → evaluated latency (`alarm`).
 * Prints one JSON line of stats every 250 ms (the first once subscribed); SIGTERM stops cleanly.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { startIngest } from '../src/ingest/consumer.ts';
import { silentLogger } from '../src/ingest/logger.ts';
import { startAlarmProbe } from './alarm-probe.ts';

const { values: a } = parseArgs({
  options: {
    mqtt: { type: 'string' },
    influx: { type: 'string' },
    db: { type: 'string', default: 'radscreen' },
    spool: { type: 'string' },
    'client-id': { type: 'string' },
    'share-group': { type: 'string' },
    connections: { type: 'string', default: '1' },
    v5: { type: 'boolean', default: false },
    'batch-size': { type: 'string', default: '5000' },
    'flush-ms': { type: 'string', default: '100' },
    expect: { type: 'string' },
    'alarm-probe': { type: 'string' },
    'backlog-rate': { type: 'string' },
  },
});
if (!a.mqtt || !a.influx) throw new Error('--mqtt and --influx are required');

const ingest = await startIngest({
  mqttUrl: a.mqtt,
  // As `radscreen ingest` does: MQTT 5 with a shared subscription or several connections.
  ...(a.v5 || a['share-group'] || Number(a.connections) > 1 ? { mqttOptions: { protocolVersion: 5 } } : {}),
  influx: {
    url: a.influx,
    database: a.db,
    retention: '30d',
    batch_size: Number(a['batch-size']),
    flush_interval_ms: Number(a['flush-ms']),
    ...(a.spool ? { spool_path: a.spool } : {}),
    ...(a['backlog-rate'] ? { backlog_rate_per_s: Number(a['backlog-rate']) } : {}),
  },
  log: silentLogger,
  ...(a['client-id'] ? { clientId: a['client-id'] } : {}),
  ...(a['share-group'] ? { shareGroup: a['share-group'] } : {}),
  connections: Number(a.connections),
});
const probe = a['alarm-probe'] ? await startAlarmProbe(a.mqtt, a['alarm-probe']) : undefined;
let writtenAllAt: number | undefined;
// Event-loop delay since the last report, ms: how late this process could be to handle anything
// (a live reading, an alarm in a station) while it works through a backlog (bench/drain.ts).
const loopDelay = monitorEventLoopDelay({ resolution: 5 });
loopDelay.enable();
const report = (extra: object = {}) => {
  const s = ingest.stats();
  // Where the memory is (bench:ingest prints the breakdown at each process's peak RSS).
  const m = process.memoryUsage();
  process.stdout.write(
    `${JSON.stringify({ messages: s.messages, readings: s.readings, written: s.writer.written, buffered: s.writer.buffered, retries: s.writer.retries, rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, writtenAllAt, loopDelayP99Ms: loopDelay.percentile(99) / 1e6, loopDelayMaxMs: loopDelay.max / 1e6, ...(probe ? { alarm: probe.take() } : {}), ...extra })}\n`,
  );
  loopDelay.reset();
};
report({ ready: true });
const timer = setInterval(report, 250);
// --expect N: report the moment N points are written (the benchmark's end time), not up to 250 ms later.
const expected = Number(a.expect ?? 0);
const watch =
  expected > 0 &&
  setInterval(() => {
    if (ingest.stats().writer.written < expected) return;
    if (watch) clearInterval(watch);
    writtenAllAt = Date.now();
    report();
  }, 2);
process.on('SIGTERM', async () => {
  clearInterval(timer);
  await ingest.stop();
  await probe?.stop();
  report({ done: true });
  process.exit(0);
});
