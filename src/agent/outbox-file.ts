import { existsSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { openPrivateDatabase } from '../core/private-database.ts';
import { type DurableQueue, openDurableQueue, type QueueOptions, queueNames, quoteIdentifier } from '../queue/durable-queue.ts';
import { createOutboxCommits, type OutboxCommits } from './commit-group.ts';
import { openSourceMarks } from './source-mark.ts';

export interface AgentOutboxFile {
  /** The device's queue in this file. A per-device file left by an older agent is moved in first. */
  queue(device: string, opts: Omit<QueueOptions, 'path'>): DurableQueue;
  /** The devices' publishers commit through it: one transaction per event-loop turn. */
  readonly commits: OutboxCommits;
  readonly db: Database.Database;
  close(): void;
}

/**
 * The agent's outbox: one SQLite file for all its devices, `<data_dir>/outbox.sqlite` (in memory
 * without a data_dir), with a queue per device (durable-queue.ts `SharedQueueFile`) and one
 * commit per event-loop turn for all of them (commit-group.ts). A file per device cost a commit
 * per reading; at 64 devices that was the largest item of the agent's CPU (docs/benchmarks.md
 * "Edge footprint" → "Fourth round"). Durability is the outbox's as before: synchronous = NORMAL
 * in WAL, every reading committed before it is published (docs/data-integrity.md).
 */
export function openAgentOutbox(dataDir: string | undefined, log?: Logger): AgentOutboxFile {
  const db = openPrivateDatabase(dataDir ? join(dataDir, 'outbox.sqlite') : ':memory:');
  db.pragma('synchronous = NORMAL');
  const legacyDir = dataDir ? join(dataDir, 'outbox') : undefined;
  return {
    queue(device, opts) {
      if (legacyDir) {
        const moved = moveLegacyOutbox(db, join(legacyDir, `${device}.sqlite`), device);
        if (moved !== undefined)
          log?.info({ device, readings: moved }, 'moved the device outbox file of an older agent into outbox.sqlite');
      }
      return openDurableQueue({ ...opts, path: { db, name: device } });
    },
    commits: createOutboxCommits(db),
    db,
    close() {
      if (legacyDir && existsSync(legacyDir) && readdirSync(legacyDir).length === 0) rmdirSync(legacyDir);
      if (db.open) db.close();
    },
  };
}

/**
 * Moves `<data_dir>/outbox/<device>.sqlite` (agents before the shared file) into the shared file:
 * its rows, in order and with their append times (they become backlog: the queue opens after), its
 * appended counter and its source mark, in one transaction; then the old file is deleted.
 * Returns the readings moved, or undefined when there was no such file.
 *
 * A crash after the commit and before the delete moves the rows again at the next start: they are
 * sent twice, which is harmless because a reading's InfluxDB identity is deterministic
 * (point-identity.ts), as for any re-send after a crash.
 */
function moveLegacyOutbox(db: Database.Database, file: string, device: string): number | undefined {
  if (!existsSync(file)) return undefined;
  const { table, counterKey } = queueNames(device);
  const q = quoteIdentifier(table);
  let moved = 0;
  let attached = false;
  try {
    db.prepare('ATTACH DATABASE ? AS legacy').run(file);
    attached = true;
    const has = (name: string) =>
      db.prepare<[string], number>("SELECT count(*) FROM legacy.sqlite_master WHERE type = 'table' AND name = ?").pluck().get(name) === 1;
    const marks = openSourceMarks(db, device);
    db.transaction(() => {
      db.exec(
        `CREATE TABLE IF NOT EXISTS ${q} (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, body TEXT NOT NULL, n INTEGER NOT NULL DEFAULT 1)`,
      );
      db.exec('CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v INTEGER NOT NULL)');
      if (has('q')) {
        // Files from before rows held several items have no `n`: each of their rows is one item.
        const withN = (db.prepare('PRAGMA legacy.table_info(q)').all() as { name: string }[]).some((c) => c.name === 'n');
        db.exec(`INSERT INTO ${q} (at, body, n) SELECT at, body, ${withN ? 'n' : '1'} FROM legacy.q ORDER BY id`);
        moved = db
          .prepare(`SELECT COALESCE(SUM(${withN ? 'n' : '1'}), 0) FROM legacy.q`)
          .pluck()
          .get() as number;
      }
      const before = has('meta')
        ? (db.prepare("SELECT v FROM legacy.meta WHERE k = 'appended'").pluck().get() as number | undefined)
        : undefined;
      db.prepare<[string, number]>('INSERT INTO meta (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = v + excluded.v').run(
        counterKey,
        before ?? moved,
      );
      const mark = has('source_mark')
        ? (db.prepare('SELECT message_id, digest FROM legacy.source_mark WHERE k = 0').get() as
            | { message_id: number; digest: string }
            | undefined)
        : undefined;
      if (mark) marks.write({ messageId: mark.message_id, digest: mark.digest });
    })();
  } catch (e) {
    // Nothing was moved or deleted: say which file, so a technician can inspect or set it aside.
    throw new Error(`cannot move the outbox of an older agent from ${file} (left as it was): ${(e as Error).message}`);
  } finally {
    if (attached) db.exec('DETACH DATABASE legacy');
  }
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
  return moved;
}
