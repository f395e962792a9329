import { z } from 'zod';
import type { CalibrationMessage } from './contract.ts';
import { type Reject, reject } from './errors.ts';
import type { DeviceProfile } from './profile.ts';
import { type DecodedReading, type Reading, ReadingSchema, type Source } from './reading.ts';
import { checkChannelValues } from './reading-contract.ts';

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
 * (applyCalibration, below), so the range check sees the dose rate that will be published.
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

/**
 * Applies the calibration in force to one decoded reading (values in canonical units) and
 * stamps its id. `sensitivity`: `dose_rate = cpm / factor` (µSv/h from CPM) when the reading
 * has a numeric `cpm`; a reading without counts keeps its values but is still stamped, since the
 * calibration is in force for the device. `correction`: every channel whose unit is µSv/h is
 * multiplied by `factor`. Pure; the input is not modified.
 */
export function applyCalibration(decoded: DecodedReading, calibration: CalibrationMessage, profile: DeviceProfile): DecodedReading {
  const values = { ...decoded.values };
  if (calibration.kind === 'sensitivity') {
    const cpm = values.cpm;
    if (typeof cpm === 'number' && profile.channels.some((c) => c.key === 'dose_rate')) values.dose_rate = cpm / calibration.factor;
  } else {
    for (const spec of profile.channels) {
      const v = values[spec.key];
      if (spec.unit === 'uSv/h' && typeof v === 'number') values[spec.key] = v * calibration.factor;
    }
  }
  return { ...decoded, values, calibration_id: calibration.calibration_id };
}
