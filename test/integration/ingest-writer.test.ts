import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createInfluxWriter, type InfluxWriter } from '../../src/ingest/influx-writer.ts';
import { ensureSchema } from '../../src/ingest/schema.ts';
import { countPoints, waitFor } from '../support/influx-query.ts';
import { type InfluxdHandle, startInfluxd } from '../support/services.ts';

/**
 * The writer's zero-loss rules against a real influxd: a private instance is stopped and
 * restarted (outage), the shared one serves the bad-data rule.
 */

const services = inject('services');
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

let seq = 0;
/**
 * `n` distinct points (one device each 1 ms apart) ending about now, or `ageMs` ago. Stamps are µs:
 * the writer posts with `precision=u` (line-protocol.ts), so a ms stamp would land in 1970.
 */
function lines(n: number, tag: string, ageMs = 0): string[] {
  const t0 = Date.now() - ageMs - n;
  return Array.from({ length: n }, (_, i) => `radiation,device=d${i % 7},station=${tag} cpm=${i},quality="good" ${(t0 + i) * 1000}`);
}

async function privateInfluxd(): Promise<InfluxdHandle> {
  const influx = await startInfluxd(mkdtempSync(join(services.tmpDir, 'writer-influx-')));
  cleanups.push(() => influx.stop());
  return influx;
}

function writerFor(url: string, database: string, extra: Partial<Parameters<typeof createInfluxWriter>[0]> = {}): InfluxWriter {
  const w = createInfluxWriter({ url, database, batchSize: 500, flushIntervalMs: 20, retryBaseMs: 50, retryMaxMs: 400, ...extra });
  cleanups.push(() => w.close(1000));
  return w;
}

describe('influx writer against real influxd', () => {
  it('keeps every accepted point through an outage, holds writers back when full, and writes them all after a restart', async () => {
    const influx = await privateInfluxd();
    const db = `outage_${seq++}`;
    await ensureSchema({ url: influx.url, database: db, retention: '30d' });
    const w = writerFor(influx.url, db, { maxBufferedPoints: 2000 });

    await w.write(lines(300, 'before'));
    expect(await w.flush(5000)).toBe(true);

    await influx.stop();
    await w.write(lines(1500, 'during'));
    await waitFor(() => w.stats().retries >= 3, { timeoutMs: 10_000, describe: () => w.stats() });
    expect(w.stats()).toMatchObject({ written: 300, buffered: 1500, lastError: { code: 'RS_ERR_INFLUX_UNAVAILABLE' } });
    expect(w.stats().lastError?.message).toMatch(/ECONNREFUSED/);

    // Beyond maxBufferedPoints the caller waits (the ingest then withholds its MQTT PUBACK).
    let accepted = false;
    const pending = w.write(lines(1000, 'blocked')).then(() => {
      accepted = true;
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(accepted).toBe(false);
    expect(await w.flush(200)).toBe(false);

    await influx.restart();
    await pending;
    expect(await w.flush(20_000)).toBe(true);
    expect(await countPoints(influx.url, db, 'radiation')).toBe(2800);
    const stats = w.stats();
    expect(stats).toMatchObject({ written: 2800, buffered: 0 });
    expect(Object.values(stats.dropped).every((n) => n === 0)).toBe(true);
    console.info(`writer outage: ${stats.retries} retries, 2800/2800 points stored after restart`);
  });

  it('starts against a closed port and delivers everything once influxd listens there', async () => {
    const influx = await privateInfluxd();
    const db = `late_${seq++}`;
    await ensureSchema({ url: influx.url, database: db, retention: '30d' });
    await influx.stop();
    const w = writerFor(influx.url, db);
    await w.write(lines(1234, 'late'));
    await waitFor(() => w.stats().retries >= 2, { timeoutMs: 10_000, describe: () => w.stats() });
    expect(w.stats().written).toBe(0);
    await influx.restart();
    expect(await w.flush(20_000)).toBe(true);
    expect(await countPoints(influx.url, db, 'radiation')).toBe(1234);
  });

  it('drops points influxd refuses as bad data, reports them for dead-lettering, and still writes the good ones', async () => {
    const db = `bad_${seq++}`;
    await ensureSchema({ url: services.influxUrl, database: db, retention: '1d' });
    const drops: Array<{ reason: string; n: number }> = [];
    const w = writerFor(services.influxUrl, db, {
      batchSize: 100,
      onDrop: (ls, info) => drops.push({ reason: info.reason, n: ls.length }),
    });

    await w.write(lines(100, 'old', 3 * 86_400_000));
    expect(await w.flush(5000)).toBe(true);
    await w.write(lines(250, 'fresh'));
    await w.write([`radiation,device=x quality=12 ${Date.now() * 1000}`]);
    expect(await w.flush(5000)).toBe(true);

    // The whole batch goes to onDrop (influxd does not say which line it refused)…
    expect(drops).toEqual([
      { reason: 'retention', n: 100 },
      { reason: 'type_conflict', n: 51 },
    ]);
    // …but the counters follow influxd's `dropped=N`.
    const stats = w.stats();
    expect(stats.dropped).toMatchObject({ retention: 100, type_conflict: 1 });
    expect(stats.lastError?.code).toBe('RS_ERR_INFLUX_BAD_DATA');
    // The 400 "partial write" stored the 50 good points of the mixed batch: nothing good is lost.
    expect(await countPoints(services.influxUrl, db, 'radiation')).toBe(250);
    expect(stats.written).toBe(250);
  });
});
