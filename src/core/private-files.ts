import { chmodSync, closeSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * File modes for the station's data: the data directory and every directory below it 0700,
 * every database, cache and credentials file 0600, so no other local user can read scrypt
 * hashes, session digests, the audit log, alarms or queued readings (docs/accounts.md).
 */
export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** One permission change made at start, for the log. Modes as octal strings (`0644`). */
export interface Tightened {
  path: string;
  from: string;
  to: string;
}

const octal = (mode: number) => `0${(mode & 0o777).toString(8)}`;

/** chmods `path` to `mode` when group or others hold any bit; returns what changed. Never follows symlinks. */
function tighten(path: string, mode: number): Tightened | undefined {
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (!st || st.isSymbolicLink() || (st.mode & 0o077) === 0) return undefined;
  chmodSync(path, mode);
  return { path, from: octal(st.mode), to: octal(mode) };
}

/**
 * Makes `path` ready to be opened as a private SQLite (or other) file: its directory is created
 * 0700 when missing, the file is created empty with 0600 when missing (SQLite then gives its
 * `-wal` and `-shm` files the database's mode), and an existing file or journal with looser
 * modes is tightened. `:memory:` is left alone. Returns what was tightened.
 */
export function preparePrivateFile(path: string): Tightened[] {
  if (path === ':memory:' || path === '') return [];
  mkdirSync(dirname(path), { recursive: true, mode: PRIVATE_DIR_MODE });
  if (!existsSync(path)) closeSync(openSync(path, 'a', PRIVATE_FILE_MODE));
  return [path, `${path}-wal`, `${path}-shm`, `${path}-journal`].flatMap((p) => tighten(p, PRIVATE_FILE_MODE) ?? []);
}

/**
 * The subtrees left alone: influxd's shard and WAL directories hold bulk time series (not
 * credentials), can hold many thousands of files, and sit inside the 0700 data directory anyway.
 */
const SKIP = new Set([join('influxdb', 'data'), join('influxdb', 'wal')]);

/**
 * Creates the data directory 0700 or tightens it, and tightens every directory (0700) and
 * regular file (0600) below it; symlinks are never followed (socat's pty links point into
 * /dev/pts). Called at start by every command that owns data files, before any is opened,
 * so files left 0644 by an older version are fixed; the caller logs what changed.
 */
export function securePrivateTree(dataDir: string): Tightened[] {
  const changed: Tightened[] = [];
  mkdirSync(dataDir, { recursive: true, mode: PRIVATE_DIR_MODE });
  const walk = (dir: string, rel: string) => {
    const t = tighten(dir, PRIVATE_DIR_MODE);
    if (t) changed.push(t);
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      const relPath = rel ? join(rel, entry.name) : entry.name;
      if (entry.isDirectory()) {
        if (!SKIP.has(relPath)) walk(path, relPath);
      } else if (entry.isFile()) {
        const f = tighten(path, PRIVATE_FILE_MODE);
        if (f) changed.push(f);
      }
    }
  };
  walk(dataDir, '');
  return changed;
}

/** Runs securePrivateTree and logs each change (a warning: someone or something loosened them). */
export function securePrivateTreeLogged(dataDir: string, log: { warn(obj: object, msg: string): void }): Tightened[] {
  const changed = securePrivateTree(dataDir);
  for (const c of changed) log.warn(c, 'tightened permissions of a data file (group/other could read it)');
  return changed;
}
