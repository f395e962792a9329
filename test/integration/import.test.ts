import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { type IngestHandle, startIngest } from '../../src/ingest/consumer.ts';
import { silentLogger } from '../../src/ingest/logger.ts';
import { ensureSchema } from '../../src/ingest/schema.ts';
import { countPoints, queryInflux, waitFor } from '../support/influx-query.ts';

const services = inject('services');
let seq = 0;
const fresh = (what: string) => `import_${what}_${process.pid}_${Date.now()}_${seq++}`;
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

// The config names where readings go; variables from the caller's shell must not redirect them.
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('RADSCREEN_')));

/** Runs the CLI without blocking this process (the ingest under test lives here). */
function cli(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/radscreen.js', ...args], { env: { ...env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

function writeConfig(name: string, yaml: string): string {
  const dir = join(services.tmpDir, 'import-test');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, yaml);
  return file;
}

/** Retention policies of `db` by name. */
async function policies(db: string): Promise<Record<string, { duration: string; default: boolean }>> {
  const r = await queryInflux(services.influxUrl, db, `SHOW RETENTION POLICIES ON "${db}"`);
  const cols = r.series?.[0]?.columns ?? [];
  return Object.fromEntries(
    (r.series?.[0]?.values ?? []).map((v) => [
      v[cols.indexOf('name')],
      { duration: v[cols.indexOf('duration')], default: v[cols.indexOf('default')] },
    ]),
  );
}

/** Points in the `import` policy's radiation measurement. */
async function countImported(db: string): Promise<number> {
  const r = await queryInflux(services.influxUrl, db, 'SELECT count("quality") FROM "import"."radiation"');
  return Number(r.series?.[0]?.values[0]?.[1] ?? 0);
}

const acceptedIn = (stderr: string) => Number(/accepted (\d+), rejected \d+/.exec(stderr)?.[1] ?? Number.NaN);

