import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import type { Config } from '../config/schema.ts';
import { VERSION } from '../core/version.ts';
import { dataDirUsers } from './in-use.ts';
import { countPoints, hasManagedInfluxData, managedInfluxDir, openManagedInflux, runInfluxdTool } from './influx.ts';
import { BACKUP_FORMAT, type BackupManifest, dataDirEntries, isSqlite, sha256File } from './manifest.ts';

/** Row count of every table of an SQLite file (opened read-only). */
export function tableCounts(path: string): Record<string, number> {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
      .pluck()
      .all() as string[];
    return Object.fromEntries(
      tables.map((t) => [
        t,
        db
          .prepare(`SELECT count(*) FROM "${t.replaceAll('"', '""')}"`)
          .pluck()
          .get() as number,
      ]),
    );
  } finally {
    db.close();
  }
}

/**
 * `radscreen backup <dir>`: a copy of a station's data dir that `radscreen restore` puts back.
 * Safe while the station runs: each SQLite database is copied with SQLite's online backup API
 * (better-sqlite3 `db.backup()`), which sees one committed state even in WAL mode while writers
 * go on; the private influxd's database goes through `influxd backup -portable`. Each database is
 * consistent in itself; they are taken one after the other (docs/install.md "Backup and restore").
 */
export async function takeBackup(opts: { config: Config; target: string; out: (line: string) => void }): Promise<BackupManifest> {
  const { config, target, out } = opts;
  const dataDir = config.data_dir;
  if (!existsSync(dataDir)) throw new Error(`data dir ${dataDir} does not exist`);
  if (existsSync(target) && readdirSync(target).length > 0) throw new Error(`${target} is not empty: back up into a new directory`);
  mkdirSync(join(target, 'files'), { recursive: true, mode: 0o700 });
  chmodSync(target, 0o700);
  const manifest: BackupManifest = {
    format: BACKUP_FORMAT,
    version: VERSION,
    created_at: new Date().toISOString(),
    station: config.station.id,
    data_dir: dataDir,
    sqlite: [],
    files: [],
    influx: { skipped: '' },
  };
  for (const rel of dataDirEntries(dataDir)) {
    const from = join(dataDir, rel);
    const to = join(target, 'files', rel);
    mkdirSync(dirname(to), { recursive: true, mode: 0o700 });
    if (isSqlite(from)) {
      const db = new Database(from, { fileMustExist: true });
      try {
        await db.backup(to);
      } finally {
        db.close();
      }
      chmodSync(to, 0o600);
      // Counted in the copy: exactly what a restore brings back.
      manifest.sqlite.push({ path: rel, bytes: statSync(to).size, sha256: sha256File(to), tables: tableCounts(to) });
      out(`sqlite   ${rel}`);
    } else {
      copyFileSync(from, to);
      const mode = statSync(from).mode & 0o777;
      chmodSync(to, mode);
      manifest.files.push({ path: rel, bytes: statSync(to).size, sha256: sha256File(to), mode });
      out(`file     ${rel}`);
    }
  }
  manifest.influx = await backupInflux(config, target, out);
  writeFileSync(join(target, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
  out(`wrote    ${join(target, 'manifest.json')}`);
  return manifest;
}

async function backupInflux(config: Config, target: string, out: (line: string) => void): Promise<BackupManifest['influx']> {
  const skip = (why: string) => {
    out(`influx   skipped: ${why}`);
    return { skipped: why };
  };
  if (config.influx.url)
    return skip(`influx.url (${config.influx.url}) is not this station's private influxd: back it up with that server's own tools`);
  if (!hasManagedInfluxData(config.data_dir)) return skip('no private influxd data in this data dir');
  const ep = await openManagedInflux(managedInfluxDir(config.data_dir), { mayStart: dataDirUsers(config.data_dir).length === 0 });
  try {
    const database = config.influx.database;
    // Counted before the copy: a running station only adds points, so a restore has at least these.
    const points = await countPoints(ep, database);
    runInfluxdTool(['backup', '-portable', '-db', database, '-host', ep.rpc, join(target, 'influxdb')]);
    out(`influx   ${database} (${Object.values(points).reduce((a, b) => a + b, 0)} points) from ${ep.rpc}`);
    return { database, dir: 'influxdb', points };
  } finally {
    await ep.release();
  }
}
