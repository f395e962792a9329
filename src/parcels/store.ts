import { join } from 'node:path';
import { openPrivateDatabase } from '../core/private-database.ts';
import type { ParcelRecord } from './tracker.ts';

/**
 * Parcel records on disk (`<data_dir>/parcels.sqlite`), so the screening history of the tunnel
 * survives a server restart like the alarms do. One row per parcel, the record as JSON (with its
 * identification); the newest MAX_ROWS are kept.
 */

/** A stored record: the tracker's record and the alarms raised while the parcel was in. */
export type StoredParcel = ParcelRecord & { alarms: string[] };

/** Rows kept: about two months of one parcel a minute around the clock. */
const MAX_ROWS = 100_000;

export const parcelStorePath = (dataDir: string) => join(dataDir, 'parcels.sqlite');

export function openParcelStore(path: string) {
  const db = openPrivateDatabase(path);
  db.exec(`CREATE TABLE IF NOT EXISTS parcels (
    n INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    closed_at INTEGER NOT NULL,
    record TEXT NOT NULL
  )`);
  const insert = db.prepare('INSERT OR REPLACE INTO parcels (id, closed_at, record) VALUES (?, ?, ?)');
  const trim = db.prepare('DELETE FROM parcels WHERE n <= (SELECT MAX(n) FROM parcels) - ?');
  const recent = db.prepare<[number], { record: string }>('SELECT record FROM parcels ORDER BY n DESC LIMIT ?');

  /** JSON has no infinity: a significance over a zero background comes back as null. */
  function revive(text: string): StoredParcel {
    const r = JSON.parse(text) as StoredParcel;
    for (const m of Object.values(r.devices)) if (m.significance === null) m.significance = Number.POSITIVE_INFINITY;
    return r;
  }

  return {
    save(r: StoredParcel): void {
      insert.run(r.id, r.closed_at, JSON.stringify(r));
      trim.run(MAX_ROWS);
    },
    /** Newest first. */
    recent(limit: number): StoredParcel[] {
      return recent.all(limit).map((row) => revive(row.record));
    },
    close(): void {
      db.close();
    },
  };
}

export type ParcelStore = ReturnType<typeof openParcelStore>;
