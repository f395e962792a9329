import { z } from 'zod';
import { CalibrationKindSchema } from '../core/contract.ts';
import { IdSchema } from '../core/reading.ts';

/**
 * The reference source a calibration was made against (docs/domain-facts.md §B4: a radioactive
 * source traceable to a national standard, usually Cs-137). At least one of its activity or
 * the reference dose rate at the detector is recorded, with the source's certificate.
 */
export const ReferenceSourceSchema = z
  .object({
    /** e.g. `Cs-137`: the factor is valid for that energy only. */
    nuclide: z.string().trim().min(1).max(40),
    /** Source activity, Bq. */
    activity_bq: z.number().positive().finite().optional(),
    /** Conventional true dose rate at the detector position, µSv/h. */
    dose_rate_usvh: z.number().positive().finite().optional(),
    /** Calibration certificate of the source (number or reference). */
    certificate: z.string().trim().min(1).max(200),
  })
  .refine((r) => r.activity_bq !== undefined || r.dose_rate_usvh !== undefined, {
    message: 'give the source activity (activity_bq) or the reference dose rate (dose_rate_usvh)',
  });
export type ReferenceSource = z.infer<typeof ReferenceSourceSchema>;

/**
 * One calibration as stored: append-only, the newest (by `seq`) is in force. `kind` is not
 * chosen by the technician: it follows from the device's profile (a profile with a
 * `defaultSensitivity` has a GM tube, so its factor is a sensitivity in CPM per µSv/h;
 * anything else reports µSv/h itself and gets a dimensionless correction factor).
 */
export const CalibrationRecordSchema = z.object({
  /** Order of recording; the highest per device is in force. */
  seq: z.number().int(),
  /** Stable id, stamped on readings: `cal-<YYYYMMDD>-<6 hex>`. */
  calibration_id: z.string(),
  device: IdSchema,
  profile: z.string(),
  kind: CalibrationKindSchema,
  /** CPM per µSv/h (`sensitivity`) or a multiplier (`correction`). */
  factor: z.number().positive(),
  /** When the device was calibrated, ms since the epoch. */
  calibrated_at: z.number().int(),
  /** YYYY-MM-DD: next calibration due; after `calibrated_at`'s day. */
  due: z.iso.date(),
  reference: ReferenceSourceSchema,
  /** The logged-in user who recorded it. */
  technician: z.string(),
  comment: z.string().nullable(),
  /** Server clock when it was recorded, ms. */
  recorded_at: z.number().int(),
  /** Who approved a factor outside the plausible range (a second person); absent when none was needed. */
  approved_by: z.string().optional(),
});
export type CalibrationRecord = z.infer<typeof CalibrationRecordSchema>;

/** `POST /api/devices/:id/calibrations` body. */
export const CalibrationInputSchema = z
  .object({
    /** > 0: CPM per µSv/h for GM devices, a dimensionless multiplier otherwise (see the device's `calibration.kind`). */
    factor: z.number().positive().finite(),
    /** ms since the epoch; default: now. */
    calibrated_at: z.number().int().nonnegative().optional(),
    /** YYYY-MM-DD, after the calibration date. */
    due: z.iso.date(),
    reference: ReferenceSourceSchema,
    comment: z.string().trim().max(2000).optional(),
  })
  .strict();
export type CalibrationInput = z.infer<typeof CalibrationInputSchema>;

/** YYYY-MM-DD of an epoch-ms time, in UTC. */
export function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}
