import Database from 'better-sqlite3';
import { preparePrivateFile } from './private-files.ts';

/**
 * How every radscreen store opens its SQLite file: 0600 in a 0700 directory (tightened if found
 * looser, private-files.ts) and in WAL mode, so readers never block the writer; `:memory:` gives
 * an in-memory database (tests, the in-memory write queue), where WAL does not apply.
 */
export function openPrivateDatabase(path: string): Database.Database {
  preparePrivateFile(path);
  const db = new Database(path);
  if (path !== ':memory:') db.pragma('journal_mode = WAL');
  return db;
}
