import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { alarmStorePath, openAlarmStore } from '../../src/alarms/store.ts';
import { calibrationStorePath, openCalibrationStore } from '../../src/calibration/store.ts';
import { securePrivateTree } from '../../src/core/private-files.ts';
import { openDurableQueue } from '../../src/queue/durable-queue.ts';
import { addUser } from '../../src/server/auth/provision.ts';
import { authStorePath, openAuthStore } from '../../src/server/auth/store.ts';

/**
 * Data files are private: the data directory 0700, every SQLite file (and its -wal/-shm) 0600,
 * whether the store creates it or finds it with a looser mode. Checked with fs.stat.
 */
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'rs-modes-'));
  dirs.push(d);
  return d;
}
const mode = (path: string) => statSync(path).mode & 0o777;

/** Every store the station keeps under its data directory, opened and written to, then closed. */
const STORES: Record<string, (dataDir: string) => Promise<string>> = {
  auth: async (dataDir) => {
    const store = openAuthStore(authStorePath(dataDir));
    if (!store.getUser('op')) await addUser(store, { name: 'op', role: 'operator' });
    store.close();
    return authStorePath(dataDir);
  },
  alarms: async (dataDir) => {
    openAlarmStore(alarmStorePath(dataDir)).close();
    return alarmStorePath(dataDir);
  },
  calibrations: async (dataDir) => {
    openCalibrationStore(calibrationStorePath(dataDir)).close();
    return calibrationStorePath(dataDir);
  },
  outbox: async (dataDir) => {
    const path = join(dataDir, 'outbox', 'geiger-1.sqlite');
    const q = openDurableQueue({ path, maxRows: 1000, maxAgeMs: 60_000 });
    q.append(['{"a":1}']);
    q.close();
    return path;
  },
  spool: async (dataDir) => {
    const path = join(dataDir, 'ingest', 'spool.sqlite');
    const q = openDurableQueue({ path, maxRows: 1000, maxAgeMs: 60_000 });
    q.append(['m v=1 1']);
    q.close();
    return path;
  },
};

describe('file modes of the data directory', () => {
  for (const [name, open] of Object.entries(STORES)) {
    it(`${name}: a new store is created 0600 in a 0700 directory`, async () => {
      const dataDir = join(tempDir(), 'data');
      const path = await open(dataDir);
      expect(mode(path).toString(8)).toBe('600');
      for (const suffix of ['-wal', '-shm']) {
        try {
          expect(mode(`${path}${suffix}`).toString(8), suffix).toBe('600');
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        }
      }
      expect(mode(dataDir).toString(8)).toBe('700');
    });

    it(`${name}: an existing store left 0644 is tightened to 0600 when opened`, async () => {
      const dataDir = join(tempDir(), 'data');
      const path = await open(dataDir);
      chmodSync(path, 0o644);
      await open(dataDir);
      expect(mode(path).toString(8)).toBe('600');
    });
  }

  it("SQLite gives a 0600 database's -wal and -shm files its mode while it is open", async () => {
    const dataDir = join(tempDir(), 'data');
    const store = openAuthStore(authStorePath(dataDir));
    await addUser(store, { name: 'op', role: 'operator' });
    try {
      for (const suffix of ['', '-wal', '-shm']) expect(mode(`${authStorePath(dataDir)}${suffix}`).toString(8), suffix).toBe('600');
    } finally {
      store.close();
    }
  });

  it('securePrivateTree tightens the directory, subdirectories and files, reports each change, and never follows symlinks', () => {
    const root = tempDir();
    const dataDir = join(root, 'data');
    mkdirSync(join(dataDir, 'outbox'), { recursive: true, mode: 0o755 });
    chmodSync(dataDir, 0o755);
    writeFileSync(join(dataDir, 'users.sqlite'), 'x', { mode: 0o644 });
    writeFileSync(join(dataDir, 'outbox', 'g.sqlite-wal'), 'x');
    chmodSync(join(dataDir, 'outbox', 'g.sqlite-wal'), 0o664);
    chmodSync(join(dataDir, 'outbox'), 0o755);
    writeFileSync(join(dataDir, 'already.sqlite'), 'x', { mode: 0o600 });
    // A link to a file outside (as socat's pty links point into /dev/pts) keeps its target's mode.
    const outside = join(root, 'outside.txt');
    writeFileSync(outside, 'x', { mode: 0o644 });
    chmodSync(outside, 0o644);
    symlinkSync(outside, join(dataDir, 'link'));

    const changed = securePrivateTree(dataDir);
    expect(changed.map((c) => [c.path.slice(dataDir.length), c.from, c.to]).sort()).toEqual(
      [
        ['', '0755', '0700'],
        ['/outbox', '0755', '0700'],
        ['/outbox/g.sqlite-wal', '0664', '0600'],
        ['/users.sqlite', '0644', '0600'],
      ].sort(),
    );
    expect(mode(dataDir)).toBe(0o700);
    expect(mode(join(dataDir, 'users.sqlite'))).toBe(0o600);
    expect(mode(outside)).toBe(0o644);
    // Nothing left to do the second time.
    expect(securePrivateTree(dataDir)).toEqual([]);
  });

  it('securePrivateTree creates a missing data directory 0700', () => {
    const dataDir = join(tempDir(), 'fresh', 'data');
    expect(securePrivateTree(dataDir)).toEqual([]);
    expect(mode(dataDir)).toBe(0o700);
  });
});
