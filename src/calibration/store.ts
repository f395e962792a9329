import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { openPrivateDatabase } from '../core/private-database.ts';
import { type CalibrationRequests, openCalibrationRequests } from './requests.ts';
import { type CalibrationRecord, CalibrationRecordSchema, isoDay } from './schemas.ts';

/**
 * Calibration records on SQLite, `<data_dir>/calibrations.sqlite` (its own file, like
 * alarms.sqlite and users.sqlite, so each store can be backed up or kept for its own retention:
 * 10 CFR 35.2061 asks for 3 years of calibration records). Append-only: triggers abort any
 * UPDATE or DELETE; a correction is a new record, and the newest record per device is in force.
 */
export interface CalibrationStore {
  /** Appends a record, assigning `seq` and a new `calibration_id`. */
  append(record: Omit<CalibrationRecord, 'seq' | 'calibration_id'>): CalibrationRecord;
  /** Appends the record an approved request proposed and marks the request approved, in one transaction; undefined when it was no longer pending. */
  approve(requestId: string, by: string, at: number, comment?: string): CalibrationRecord | undefined;
  /** A device's records, newest first. */
  history(device: string, limit?: number): CalibrationRecord[];
  /** The record in force for a device, or undefined. */
  latest(device: string): CalibrationRecord | undefined;
  /** The record in force for every device that has one. */
  latestAll(): CalibrationRecord[];
  /** Calibrations waiting for a second person's approval (same file). */
  requests: CalibrationRequests;
  close(): void;
}

/** Where a server keeps calibration records. */
export function calibrationStorePath(dataDir: string): string {
  return join(dataDir, 'calibrations.sqlite');
}

/** `cal-20250301-1a2b3c`: sortable by day, short enough for a certificate line, unique enough per station. */
function newCalibrationId(calibratedAt: number): string {
  return `cal-${isoDay(calibratedAt).replaceAll('-', '')}-${randomBytes(3).toString('hex')}`;
}

/** Opens (creating) the calibration store at `path`; `:memory:` for tests. */
export function openCalibrationStore(path = ':memory:'): CalibrationStore {
  const db = openPrivateDatabase(path);
  db.exec(`
    CREATE TABLE IF NOT EXISTS calibrations (
      seq INTEGER PRIMARY KEY AUTOINCREMENT, calibration_id TEXT NOT NULL UNIQUE, device TEXT NOT NULL,
      calibrated_at INTEGER NOT NULL, doc TEXT NOT NULL);
    CREATE INDEX IF NOT EXISTS calibrations_device ON calibrations (device, seq);
    CREATE TRIGGER IF NOT EXISTS calibrations_no_update BEFORE UPDATE ON calibrations
      BEGIN SELECT RAISE(ABORT, 'calibration records are append-only'); END;
    CREATE TRIGGER IF NOT EXISTS calibrations_no_delete BEFORE DELETE ON calibrations
      BEGIN SELECT RAISE(ABORT, 'calibration records are append-only'); END;
  `);
  const insert = db.prepare('INSERT INTO calibrations (calibration_id, device, calibrated_at, doc) VALUES (?, ?, ?, ?)');
  const selectHistory = db.prepare('SELECT seq, doc FROM calibrations WHERE device = ? ORDER BY seq DESC LIMIT ?');
  const selectLatestAll = db.prepare(
    'SELECT c.seq, c.doc FROM calibrations c JOIN (SELECT device, MAX(seq) AS seq FROM calibrations GROUP BY device) m ON m.seq = c.seq ORDER BY c.device',
  );
  // The doc is re-validated on the way out, so a hand-edited file cannot feed the agent a bad factor.
  const toRecord = (row: { seq: number; doc: string }): CalibrationRecord =>
    CalibrationRecordSchema.parse({ ...JSON.parse(row.doc), seq: row.seq });

  const requests = openCalibrationRequests(db);
  const append = (record: Omit<CalibrationRecord, 'seq' | 'calibration_id'>): CalibrationRecord => {
    const calibration_id = newCalibrationId(record.calibrated_at);
    const doc = JSON.stringify({ ...record, calibration_id });
    const info = insert.run(calibration_id, record.device, record.calibrated_at, doc);
    return CalibrationRecordSchema.parse({ ...record, calibration_id, seq: Number(info.lastInsertRowid) });
  };
  // One transaction: a request is approved exactly when its record exists.
  const approve = db.transaction((requestId: string, by: string, at: number, comment?: string): CalibrationRecord | undefined => {
    const request = requests.get(requestId);
    if (request?.state !== 'pending') return undefined;
    const record = append({ ...request.proposal, recorded_at: at, approved_by: by });
    const decided = requests.decide(requestId, {
      state: 'approved',
      by,
      at,
      calibration_id: record.calibration_id,
      ...(comment ? { comment } : {}),
    });
    if (!decided) throw new Error(`calibration request ${requestId} changed during approval`);
    return record;
  });

  return {
    append,
    approve: (requestId, by, at, comment) => approve(requestId, by, at, comment),
    history: (device, limit = 100) => (selectHistory.all(device, limit) as { seq: number; doc: string }[]).map(toRecord),
    latest(device) {
      const row = selectHistory.get(device, 1) as { seq: number; doc: string } | undefined;
      return row ? toRecord(row) : undefined;
    },
    latestAll: () => (selectLatestAll.all() as { seq: number; doc: string }[]).map(toRecord),
    requests,
    close() {
      if (db.open) db.close();
    },
  };
}

/** The retained MQTT message for a record, unsigned (src/core/contract.ts CalibrationMessageSchema; signing.ts signs it). */
export function toCalibrationMessage(station: string, r: CalibrationRecord) {
  return {
    v: 1 as const,
    station,
    device: r.device,
    calibration_id: r.calibration_id,
    seq: r.seq,
    kind: r.kind,
    factor: r.factor,
    calibrated_at: r.calibrated_at,
    due: r.due,
  };
}
