import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';

/**
 * Timed WAL checkpoints for a durable queue, off the event loop (docs/data-integrity.md "Checkpoints").
 *
 * A checkpoint fsyncs the WAL and the database: 30–36 ms each on this machine's disk
 * (docs/benchmarks.md). SQLite's default runs one inside whichever commit makes the WAL reach
 * 1,000 pages: at 50,000 readings/s that is two 30 ms stalls of the ingest's event loop a second,
 * and at a few commits/s the WAL goes unsynced for minutes. Here a worker thread with its own
 * connection to the same file checkpoints (PASSIVE: it never blocks the writer) once per interval
 * when something was committed, so the stall is the worker's, the loop never waits for an fsync,
 * and nothing older than an interval stays unsynced. SQLite's own checkpoint stays on the main
 * connection as a backstop at 20,000 pages (80 MB), should the worker fall behind.
 */
export interface TimedCheckpoint {
  /** Say that a commit happened: the worker's next tick checkpoints. Cheap (one atomic store). */
  committed(): void;
  /** Stops the worker; it closes its connection (it may still be finishing a checkpoint). */
  stop(): void;
}

// Plain CommonJS, so the worker needs neither tsx nor the project's loader (execArgv is emptied).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.sqlite);
const db = new Database(workerData.path, { fileMustExist: true });
db.pragma('synchronous = NORMAL');
db.pragma('busy_timeout = 5000');
const dirty = new Int32Array(workerData.flag);
const timer = setInterval(() => {
  if (Atomics.exchange(dirty, 0, 0) === 0) return;
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (err) {
    parentPort.postMessage({ error: err.message });
  }
}, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

const sqliteModule = createRequire(import.meta.url).resolve('better-sqlite3');

export function startTimedCheckpoint(
  db: Database.Database,
  path: string,
  intervalMs: number,
  onError: (message: string) => void = () => {},
): TimedCheckpoint {
  db.pragma('wal_autocheckpoint = 20000');
  // After a checkpoint the WAL is reused from its start; this trims a file a burst made large.
  db.pragma(`journal_size_limit = ${64 * 2 ** 20}`);
  const flag = new SharedArrayBuffer(4);
  const dirty = new Int32Array(flag);
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    execArgv: [],
    workerData: { sqlite: sqliteModule, path, intervalMs, flag },
  });
  worker.unref();
  worker.on('message', (m: { error?: string }) => m.error && onError(m.error));
  worker.on('error', (err) => onError(err.message));
  return {
    committed: () => Atomics.store(dirty, 0, 1),
    stop: () => worker.postMessage('close'),
  };
}
