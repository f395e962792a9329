import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { catalogue } from '../../devices/index.ts';
import { simulators } from '../../simulators/index.ts';
import { parseConfig } from '../../src/config/load.ts';
import {
  type InfluxCredentials,
  type ManagedInfluxd,
  managedInfluxCredentialsPath,
  startManagedInfluxd,
} from '../../src/station/managed-influxd.ts';
import { type Station, startStation } from '../../src/station/station.ts';
import { waitFor } from '../support/wait.ts';

/**
 * The station's private influxd runs with auth on: an admin with a generated password (0600
 * file) is created at first start; anonymous queries and writes are refused (today anyone on
 * the loopback could rewrite the dose history); ingest stores readings with the account.
 */
const basic = (c: InfluxCredentials) => ({ authorization: `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}` });
const query = (url: string, q: string, headers: Record<string, string> = {}) =>
  fetch(`${url}/query?q=${encodeURIComponent(q)}`, { method: 'POST', headers });
const write = (url: string, db: string, line: string, headers: Record<string, string> = {}) =>
  fetch(`${url}/write?db=${db}&precision=ms`, { method: 'POST', headers, body: line });

describe('managed influxd with auth on (real influxd)', () => {
  const { tmpDir } = inject('services');
  const dir = mkdtempSync(join(tmpDir, 'managed-influx-'));
  let influxd: ManagedInfluxd | undefined;
  let station: Station | undefined;
  afterAll(async () => {
    await station?.stop();
    await influxd?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates an admin at first start, refuses anonymous queries and writes, keeps the password across restarts', async () => {
    const home = join(dir, 'alone');
    influxd = await startManagedInfluxd(home, 0);
    const path = managedInfluxCredentialsPath(home);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const stored = JSON.parse(readFileSync(path, 'utf8'));
    expect(stored).toMatchObject({ username: 'radscreen', password: influxd.credentials.password, url: influxd.url });
    expect(influxd.credentials.password.length).toBeGreaterThanOrEqual(32);

    expect((await query(influxd.url, 'CREATE DATABASE probe', basic(influxd.credentials))).status).toBe(200);
    const anonQuery = await query(influxd.url, 'SHOW DATABASES');
    expect(anonQuery.status).toBe(401);
    const anonWrite = await write(influxd.url, 'probe', 'radiation,device=x dose_rate=1e-9 1700000000000');
    expect(anonWrite.status).toBe(401);
    // Nor may anyone make themselves admin now that one exists.
    const grab = await query(influxd.url, "CREATE USER eve WITH PASSWORD 'eve' WITH ALL PRIVILEGES");
    expect(grab.status).toBe(401);
    const wrong = await query(influxd.url, 'SHOW DATABASES', basic({ username: 'radscreen', password: 'guess' }));
    expect(wrong.status).toBe(401);
    expect((await write(influxd.url, 'probe', 'radiation,device=x dose_rate=0.1 1700000000000', basic(influxd.credentials))).status).toBe(
      204,
    );

    const password = influxd.credentials.password;
    await influxd.stop();
    influxd = await startManagedInfluxd(home, 0);
    expect(influxd.credentials.password).toBe(password);
    const rows = await query(influxd.url, 'SELECT count(dose_rate) FROM probe..radiation', basic(influxd.credentials));
    expect(JSON.stringify(await rows.json())).toMatch(/"values":\[\[[^\]]*,1\]\]/);
    expect((await query(influxd.url, 'SHOW DATABASES')).status).toBe(401);

    // A lost password file is not papered over with a new admin: the start fails with a clear message.
    await influxd.stop();
    influxd = undefined;
    unlinkSync(path);
    await expect(startManagedInfluxd(home, 0)).rejects.toThrow(/admin user whose password is not in/);
  });

  it('a station stores readings in its private influxd through the generated account', async () => {
    const dataDir = join(dir, 'station');
    const config = parseConfig(
      `
station: { id: authd }
data_dir: ${dataDir}
mqtt: { embedded: { port: 0 } }
influx: { database: authd, flush_interval_ms: 100 }
server: { port: 0 }
devices:
  - { id: g1, profile: mightyohm-geiger, simulate: { tick_ms: 50, seed: 3 } }
`,
      { catalogue, env: {} },
    );
    station = await startStation({ config, catalogue, simulators, log: pino({ level: 'silent' }) });
    const url = station.influxUrl as string;
    const credentials = JSON.parse(readFileSync(managedInfluxCredentialsPath(join(dataDir, 'influxdb')), 'utf8')) as InfluxCredentials;
    const count = async () => {
      const res = await query(url, 'SELECT count(quality) FROM authd..radiation', basic(credentials));
      const body = (await res.json()) as { results: [{ series?: [{ values: [[number, number]] }] }] };
      return body.results[0].series?.[0]?.values[0]?.[1] ?? 0;
    };
    await waitFor(async () => (await count()) >= 5, { timeoutMs: 20_000, describe: () => station?.deviceStats() });
    expect((await query(url, 'SELECT count(quality) FROM authd..radiation')).status).toBe(401);

    // `radscreen import` with the same data_dir and no influx settings finds the private influxd and its account.
    const configFile = join(dir, 'import.yaml');
    writeFileSync(
      configFile,
      `station: { id: authd }\ndata_dir: ${dataDir}\ninflux: { database: authd_import, retention: INF, flush_interval_ms: 50 }\n`,
    );
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('RADSCREEN_')));
    const r = spawnSync(
      process.execPath,
      [
        'bin/radscreen.js',
        'import',
        '--profile',
        'safecast-bgeigie',
        'devices/safecast-bgeigie/fixtures/bgeigie_with_corruption.log',
      ].concat(['--config', configFile, '--source', 'replay']),
      { env: { ...env, NO_COLOR: '1' }, encoding: 'utf8', timeout: 60_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    const imported = await query(url, 'SELECT count(quality) FROM authd_import."import".radiation', basic(credentials));
    expect(JSON.stringify(await imported.json())).toMatch(/"values":\[\[[^\]]*,7\]\]/);
  });
});
