import type { Reject } from '../../src/core/errors.ts';
import type { DecodedReading } from '../../src/core/reading.ts';
import { decodeHistory } from './decode-history.ts';

/**
 * A GMC history flash dump (the bytes `<SPIR…>>` returns, or GeigerLog's `.bin`) as readings:
 * CPM samples give `cpm` and `dose_rate` (CPM / sensitivity), CPS samples give `cps`. Stamps
 * are the device's wall clock in `timeZone` (PROTOCOLS.md §1.7), so `ts_source` is `device`.
 */
export function historyToReadings(
  flash: Buffer,
  opts: { timeZone: string; sensitivity: number },
): { readings: DecodedReading[]; rejects: Reject[] } {
  const history = decodeHistory(flash, { timeZone: opts.timeZone });
  const readings = history.samples.map((s): DecodedReading => {
    const values: DecodedReading['values'] = s.unit === 'cpm' ? { cpm: s.value, dose_rate: s.value / opts.sensitivity } : { cps: s.value };
    return { ts: s.ts, ts_source: 'device', values, quality: 'good' };
  });
  return { readings, rejects: history.rejects };
}
