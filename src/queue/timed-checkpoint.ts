import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';

/**
 * Timed WAL checkpoints for durable queues, off the event loop (docs/data-integrity.md "Checkpoints").
 *
 * A checkpoint fsyncs the WAL and the database: 30–36 ms each on this machine's disk
 * (docs/benchmarks.md). SQLite's default runs one inside whichever commit makes the WAL reach
 * 1,000 pages: at 50,000 readings/s that is two 30 ms stalls of the ingest's event loop a second,
 * and at a few commits/s the WAL goes unsynced for minutes. Here ONE worker thread per process,
 * with its own connection to each registered file, checkpoints each (PASSIVE: it never blocks the
 * writer) once per interval when something was committed to it. So the fsync stalls the worker,
 * never the loop, and nothing older than an interval stays unsynced. SQLite's own checkpoint
 * stays on the main connection as a backstop at 20,000 pages (80 MB), should the worker lag.
 */
export interface TimedCheckpoint {
  /** Say that a commit happened: the worker's next tick checkpoints. Cheap (one atomic store). */
  committed(): void;
  /** Unregisters the file: the worker closes its connection (after a checkpoint it may be running). */
  stop(): void;
}

// Plain CommonJS, so the worker needs neither tsx nor the project's loader (execArgv is emptied).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.sqlite);
const files = new Map();
parentPort.on('message', (m) => {
  if (m.op === 'open') {
    let db;
    try {
      db = new Database(m.path, { fileMustExist: true });
      db.pragma('synchronous = NORMAL');
      db.pragma('busy_timeout = 5000');
    } catch (err) {
      // One file that cannot be opened must not take the other files' checkpoints down with it.
      parentPort.postMessage({ id: m.id, error: 'cannot open ' + m.path + ': ' + err.message });
      files.set(m.id, { db: undefined, timer: undefined });
      return;
    }
    const dirty = new Int32Array(m.flag);
    const timer = setInterval(() => {
      if (Atomics.exchange(dirty, 0, 0) === 0) return;
      try {
        db.pragma('wal_checkpoint(PASSIVE)');
      } catch (err) {
        parentPort.postMessage({ id: m.id, error: err.message });
      }
    }, m.intervalMs);
    files.set(m.id, { db, timer });
  } else if (m.op === 'close') {
    const f = files.get(m.id);
    files.delete(m.id);
    if (f) {
      clearInterval(f.timer);
      f.db?.close();
    }
    if (files.size === 0) parentPort.close();
  }
});
`;

const sqliteModule = createRequire(import.meta.url).resolve('better-sqlite3');

/** The process's checkpoint worker while it has files; a new one is started after the last leaves. */
let shared: { worker: Worker; files: number; onError: Map<number, (message: string) => void> } | undefined;
let nextId = 1;
/** Checkpoint worker threads alive in this process (tests check there is one, not one per file). */
let liveWorkers = 0;
export const checkpointWorkerCount = () => liveWorkers;

function checkpointWorker(): NonNullable<typeof shared> {
  if (shared) return shared;
  const worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [], workerData: { sqlite: sqliteModule } });
  worker.unref();
  liveWorkers++;
  worker.once('exit', () => liveWorkers--);
  const s = { worker, files: 0, onError: new Map<number, (message: string) => void>() };
  worker.on('message', (m: { id: number; error: string }) => s.onError.get(m.id)?.(m.error));
  worker.on('error', (err) => {
    for (const report of s.onError.values()) report(`checkpoint worker: ${err.message}`);
    if (shared === s) shared = undefined;
  });
  shared = s;
  return s;
}

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
  const id = nextId++;
  const w = checkpointWorker();
  w.files++;
  w.onError.set(id, onError);
  w.worker.postMessage({ op: 'open', id, path, intervalMs, flag });
  let stopped = false;
  return {
    committed: () => Atomics.store(dirty, 0, 1),
    stop() {
      if (stopped) return;
      stopped = true;
      w.onError.delete(id);
      w.worker.postMessage({ op: 'close', id });
      // The worker exits once its last file is closed; the next registration starts a new one.
      if (--w.files === 0 && shared === w) shared = undefined;
    },
  };
}
