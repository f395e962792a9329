import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { tableCounts } from '../../src/backup/backup.ts';
import { countPoints, openManagedInflux } from '../../src/backup/influx.ts';
import type { BackupManifest } from '../../src/backup/manifest.ts';
import { calibrationStorePath, openCalibrationStore } from '../../src/calibration/store.ts';
import { authStorePath, openAuthStore } from '../../src/server/auth/store.ts';
import { freePort } from '../support/services.ts';
import { waitFor } from '../support/wait.ts';

/**
 * A real `radscreen station` process (embedded broker, private influxd on influx.managed_port,
 * a simulated counter raising an alarm) gets users, audit rows, a calibration and points; then
 * `radscreen backup` while it runs, `radscreen restore` refused while it runs, and after it stops
 * a restore into an empty data dir brings back the same rows and points.
 */
const cli = (args: string[]) => spawnSync(process.execPath, ['bin/radscreen.js', ...args], { encoding: 'utf8', timeout: 90_000 });

describe('radscreen backup / restore (real station process, real influxd)', () => {
  const { tmpDir } = inject('services');
  const root = mkdtempSync(join(tmpDir, 'backup-'));
  let station: ChildProcess | undefined;
  let stderr = '';
  afterAll(async () => {
    if (station && station.exitCode === null) {
      station.kill('SIGKILL');
      await new Promise((r) => station?.once('exit', r));
    }
    rmSync(root, { recursive: true, force: true });
  });

  // Server and broker take port 0 (chosen when they listen): a port picked free in advance stays
  // unbound until the server starts, and the private influxd, started first, once drew the same
  // one for its RPC service (EADDRINUSE, 2026-12-07).
  const configFor = async (dataDir: string, influxPort: number) => {
    const path = join(root, `${dataDir.split('/').pop()}.yaml`);
    writeFileSync(
      path,
      `station: { id: bk1 }
data_dir: ${dataDir}
server: { host: 127.0.0.1, port: 0 }
mqtt: { embedded: { host: 127.0.0.1, port: 0 } }
influx: { managed_port: ${influxPort}, flush_interval_ms: 100 }
alarms: { dose_rate_usvh: 1.0, deadband_usvh: 0.2 }
devices:
  - id: chute
    profile: mightyohm-geiger
    simulate: { background_usvh: 0.1, seed: 3, events: [{ at_s: 0, duration_s: 60, peak_usvh: 5, shape: step }] }
`,
    );
    return path;
  };

  it('backs up online, refuses a restore while running, restores the same rows and points into an empty data dir', async () => {
    const live = join(root, 'live');
    const influxPort = await freePort();
    const liveConfig = await configFor(live, influxPort);
    station = spawn(process.execPath, ['bin/radscreen.js', 'station', '--config', liveConfig], { stdio: ['ignore', 'pipe', 'pipe'] });
    // The log (pino, stdout) and the banner (stderr), in one place.
    for (const stream of [station.stdout, station.stderr])
      stream?.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
    await waitFor(() => /is running/.test(stderr), { timeoutMs: 40_000, describe: () => stderr.slice(-2000) });
    // The private influxd took the configured port, and the log says why.
    expect(stderr).toMatch(new RegExp(`"url":"http://127.0.0.1:${influxPort}".*"port_choice":"influx.managed_port"`));
    expect(readdirPids(live)).toEqual([expect.stringMatching(/^station-\d+\.pid$/)]);

    // Rows written by another process while the station runs (WAL): a user, an audit row, a calibration.
    const auth = openAuthStore(authStorePath(live));
    auth.putUser('auditor', 'operator', 'x'.repeat(60));
    auth.appendAudit({ ts: Date.now(), user: 'auditor', role: 'operator', action: 'login', target: null, ok: true, detail: {}, ip: null });
    auth.close();
    const cal = openCalibrationStore(calibrationStorePath(live));
    cal.append({
      device: 'chute',
      profile: 'mightyohm-geiger',
      kind: 'sensitivity',
      factor: 153.8,
      calibrated_at: Date.now(),
      due: '2027-12-01',
      reference: { nuclide: 'Cs-137', activity_bq: 3.7e5, certificate: 'PTB-1' },
      technician: 'tech',
      comment: null,
      recorded_at: Date.now(),
    });
    cal.close();
    await waitFor(
      () => existsSync(join(live, 'alarms.sqlite')) && Object.values(tableCounts(join(live, 'alarms.sqlite'))).some((n) => n > 0),
      {
        timeoutMs: 30_000,
      },
    );
    const ep = await openManagedInflux(join(live, 'influxdb'), { mayStart: false });
    await waitFor(async () => Object.values(await countPoints(ep, 'radscreen')).some((n) => n >= 3), { timeoutMs: 30_000 });

    const online = join(root, 'online');
    const backup = cli(['backup', online, '--config', liveConfig]);
    expect(backup.stderr).toBe('');
    expect(backup.status).toBe(0);
    const manifest = JSON.parse(readFileSync(join(online, 'manifest.json'), 'utf8')) as BackupManifest;
    const tables = Object.fromEntries(manifest.sqlite.map((s) => [s.path, s.tables]));
    expect(tables['users.sqlite']?.users).toBeGreaterThanOrEqual(5);
    expect(tables['users.sqlite']?.audit).toBeGreaterThanOrEqual(1);
    expect(tables['calibrations.sqlite']?.calibrations).toBe(1);
    expect(Object.values(tables['alarms.sqlite'] ?? {}).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    expect(manifest.files.map((f) => f.path)).toEqual(expect.arrayContaining(['influxdb/admin-credentials.json']));
    expect('database' in manifest.influx && Object.values(manifest.influx.points).some((n) => n >= 3)).toBe(true);

    // Restoring into the running station's data dir is refused: it is in use.
    const refused = cli(['restore', online, '--config', liveConfig]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/is in use by radscreen \(station \d+\)/);

    station.kill('SIGTERM');
    await new Promise((r) => station?.once('exit', r));
    expect(readdirPids(live)).toEqual([]);

    // An offline backup of the stopped station, and both restored into empty data dirs.
    const offline = join(root, 'offline');
    expect(cli(['backup', offline, '--config', liveConfig]).status).toBe(0);
    const finalTables = Object.fromEntries(manifest.sqlite.map((s) => [s.path, tableCounts(join(live, s.path))]));
    const finalEp = await openManagedInflux(join(live, 'influxdb'), { mayStart: true });
    const finalPoints = await countPoints(finalEp, 'radscreen');
    await finalEp.release();

    for (const [name, source] of [
      ['restored-online', online],
      ['restored-offline', offline],
    ] as const) {
      const target = join(root, name);
      mkdirSync(target);
      const config = await configFor(target, await freePort());
      const r = cli(['restore', source, '--config', config]);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const m = JSON.parse(readFileSync(join(source, 'manifest.json'), 'utf8')) as BackupManifest;
      for (const s of m.sqlite) expect(tableCounts(join(target, s.path))).toEqual(s.tables);
      const restoredEp = await openManagedInflux(join(target, 'influxdb'), { mayStart: true });
      const restoredPoints = await countPoints(restoredEp, 'radscreen');
      await restoredEp.release();
      if (source === offline) {
        // Taken from a stopped station: exactly what it had.
        for (const s of m.sqlite) expect(s.tables).toEqual(finalTables[s.path] ?? s.tables);
        expect(restoredPoints).toEqual(finalPoints);
      } else if ('database' in m.influx)
        for (const [k, n] of Object.entries(m.influx.points)) expect(restoredPoints[k]).toBeGreaterThanOrEqual(n);
      // A second restore over the now populated dir is refused: nothing is overwritten.
      const again = cli(['restore', source, '--config', config]);
      expect(again.status).toBe(1);
      expect(again.stderr).toContain('is not empty');
    }
  }, 150_000);
});

function readdirPids(dataDir: string): string[] {
  const dir = join(dataDir, 'run');
  return existsSync(dir) ? readdirSync(dir) : [];
}
