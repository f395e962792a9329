import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openDurableQueue } from '../../src/queue/durable-queue.ts';
import { checkpointWorkerCount, startTimedCheckpoint } from '../../src/queue/timed-checkpoint.ts';
import { waitFor } from '../support/wait.ts';

/**
 * Timed WAL checkpoints (durable-queue.ts `checkpointIntervalMs`, used by the ingest spool): a
 * commit reaches the database file (fsynced) within an interval, however few commits follow it.
 * With SQLite's default (a checkpoint once 1,000 WAL pages have accumulated) a quiet spool's
 * commits could stay in the unsynced WAL for minutes.
 */
const dir = mkdtempSync(join(tmpdir(), 'radscreen-checkpoint-'));
const size = (path: string) => {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
};

describe('durable queue checkpoints', () => {
  it('with an interval, a single small commit is checkpointed into the database file', async () => {
    const path = join(dir, 'timed.sqlite');
    const q = openDurableQueue({ path, maxRows: 1000, maxAgeMs: 60_000, checkpointIntervalMs: 100 });
    const before = size(path);
    q.append(['one line of line protocol'.repeat(400)]); // ~10 kB: pages the main file does not hold yet
    await waitFor(() => size(path) > before, { timeoutMs: 10_000, describe: () => ({ before, now: size(path) }) });
    expect(size(path)).toBeGreaterThan(before);
    q.close();
  });

  it('several queues share the process checkpoint worker, which comes back after the last one closed', async () => {
    const open = (name: string) => {
      const path = join(dir, `${name}.sqlite`);
      return { path, q: openDurableQueue({ path, maxRows: 1000, maxAgeMs: 60_000, checkpointIntervalMs: 100 }) };
    };
    const checkpointed = async (f: { path: string; q: ReturnType<typeof openDurableQueue> }) => {
      const before = size(f.path);
      f.q.append(['line protocol '.repeat(800)]);
      await waitFor(() => size(f.path) > before, { timeoutMs: 10_000, describe: () => ({ file: f.path, before, now: size(f.path) }) });
    };
    await waitFor(() => checkpointWorkerCount() === 0, { timeoutMs: 10_000, describe: checkpointWorkerCount });
    const a = open('shared-a');
    const b = open('shared-b');
    expect(checkpointWorkerCount()).toBe(1); // one thread (~13 MiB), not one per file
    await checkpointed(a);
    await checkpointed(b);
    a.q.close();
    await checkpointed(b); // closing one file leaves the worker serving the other
    b.q.close();
    await waitFor(() => checkpointWorkerCount() === 0, { timeoutMs: 10_000, describe: checkpointWorkerCount });
    const c = open('shared-c');
    expect(checkpointWorkerCount()).toBe(1); // a new worker after the last file left
    await checkpointed(c);
    c.q.close();
  });

  it('a file the worker cannot open is reported, and the worker goes on serving the other files', async () => {
    const errors: string[] = [];
    const db = new Database(join(dir, 'holder.sqlite'));
    const missing = startTimedCheckpoint(db, join(dir, 'no-such-dir', 'q.sqlite'), 100, (m) => errors.push(m));
    await waitFor(() => errors.length > 0, { timeoutMs: 10_000, describe: () => errors });
    expect(errors[0]).toMatch(/cannot open .*no-such-dir/);
    const path = join(dir, 'after-error.sqlite');
    const q = openDurableQueue({ path, maxRows: 1000, maxAgeMs: 60_000, checkpointIntervalMs: 100 });
    const before = size(path);
    q.append(['line protocol '.repeat(800)]);
    await waitFor(() => size(path) > before, { timeoutMs: 10_000, describe: () => ({ before, now: size(path) }) });
    q.close();
    missing.stop();
    db.close();
  });

  it('without one, the same commit stays in the WAL (SQLite checkpoints only after 1,000 pages)', async () => {
    const path = join(dir, 'default.sqlite');
    const q = openDurableQueue({ path, maxRows: 1000, maxAgeMs: 60_000 });
    const before = size(path);
    q.append(['one line of line protocol'.repeat(400)]);
    await new Promise((r) => setTimeout(r, 500));
    expect(size(path)).toBe(before);
    expect(size(`${path}-wal`)).toBeGreaterThan(0);
    q.close();
  });
});
