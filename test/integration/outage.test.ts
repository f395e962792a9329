import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { startIngest } from '../../src/ingest/consumer.ts';
import { silentLogger } from '../../src/ingest/logger.ts';
import { countPoints, queryInflux, waitFor } from '../support/influx-query.ts';
import { type InfluxdHandle, type MosquittoHandle, startInfluxd, startMosquitto, stopChild } from '../support/services.ts';

/**
 * The "Done when" outages of issue 4, end to end on PRIVATE influxd and mosquitto instances
 * (so they can be stopped): generated readings at 500/s from a real outbox+publisher process,
 * through mosquitto, a persistent-session ingest with its SQLite spool, into InfluxDB. After each
 * outage the stored count must equal the generated count exactly (every reading has its own ts).
 */

const services = inject('services');
const RATE = 500;
const OUTAGE_MS = 30_000;
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Counters = Record<string, number | boolean>;
interface Child {
  proc: ChildProcess;
  last(): Counters | undefined;
  exited: Promise<void>;
}

/** Starts `node --import tsx bench/<script>` with args; remembers its latest JSON status line. */
function startNode(script: string, args: string[]): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', join('bench', script), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let last: Counters | undefined;
  let buf = '';
  proc.stdout?.on('data', (chunk: Buffer) => {
    buf += chunk.toString();
    const lines = buf.split('\n');
    buf = lines.pop() ?? '';
    for (const l of lines) if (l.trim()) last = JSON.parse(l) as Counters;
  });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  cleanups.push(() => stopChild(proc, 2000));
  return { proc, last: () => last, exited };
}

async function waitStarted(c: Child, key = 'generated'): Promise<void> {
  await waitFor(() => Number(c.last()?.[key] ?? -1) > 0 || c.last()?.ready === true, { timeoutMs: 20_000, describe: c.last });
}

/** SIGTERM: the agent stops generating, drains its outbox and prints its final counters. */
async function finish(c: Child): Promise<Counters> {
  c.proc.kill('SIGTERM');
  await c.exited;
  const last = c.last();
  if (!last?.done) throw new Error(`child did not finish cleanly: ${JSON.stringify(last)}`);
  return last;
}

async function startPair(name: string): Promise<{ influx: InfluxdHandle; broker: MosquittoHandle; dir: string }> {
  const dir = mkdtempSync(join(services.tmpDir, `${name}-`));
  const [influx, broker] = await Promise.all([startInfluxd(join(dir, 'influx')), startMosquitto(join(dir, 'mosquitto'))]);
  cleanups.push(
    () => influx.stop(),
    () => broker.stop(),
  );
  return { influx, broker, dir };
}

async function startLocalIngest(influx: InfluxdHandle, broker: MosquittoHandle, dir: string) {
  const ingest = await startIngest({
    mqttUrl: broker.url,
    influx: {
      url: influx.url,
      database: 'radscreen',
      retention: '30d',
      batch_size: 1000,
      flush_interval_ms: 100,
      spool_path: join(dir, 'spool.sqlite'),
    },
    log: silentLogger,
    clientId: 'ingest-outage',
  });
  cleanups.push(() => ingest.stop());
  return ingest;
}

/** Stored count equals `expected`, and the numbers (`counts`) are exactly 0..n-1 of each run (no gap, no extra). */
async function expectExactly(influx: InfluxdHandle, expected: number): Promise<void> {
  let stored = 0;
  const probe = async () => {
    stored = await countPoints(influx.url, 'radscreen', 'radiation');
    return stored >= expected;
  };
  await waitFor(probe, { timeoutMs: 60_000, everyMs: 250, describe: () => ({ stored, expected }) });
  await sleep(500); // nothing more trickles in
  expect(await countPoints(influx.url, 'radscreen', 'radiation')).toBe(expected);
  const distinct = await queryInflux(influx.url, 'radscreen', 'SELECT COUNT(DISTINCT("counts")) FROM "radiation"');
  expect(distinct.series?.[0]?.values[0]?.[1]).toBe(expected);
}

