import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import { z } from 'zod';
import { FactorRangeSchema } from './config.ts';
import { CalibrationRecordSchema } from './schemas.ts';

/** What a technician asked to record: a calibration record before it gets its `seq` and id. */
export const CalibrationProposalSchema = CalibrationRecordSchema.omit({ seq: true, calibration_id: true, approved_by: true });
export type CalibrationProposal = z.infer<typeof CalibrationProposalSchema>;

/**
 * A calibration whose factor lies outside the plausible range (but inside the ceiling): it is
 * not in force and not sent to the agent until a second person approves it
 * (docs/calibration-trust.md, "Four eyes").
 */
export const CalibrationRequestSchema = z.object({
  /** `calreq-<8 hex>` */
  request_id: z.string(),
  device: z.string(),
  state: z.enum(['pending', 'approved', 'rejected']),
  proposal: CalibrationProposalSchema,
  /** The range the factor fell outside, in the factor's unit. */
  plausible: FactorRangeSchema,
  requested_by: z.string(),
  /** Server clock, ms. */
  requested_at: z.number().int(),
  decided_by: z.string().nullable(),
  decided_at: z.number().int().nullable(),
  /** The record made on approval. */
  calibration_id: z.string().nullable(),
  decision_comment: z.string().nullable(),
});
export type CalibrationRequest = z.infer<typeof CalibrationRequestSchema>;

/** Pending calibrations, in the calibration store's SQLite file. */
export interface CalibrationRequests {
  create(proposal: CalibrationProposal, plausible: { min: number; max: number }, at: number): CalibrationRequest;
  get(requestId: string): CalibrationRequest | undefined;
  /** Newest first; `state` filters. */
  list(opts?: { state?: CalibrationRequest['state']; device?: string; limit?: number }): CalibrationRequest[];
  /**
   * Moves a pending request to `approved` or `rejected`; returns the updated request, or
   * undefined when it was not pending any more (someone decided first: the UPDATE is conditional,
   * so two approvers cannot both record it).
   */
  decide(
    requestId: string,
    d: { state: 'approved' | 'rejected'; by: string; at: number; calibration_id?: string; comment?: string },
  ): CalibrationRequest | undefined;
}

/** Creates the table on `db` and returns its accessors. */
export function openCalibrationRequests(db: Database.Database): CalibrationRequests {
  db.exec(`
    CREATE TABLE IF NOT EXISTS calibration_requests (
      request_id TEXT PRIMARY KEY, device TEXT NOT NULL, state TEXT NOT NULL, requested_at INTEGER NOT NULL, doc TEXT NOT NULL);
    CREATE INDEX IF NOT EXISTS calibration_requests_state ON calibration_requests (state, requested_at);
    -- A decided request is final: only pending -> approved|rejected.
    CREATE TRIGGER IF NOT EXISTS calibration_requests_final BEFORE UPDATE ON calibration_requests
      WHEN OLD.state <> 'pending' BEGIN SELECT RAISE(ABORT, 'a decided calibration request is final'); END;
    CREATE TRIGGER IF NOT EXISTS calibration_requests_no_delete BEFORE DELETE ON calibration_requests
      BEGIN SELECT RAISE(ABORT, 'calibration requests are kept'); END;
  `);
  const insert = db.prepare('INSERT INTO calibration_requests (request_id, device, state, requested_at, doc) VALUES (?, ?, ?, ?, ?)');
  const select = db.prepare('SELECT doc FROM calibration_requests WHERE request_id = ?');
  const update = db.prepare("UPDATE calibration_requests SET state = ?, doc = ? WHERE request_id = ? AND state = 'pending'");
  const parse = (row: { doc: string } | undefined) => (row ? CalibrationRequestSchema.parse(JSON.parse(row.doc)) : undefined);
  return {
    create(proposal, plausible, at) {
      const request: CalibrationRequest = {
        request_id: `calreq-${randomBytes(4).toString('hex')}`,
        device: proposal.device,
        state: 'pending',
        proposal,
        plausible,
        requested_by: proposal.technician,
        requested_at: at,
        decided_by: null,
        decided_at: null,
        calibration_id: null,
        decision_comment: null,
      };
      insert.run(request.request_id, request.device, request.state, at, JSON.stringify(request));
      return request;
    },
    get: (requestId) => parse(select.get(requestId) as { doc: string } | undefined),
    list({ state, device, limit = 100 } = {}) {
      const where: string[] = [];
      const args: unknown[] = [];
      if (state) where.push('state = ?') && args.push(state);
      if (device) where.push('device = ?') && args.push(device);
      const sql = `SELECT doc FROM calibration_requests ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY requested_at DESC, rowid DESC LIMIT ?`;
      return (db.prepare(sql).all(...args, limit) as { doc: string }[]).map((r) => parse(r) as CalibrationRequest);
    },
    decide(requestId, d) {
      const current = parse(select.get(requestId) as { doc: string } | undefined);
      if (current?.state !== 'pending') return undefined;
      const next: CalibrationRequest = {
        ...current,
        state: d.state,
        decided_by: d.by,
        decided_at: d.at,
        calibration_id: d.calibration_id ?? null,
        decision_comment: d.comment ?? null,
      };
      return update.run(next.state, JSON.stringify(next), requestId).changes === 1 ? next : undefined;
    },
  };
}
