import { z } from 'zod';
import { UnitSchema } from './units.ts';

/**
 * What a device reports on one channel. Channel keys are snake_case and carry no unit
 * (`dose_rate`, not `dose_rate_usvh`): the unit lives here.
 */
export const ChannelSpecSchema = z.object({
  key: z.string().regex(/^[a-z][a-z0-9_]*$/, 'channel keys are snake_case'),
  unit: UnitSchema,
  /** What the value means, for people: shown in `radscreen devices` and the console. */
  label: z.string(),
  type: z.enum(['number', 'boolean', 'enum']).default('number'),
  /** Physical range; a decoded value outside it is rejected with RS_ERR_FRAME_RANGE. */
  min: z.number().optional(),
  max: z.number().optional(),
  /**
   * Smallest step the instrument shows or reports on this channel, in the channel's unit
   * (0.01 for a dose rate printed with two decimals). The console rounds to it, so a value never
   * shows more digits than the instrument has (docs/console.md "Numbers and times").
   */
  resolution: z.number().positive().optional(),
  /** Allowed words for enum channels. */
  values: z.array(z.string()).optional(),
});
export type ChannelSpec = z.input<typeof ChannelSpecSchema>;

/** InfluxDB measurement a channel is stored in; see docs/data-integrity.md "Point identity". */
export const MeasurementSchema = z.enum(['radiation', 'xray', 'device_health', 'alarm_events']);
export type Measurement = z.infer<typeof MeasurementSchema>;