describe('zero loss through outages at 500 readings/s (issue 4)', () => {
  it('influxd stopped for 30 s: the spool keeps everything and InfluxDB ends with exactly what was generated', async () => {
    const { influx, broker, dir } = await startPair('influx-outage');
    const ingest = await startLocalIngest(influx, broker, dir);
    const agent = startNode('load-agent.ts', ['--mqtt', broker.url, '--outbox', join(dir, 'outbox.sqlite'), '--rate', String(RATE)]);
    await waitStarted(agent);
    await sleep(2000);
    await influx.stop();
    await sleep(OUTAGE_MS);
    expect(ingest.stats().writer.buffered).toBeGreaterThan(RATE * 20);
    await influx.restart();
    await sleep(2000);
    const final = await finish(agent);
    await expectExactly(influx, Number(final.generated));
    expect(ingest.stats().writer.retries).toBeGreaterThan(0);
  });

  it('mosquitto stopped for 30 s: the agent outbox keeps everything and InfluxDB ends with exactly what was generated', async () => {
    const { influx, broker, dir } = await startPair('mqtt-outage');
    await startLocalIngest(influx, broker, dir);
    const agent = startNode('load-agent.ts', ['--mqtt', broker.url, '--outbox', join(dir, 'outbox.sqlite'), '--rate', String(RATE)]);
    await waitStarted(agent);
    await sleep(2000);
    await broker.stop();
    await sleep(OUTAGE_MS);
    expect(Number(agent.last()?.queued)).toBeGreaterThan(RATE * 20);
    await broker.restart();
    await sleep(2000);
    const final = await finish(agent);
    await expectExactly(influx, Number(final.generated));
  });

  it('agent killed with SIGKILL mid-stream and restarted: what it had committed arrives exactly once', async () => {
    const { influx, broker, dir } = await startPair('agent-kill');
    await startLocalIngest(influx, broker, dir);
    const outbox = join(dir, 'outbox.sqlite');
    const t0 = String(Date.now() - 3_600_000);
    const first = startNode('load-agent.ts', ['--mqtt', broker.url, '--outbox', outbox, '--rate', String(RATE), '--t0', t0]);
    await waitStarted(first);
    await sleep(4000);
    first.proc.kill('SIGKILL');
    await first.exited;
    const second = startNode('load-agent.ts', [
      ...['--mqtt', broker.url, '--outbox', outbox, '--rate', String(RATE), '--t0', t0, '--start-seq', '1000000'],
    ]);
    await waitStarted(second);
    await sleep(3000);
    const final = await finish(second);
    // The outbox's AUTOINCREMENT sequence counts every reading ever committed, across both runs.
    const committed = Number(final.totalAppended);
    const firstRun = committed - Number(final.generated);
    expect(firstRun).toBeGreaterThan(RATE * 3);
    await expectExactly(influx, committed);
    const before = await queryInflux(
      influx.url,
      'radscreen',
      'SELECT COUNT("counts"), MAX("counts") FROM "radiation" WHERE "counts" < 1000000',
    );
    expect(before.series?.[0]?.values[0]?.slice(1)).toEqual([firstRun, firstRun - 1]);
  });

  it('an ingest worker killed with SIGKILL while two share one MQTT v5 subscription: nothing lost, nothing doubled', async () => {
    const { influx, broker, dir } = await startPair('shared-kill');
    const worker = (id: string) =>
      startNode('ingest-worker.ts', [
        ...['--mqtt', broker.url, '--influx', influx.url, '--db', 'radscreen', '--spool', join(dir, `${id}.sqlite`)],
        ...['--client-id', id, '--share-group', 'ingest', '--v5', '--batch-size', '1000'],
      ]);
    const w1 = worker('w1');
    const w2 = worker('w2');
    await Promise.all([waitStarted(w1, 'x'), waitStarted(w2, 'x')]);
    const agent = startNode('load-agent.ts', ['--mqtt', broker.url, '--outbox', join(dir, 'outbox.sqlite'), '--rate', String(RATE)]);
    await waitStarted(agent);
    await sleep(3000);
    expect(Number(w1.last()?.readings)).toBeGreaterThan(0);
    expect(Number(w2.last()?.readings)).toBeGreaterThan(0);
    w1.proc.kill('SIGKILL');
    await w1.exited;
    await sleep(2000);
    // The restarted worker resumes its persistent session (queued messages) and its spool.
    const w1again = worker('w1');
    await waitStarted(w1again, 'x');
    await sleep(2000);
    const final = await finish(agent);
    await expectExactly(influx, Number(final.generated));
    await Promise.all([finish(w1again), finish(w2)]);
  });
});
