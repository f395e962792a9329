import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '../config/schema.ts';
import { tableCounts } from './backup.ts';
import { dataDirUsers } from './in-use.ts';
import { countPoints, hasManagedInfluxData, managedInfluxDir, openManagedInflux, runInfluxdTool } from './influx.ts';
import { BACKUP_FORMAT, type BackupManifest, dataDirEntries, sha256File } from './manifest.ts';

/** Reads and checks `<source>/manifest.json` and every file it lists (size and sha256) before anything is written. */
export function readVerifiedManifest(source: string): BackupManifest {
  const path = join(source, 'manifest.json');
  if (!existsSync(path)) throw new Error(`${path} is missing: not a radscreen backup`);
  const manifest = JSON.parse(readFileSync(path, 'utf8')) as BackupManifest;
  if (manifest.format !== BACKUP_FORMAT) throw new Error(`${path}: format ${String(manifest.format)}, expected ${BACKUP_FORMAT}`);
  for (const f of [...manifest.sqlite, ...manifest.files]) {
    const copy = join(source, 'files', f.path);
    if (!existsSync(copy) || sha256File(copy) !== f.sha256)
      throw new Error(`${copy} is missing or damaged (sha256 differs from the manifest)`);
  }
  return manifest;
}

/**
 * `radscreen restore <dir>`: puts a backup back into a STOPPED station's data dir, which must be
 * empty (move the old one aside: nothing is overwritten). Refuses while any radscreen process
 * uses the data dir (its pid files, in-use.ts). The SQLite copies are checked against the
 * manifest's row counts; the InfluxDB database is restored with `influxd restore -portable` into
 * the private influxd, started for the purpose, and its point counts checked. Files get the
 * owner of the data dir (when run as root, e.g. for the service user).
 */
export async function restoreBackup(opts: { config: Config; source: string; out: (line: string) => void }): Promise<BackupManifest> {
  const { config, source, out } = opts;
  const dataDir = config.data_dir;
  const manifest = readVerifiedManifest(source);
  const users = dataDirUsers(dataDir);
  if (users.length > 0)
    throw new Error(`${dataDir} is in use by radscreen (${users.join(', ')}): stop the station first (systemctl stop radscreen-station)`);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const present = dataDirEntries(dataDir);
  if (present.length > 0 || hasManagedInfluxData(dataDir))
    throw new Error(
      `${dataDir} is not empty (${present.slice(0, 3).join(', ') || 'influxdb/'}…): move it aside and create an empty one, then restore`,
    );

  for (const f of [...manifest.sqlite.map((s) => ({ ...s, mode: 0o600 })), ...manifest.files]) {
    const to = join(dataDir, f.path);
    mkdirSync(dirname(to), { recursive: true, mode: 0o700 });
    copyFileSync(join(source, 'files', f.path), to);
    chmodSync(to, f.mode);
    out(`restored ${f.path}`);
  }
  for (const s of manifest.sqlite) {
    const counts = tableCounts(join(dataDir, s.path));
    if (JSON.stringify(counts) !== JSON.stringify(s.tables))
      throw new Error(`${s.path}: row counts ${JSON.stringify(counts)} differ from the backup's ${JSON.stringify(s.tables)}`);
  }

  if ('database' in manifest.influx) {
    const { database, points } = manifest.influx;
    // admin-credentials.json came back above, so this influxd creates the same admin account.
    const ep = await openManagedInflux(managedInfluxDir(dataDir), { mayStart: true });
    try {
      runInfluxdTool(['restore', '-portable', '-db', database, '-host', ep.rpc, join(source, manifest.influx.dir)]);
      // influxd answers the restore before the restored shards are open: queries see them
      // a moment later (measured: about 1-2 s), so wait for the counts with a deadline.
      const short = (now: Record<string, number>) => Object.entries(points).find(([key, n]) => (now[key] ?? 0) < n);
      const deadline = Date.now() + 60_000;
      let now = await countPoints(ep, database);
      while (short(now) && Date.now() < deadline) {
        await sleep(250);
        now = await countPoints(ep, database);
      }
      const missing = short(now);
      if (missing)
        throw new Error(`InfluxDB ${missing[0]}: ${now[missing[0]] ?? 0} points after the restore, the backup counted ${missing[1]}`);
      out(`influx   ${database} restored (${Object.values(now).reduce((a, b) => a + b, 0)} points)`);
    } finally {
      await ep.release();
    }
  } else out(`influx   nothing to restore (${manifest.influx.skipped})`);

  if (process.getuid?.() === 0) {
    const { uid, gid } = statSync(dataDir);
    chownTree(dataDir, uid, gid);
  }
  return manifest;
}

function chownTree(dir: string, uid: number, gid: number): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, e.name);
    chownSync(path, uid, gid);
    if (e.isDirectory()) chownTree(path, uid, gid);
  }
}
