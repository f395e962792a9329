import { createHash } from 'node:crypto';
import { closeSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Format tag of manifest.json; a restore refuses any other. */
export const BACKUP_FORMAT = 'radscreen-backup/1';

/**
 * `<backup>/manifest.json`. Paths are relative to the data dir, and to `<backup>/files/` in the
 * backup; sha256 lets restore refuse a damaged copy before it writes anything.
 */
export interface BackupManifest {
  format: typeof BACKUP_FORMAT;
  /** radscreen version that wrote it. */
  version: string;
  created_at: string;
  station: string;
  data_dir: string;
  /** SQLite databases, copied with SQLite's online backup API; `tables`: row count per table at copy time. */
  sqlite: { path: string; bytes: number; sha256: string; tables: Record<string, number> }[];
  /** Other files (keys, credentials), copied byte for byte with their mode. */
  files: { path: string; bytes: number; sha256: string; mode: number }[];
  /** The private influxd's database as an `influxd backup -portable` in `<backup>/influxdb/`; or why not. */
  influx: { database: string; dir: 'influxdb'; points: Record<string, number> } | { skipped: string };
}

export const sha256File = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

/** True when the file starts with SQLite's 16-byte header ("SQLite format 3\0"), whatever its name. */
export function isSqlite(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(16);
    return readSync(fd, head, 0, 16, 0) === 16 && head.toString('latin1') === 'SQLite format 3\0';
  } finally {
    closeSync(fd);
  }
}

/**
 * What a backup takes from a data dir, as paths relative to it. Left out: the managed influxd's
 * own files (its data goes through `influxd backup`; its config is rewritten at every start; its
 * admin-credentials.json is kept), SQLite's -wal/-shm/-journal files (the online backup reads
 * through them), pid files and logs.
 */
export function dataDirEntries(dataDir: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      const rel = relative(dataDir, path);
      if (e.isDirectory()) {
        if (rel === 'run' || /^influxdb\/(meta|data|wal)$/.test(rel)) continue;
        walk(path);
      } else if (e.isFile()) {
        if (/-(wal|shm|journal)$/.test(e.name) || e.name.endsWith('.log') || rel === 'influxdb/influxdb.conf') continue;
        out.push(rel);
      }
    }
  };
  walk(dataDir);
  return out.sort();
}