describe('radscreen import: a Safecast log into real mosquitto + ingest + influxd', () => {
  it('publishes every decoded reading and the ingest stores exactly that many points, tagged replay', async () => {
    const db = fresh('mqtt');
    const station = `imp${seq}`;
    const ingest: IngestHandle = await startIngest({
      mqttUrl: services.mqttUrl,
      // The log is from 2012: a finite retention policy would drop every point as too old.
      influx: { url: services.influxUrl, database: db, retention: 'INF', batch_size: 500, flush_interval_ms: 50 },
      log: silentLogger,
    });
    cleanups.push(() => ingest.stop());
    const config = writeConfig(db, `station: { id: ${station} }\nmqtt: { url: '${services.mqttUrl}' }\n`);

    const r = await cli([
      'import',
      '--profile',
      'safecast-bgeigie',
      'devices/safecast-bgeigie/fixtures/204-0920.head120.LOG',
      '--config',
      config,
    ]);
    expect(r.stderr).toMatch(/import: 100% of [\d.]+ (kB|MB|B), 118 readings, \d+\/s, done/);
    expect(r.status).toBe(0);
    const accepted = acceptedIn(r.stderr);
    expect(accepted).toBe(118);
    expect(r.stderr).toContain(`imported 118 readings from devices/safecast-bgeigie/fixtures/204-0920.head120.LOG to ${services.mqttUrl}`);

    // Replayed history is stored in the `import` retention policy (docs/data-integrity.md).
    await waitFor(async () => (await countImported(db)) >= accepted, {
      timeoutMs: 20_000,
      describe: () => ingest.stats(),
    });
    // Exactly that many: nothing duplicated, nothing extra arriving late.
    await new Promise((r) => setTimeout(r, 300));
    expect(await countImported(db)).toBe(accepted);
    expect(await countPoints(services.influxUrl, db, 'radiation')).toBe(0); // nothing in `raw`
    const tags = await queryInflux(services.influxUrl, db, 'SHOW TAG VALUES FROM "radiation" WITH KEY IN ("source", "station", "device")');
    expect(tags.series?.[0]?.values).toEqual(
      expect.arrayContaining([
        ['device', 'safecast-bgeigie'],
        ['source', 'replay'],
        ['station', station],
      ]),
    );
    expect(ingest.stats().deadLettered).toEqual({});
  });

  it('writes straight to InfluxDB when no broker is configured, counting only accepted readings', async () => {
    const db = fresh('direct');
    const config = writeConfig(
      db,
      `station: { id: direct }\ninflux: { url: '${services.influxUrl}', database: ${db}, retention: INF, flush_interval_ms: 50 }\n`,
    );
    const r = await cli([
      'import',
      '--profile',
      'safecast-bgeigie',
      'devices/safecast-bgeigie/fixtures/bgeigie_with_corruption.log',
      '--config',
      config,
      '--source',
      'training',
    ]);
    expect(r.stderr).toContain('accepted 7, rejected 3');
    expect(r.status, r.stderr).toBe(0);
    expect(await countImported(db)).toBe(7);
    const sources = await queryInflux(services.influxUrl, db, 'SHOW TAG VALUES FROM "radiation" WITH KEY = "source"');
    expect(sources.series?.[0]?.values).toEqual([['source', 'training']]);
  });

  it('refuses readings older than the import policy keeps with RS_ERR_RETENTION, and exits 1', async () => {
    const db = fresh('old');
    const config = writeConfig(
      db,
      `station: { id: direct }\ninflux: { url: '${services.influxUrl}', database: ${db}, import_retention: 30d }\n`,
    );
    const r = await cli(['import', '--profile', 'safecast-bgeigie', 'devices/safecast-bgeigie/fixtures/bgeigie.log', '--config', config]);
    expect(r.stderr).toMatch(/RS_ERR_RETENTION: 23 readings are older than the 'import' retention policy keeps \(720h0m0s\)/);
    expect(r.stderr).toMatch(/23 readings were not stored/);
    expect(r.status).toBe(1);
  });

  it('never alters the station’s retention policies: imports into `import`, queryable, and kept through a station start', async () => {
    const db = fresh('rp');
    // The running station's schema: raw 30 d (default), rollups 52 w.
    await ensureSchema({ url: services.influxUrl, database: db, retention: '30d' });
    const before = await policies(db);
    // An import config that asks for INF (the finding): it must not touch `raw`.
    const config = writeConfig(
      db,
      `station: { id: imp }\ninflux: { url: '${services.influxUrl}', database: ${db}, retention: INF, flush_interval_ms: 50 }\n`,
    );
    const r = await cli(['import', '--profile', 'safecast-bgeigie', 'devices/safecast-bgeigie/fixtures/bgeigie.log', '--config', config]);
    expect(r.status, r.stderr).toBe(0);
    const after = await policies(db);
    expect(after.raw).toEqual(before.raw);
    expect(after.rollup_1m).toEqual(before.rollup_1m);
    expect(after.import).toEqual({ duration: '0s', default: false });
    // The readings are from 2012: kept in `import`, found by a query over both policies (the Grafana panels' form).
    const both = 'SELECT count("cpm") FROM "raw"."radiation", "import"."radiation"';
    const count = async () => (await queryInflux(services.influxUrl, db, both)).series?.[0]?.values[0]?.[1];
    expect(await count()).toBe(23);
    // The next station start sets up its policies again (30 d): the imported history survives it.
    await ensureSchema({ url: services.influxUrl, database: db, retention: '30d' });
    expect((await policies(db)).import).toEqual({ duration: '0s', default: false });
    expect(await count()).toBe(23);
  });

  it('refuses a config with neither mqtt.url nor influx.url (exit 2)', async () => {
    const config = writeConfig('nowhere', 'station: { id: nowhere }\ninflux: { managed: never }\n');
    const r = await cli(['import', '--profile', 'safecast-bgeigie', 'devices/safecast-bgeigie/fixtures/bgeigie.log', '--config', config]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/sets neither mqtt\.url nor influx\.url/);
  });
});
