import { z } from 'zod';
import type { CalibrationMessage } from '../core/contract.ts';
import { type Reject, reject } from '../core/errors.ts';
import type { DeviceProfile } from '../core/profile.ts';
import { type DecodedReading, type Reading, ReadingSchema, type Source } from '../core/reading.ts';
import { checkChannelValues } from '../core/reading-contract.ts';
import { applyCalibration } from './calibration.ts';

export interface ReadingOrigin {
  station: string;
  device: string;
  source: Source;
  profile: DeviceProfile;
  /** The calibration in force for the device (from its retained MQTT topic); none leaves values as decoded. */
  calibration?: CalibrationMessage;
}

/**
 * Stamps a decoded reading with where it came from and validates it against the canonical
 * schema and the profile's channel declarations: an undeclared channel or a value outside its
 * physical range is a reject, never a stored reading. The calibration in force is applied first
 * (src/agent/calibration.ts), so the range check sees the dose rate that will be published.
 */
export function normaliseReading(raw: DecodedReading, origin: ReadingOrigin): { reading: Reading } | { reject: Reject } {
  const decoded = origin.calibration ? applyCalibration(raw, origin.calibration, origin.profile) : raw;
  // The same contract ingest applies (core/reading-contract.ts): declared channel, type, range.
  const refused = checkChannelValues(decoded.values, origin.profile.channels, origin.profile.id);
  if (refused) return { reject: refused };
  const candidate = {
    ...decoded,
    station: origin.station,
    device: origin.device,
    profile: origin.profile.id,
    kind: origin.profile.kind,
    source: origin.source,
  };
  const parsed = ReadingSchema.safeParse(candidate);
  if (!parsed.success) return { reject: reject('RS_ERR_READING_INVALID', z.prettifyError(parsed.error)) };
  return { reading: parsed.data };
}
