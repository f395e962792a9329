import { describe, expect, inject, it } from 'vitest';
import { createLinePoster } from '../../src/ingest/influx-http.ts';
import { ensureSchema, ROLLUP_POLICY, rollupQueries } from '../../src/ingest/schema.ts';
import { queryInflux, waitFor } from '../support/influx-query.ts';

/**
 * Retention policies and 1-minute rollups (issue 4 §4) against the real influxd, whose CQ
 * run-interval is 1 s in the test set-up; the CQs resample every 1 s here instead of every minute.
 */
const services = inject('services');

describe('InfluxDB schema: retention policies and rollup continuous queries', () => {
  it('is idempotent, and a rollup point appears after raw points are written', async () => {
    const db = `schema_${Date.now()}`;
    const opts = { url: services.influxUrl, database: db, retention: '30d', rollup_retention: '52w', rollupEvery: '1s' };
    await ensureSchema(opts);
    await ensureSchema(opts); // twice: no error, nothing doubled

    const rps = await queryInflux(services.influxUrl, db, `SHOW RETENTION POLICIES ON "${db}"`);
    const names = (rps.series?.[0]?.values ?? []).map((v) => [v[0], v[4]]);
    expect(names).toEqual(
      expect.arrayContaining([
        ['raw', true],
        [ROLLUP_POLICY, false],
      ]),
    );
    const cqs = await queryInflux(services.influxUrl, db, 'SHOW CONTINUOUS QUERIES');
    const mine = (cqs.series ?? []).find((s) => s.name === db)?.values?.map((v) => v[0]) ?? [];
    const wanted = rollupQueries(db, '1s').map((q) => q.name);
    expect(wanted.length).toBeGreaterThan(0);
    expect([...mine].sort()).toEqual([...wanted].sort());

    // Raw points in the previous minute, so the rollup of that minute is complete.
    const base = Math.floor(Date.now() / 60_000) * 60_000 - 60_000;
    const poster = createLinePoster({ url: services.influxUrl, database: db });
    const lines = [1, 2, 3].map(
      (v, i) =>
        `radiation,device=d1,profile=mightyohm-geiger,source=simulated,station=s1 cpm=${v * 10},dose_rate=${v} ${(base + i * 1000) * 1000}`,
    );
    expect((await poster.post(lines.join('\n'))).kind).toBe('ok');
    poster.destroy();

    let rows: unknown[][] = [];
    await waitFor(
      async () => {
        const r = await queryInflux(
          services.influxUrl,
          db,
          `SELECT "dose_rate", "dose_rate_max", "cpm" FROM "${ROLLUP_POLICY}"."radiation"`,
        );
        rows = r.series?.[0]?.values ?? [];
        return rows.length > 0;
      },
      // Generous: influxd's CQ service runs every database's CQs in turn, and late in a full run the
      // shared test influxd holds hundreds of databases; 15 s was once not enough (CI, 18:45 UTC 2026-12-07).
      { timeoutMs: 60_000, everyMs: 250, describe: () => rows },
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]?.slice(1)).toEqual([2, 3, 20]);
  });
});
