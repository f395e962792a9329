import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSpool, type Spool, type SpoolOptions, upgradeMsRow } from '../../src/ingest/spool.ts';

/** A stand-in for influxd's /write: answers with whatever `reply` says and records stored lines. */
async function fakeInflux() {
  const stored: string[] = [];
  // `sizes`: the lines of each POST, in arrival order.
  const state = { status: 204, body: '', posts: 0, sizes: [] as number[] };
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      state.posts++;
      state.sizes.push(Buffer.concat(parts).toString().split('\n').length);
      if (state.status === 204) stored.push(...Buffer.concat(parts).toString().split('\n'));
      res.writeHead(state.status, { 'content-type': 'application/json' }).end(state.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, stored, state, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const dir = mkdtempSync(join(tmpdir(), 'radscreen-spool-'));
let n = 0;
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
const lines = (from: number, count: number) =>
  Array.from({ length: count }, (_, i) => `m,t=a v=${from + i} ${(1_700_000_000_000 + from + i) * 1000}`);

async function setup(extra: Partial<SpoolOptions> = {}) {
  const influx = await fakeInflux();
  cleanups.push(influx.close);
  const events: string[] = [];
  const spool: Spool = openSpool({
    path: join(dir, `s${n++}.sqlite`),
    url: influx.url,
    database: 'db',
    batchSize: 100,
    flushIntervalMs: 10,
    maxRows: 1000,
    maxAgeMs: 60_000,
    retryBaseMs: 10,
    retryMaxMs: 20,
    faultRetryMs: 20,
    onDrop: (ls, info) => events.push(`drop ${info.reason} ${ls.length}`),
    onFault: (f) => events.push(f ? `fault ${f.code}` : 'fault cleared'),
    onHighWater: (high) => events.push(`high ${high}`),
    onSpoolDrop: (reason, count) => events.push(`spool ${reason} ${count}`),
    ...extra,
  });
  cleanups.push(() => spool.close(100));
  return { influx, spool, events };
}

describe('ingest spool', () => {
  it('writes everything in batches, oldest first, and empties itself', async () => {
    const { influx, spool } = await setup();
    expect(spool.append(lines(0, 250))).toBe(250);
    expect(await spool.flush(5000)).toBe(true);
    expect(influx.stored).toEqual(lines(0, 250));
    expect(spool.stats()).toMatchObject({ written: 250, buffered: 0 });
  });

  it('keeps the data through 5xx, and through 401 with a service fault, then writes it', async () => {
    const { influx, spool, events } = await setup();
    influx.state.status = 500;
    influx.state.body = '{"error":"engine: error syncing wal"}';
    spool.append(lines(0, 150));
    await new Promise((r) => setTimeout(r, 100));
    expect(spool.stats().retries).toBeGreaterThan(1);
    influx.state.status = 401;
    influx.state.body = '{"error":"authorization failed"}';
    await new Promise((r) => setTimeout(r, 100));
    expect(spool.stats()).toMatchObject({ written: 0, buffered: 150, fault: { code: 'RS_ERR_INFLUX_AUTH' } });
    influx.state.status = 204;
    expect(await spool.flush(5000)).toBe(true);
    expect(new Set(influx.stored)).toEqual(new Set(lines(0, 150)));
    expect(events).toEqual(['fault RS_ERR_INFLUX_AUTH', 'fault cleared']);
  });

  it('dead-letters bad data with its reason and goes on', async () => {
    const { influx, spool, events } = await setup();
    influx.state.status = 400;
    influx.state.body = '{"error":"unable to parse \'m,t=a v=\': missing field value"}';
    spool.append(lines(0, 100));
    expect(await spool.flush(5000)).toBe(true);
    expect(events).toEqual(['drop bad_data 100']);
    expect(spool.stats().dropped.bad_data).toBe(100);
  });

  it('when full: raises the 80 % alarm, refuses and counts what it cannot keep', async () => {
    const { influx, spool, events } = await setup();
    influx.state.status = 503;
    expect(spool.append(lines(0, 700))).toBe(700);
    expect(events).toEqual([]);
    expect(spool.append(lines(700, 500))).toBe(300);
    expect(events).toEqual(['high true', 'spool full 200']);
    expect(spool.stats()).toMatchObject({ buffered: 1000, highWater: true, dropped: { full: 200 } });
    influx.state.status = 204;
    expect(await spool.flush(5000)).toBe(true);
    expect(new Set(influx.stored).size).toBe(1000);
    expect(events.at(-1)).toBe('high false');
  });

  it('replays what an earlier process left, and sends live points before that backlog', async () => {
    const path = join(dir, `s${n++}.sqlite`);
    const first = await setup({ path });
    first.influx.state.status = 503;
    first.spool.append(lines(0, 300));
    expect(await first.spool.close(50)).toBe(300);
    const { influx, spool } = await setup({ path, backlogRatePerSec: 100 });
    spool.append(lines(1000, 100));
    expect(await spool.flush(10_000)).toBe(true);
    expect(influx.stored.slice(0, 100)).toEqual(lines(1000, 100));
    expect(new Set(influx.stored.slice(100))).toEqual(new Set(lines(0, 300)));
  });

  it('after an outage, what arrived during the retry wait is written before the backlog', async () => {
    const { influx, spool } = await setup({ retryBaseMs: 300, retryMaxMs: 300, backlogRatePerSec: 200 });
    influx.state.status = 503;
    spool.append(lines(0, 300)); // the outage's backlog
    await new Promise((r) => setTimeout(r, 100)); // the first POST failed; the retry waits 300 ms
    expect(spool.stats().retries).toBeGreaterThanOrEqual(1);
    spool.append(lines(1000, 50)); // fresh readings during the wait
    influx.state.status = 204;
    expect(await spool.flush(10_000)).toBe(true);
    expect(influx.stored.slice(0, 50)).toEqual(lines(1000, 50));
    expect(new Set(influx.stored.slice(50))).toEqual(new Set(lines(0, 300)));
  });

  it('drains backlog in POSTs of one spool row (not a whole batch), in order, with rows sent unjoined', async () => {
    // batchSize 100 → rows of 20 lines: a backlog POST reads and sends one row, so one
    // event-loop turn never reads, encodes and writes a whole batch of backlog (bench:drain).
    const path = join(dir, `s${n++}.sqlite`);
    const first = await setup({ path });
    first.influx.state.status = 503;
    first.spool.append(lines(0, 200));
    expect(await first.spool.close(50)).toBe(200);
    const { influx, spool } = await setup({ path });
    expect(await spool.flush(10_000)).toBe(true);
    expect(influx.stored).toEqual(lines(0, 200));
    expect(influx.state.sizes).toEqual(Array(10).fill(20));
    // Live batches still go whole: five rows of 20 in one POST, sent as rows with \n between.
    spool.append(lines(1000, 100));
    expect(await spool.flush(10_000)).toBe(true);
    expect(influx.state.sizes.slice(10)).toEqual([100]);
    expect(influx.stored.slice(200)).toEqual(lines(1000, 100));
  });
});

describe('upgradeMsRow: spools from before µs point identity', () => {
  it('turns a row of ms-stamped lines into µs and leaves µs rows alone', () => {
    const ms = 'radiation,device=d,profile=p,source=live,station=s cpm=1,quality="good",ts_source="agent" 1795000000123';
    const us = 'radiation,device=d,profile=p,source=live,station=s cpm=1,quality="good",ts_source="agent" 1795000000123004';
    expect(upgradeMsRow(`${ms}\n${ms}`)).toBe(`${ms}000\n${ms}000`);
    expect(upgradeMsRow(`${us}\n${us}`)).toBe(`${us}\n${us}`);
  });
});
