import { z } from 'zod';
import { MAX_VALUES_PER_READING } from './reading-contract.ts';

export const DeviceKindSchema = z.enum(['dosimeter', 'survey_meter', 'portal_monitor', 'xray_scanner']);
export type DeviceKind = z.infer<typeof DeviceKindSchema>;

export const QualitySchema = z.enum(['good', 'suspect', 'invalid', 'stale']);
export type Quality = z.infer<typeof QualitySchema>;

/** Where a reading came from: live instruments, a simulator, a training scenario, a replayed file. */
export const SourceSchema = z.enum(['live', 'simulated', 'training', 'replay']);
export type Source = z.infer<typeof SourceSchema>;

const idPattern = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** Station and device ids appear in MQTT topics and InfluxDB tags: no `/`, `+`, `#`, spaces or commas. */
export const IdSchema = z.string().regex(idPattern, 'use letters, digits, _ . - (max 64, no / + # or spaces)');

export const ChannelValueSchema = z.union([z.number().finite(), z.boolean(), z.string().max(32)]);
export type ChannelValue = z.infer<typeof ChannelValueSchema>;

/**
 * One canonical reading. Every value is in its channel's canonical unit (see units.ts).
 *
 * Invariants: `ts` is ms since the epoch; `ts_source` says whether it came from the device
 * clock or the agent's receive time; (station, device, profile, source, ts, seq) identifies the
 * reading, so re-sending it after a crash overwrites rather than duplicates in InfluxDB.
 */
export const ReadingSchema = z.object({
  station: IdSchema,
  device: IdSchema,
  profile: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'profile ids are vendor-model, kebab-case'),
  kind: DeviceKindSchema,
  ts: z.number().int().nonnegative(),
  ts_source: z.enum(['device', 'agent']),
  /**
   * Sub-millisecond sequence, 0–999: part of the point identity (stored at µs precision as
   * `ts * 1000 + seq`). The agent stamps it when a reading enters its outbox, counting up for
   * readings of one device that share a millisecond, so a burst never overwrites itself and a
   * re-sent reading keeps its identity (docs/data-integrity.md). Absent means 0.
   */
  seq: z.number().int().min(0).max(999).optional(),
  values: z
    .record(z.string().regex(/^[a-z][a-z0-9_]*$/), ChannelValueSchema)
    .refine((v) => Object.keys(v).length > 0, 'a reading carries at least one value')
    .refine((v) => Object.keys(v).length <= MAX_VALUES_PER_READING, `a reading carries at most ${MAX_VALUES_PER_READING} values`),
  quality: QualitySchema,
  source: SourceSchema,
  calibration_id: z.string().max(64).optional(),
});
export type Reading = z.infer<typeof ReadingSchema>;

/** What a decoder produces: the agent adds station, device, profile, kind and source. */
export type DecodedReading = Pick<Reading, 'ts' | 'ts_source' | 'values' | 'quality'> & {
  calibration_id?: string;
};

/**
 * A reading's point time in µs, `ts * 1000 + seq` (seq 0–999, absent = 0): with station, device,
 * profile and source it is the reading's identity, in InfluxDB and in the station's receipts.
 * Exact below 2^53 (the year 2255).
 */
export function pointTimeUs(reading: Pick<Reading, 'ts' | 'seq'>): number {
  return Math.trunc(reading.ts) * 1000 + (reading.seq ?? 0);
}
