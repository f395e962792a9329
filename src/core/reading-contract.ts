import type { ChannelSpec } from './channel.ts';
import { type Reject, reject } from './errors.ts';
import type { ChannelValue, Reading } from './reading.ts';
import { checkTimestamp, type TimestampWindow } from './time-window.ts';

/**
 * The reading contract: what a reading must satisfy to be stored, checked in the SAME function by
 * the agent (normalise stage, before its outbox) and by ingest (per reading, before its spool),
 * so nothing the agent would reject reaches InfluxDB by being published straight to a readings
 * topic (docs/data-integrity.md "The validation contract").
 *
 * Pure: no clock (the caller passes `now`), no catalogue (the caller passes the profile's channel
 * declarations, since core must not import devices/).
 *
 * Why types are checked, not only ranges: InfluxDB fixes a field's type per measurement and shard
 * (one UTC day under the default shard duration) from the first point written. One reading with
 * `cpm: "x"` stamped on a future day would make that day's `cpm` a string field and every later
 * float `cpm` of that day, of every device, a refused write. With every value typed by its
 * channel declaration, and one type per channel key across a measurement (the catalogue test
 * checks that), a field's type is fixed by the catalogue and cannot be poisoned.
 */

/** Most readings one `{v:1, readings}` message may carry (the agent coalesces at most this many). */
export const MAX_READINGS_PER_MESSAGE = 1000;
/** Most channel values one reading may carry: the widest profile declares about 20. */
export const MAX_VALUES_PER_READING = 64;
/**
 * Largest readings payload, bytes, checked BEFORE JSON.parse: 1,000 readings of up to ~1 KiB of
 * JSON each. Parsing is synchronous, so this bound is what keeps one hostile message (10 MB, 600k
 * keys) from stalling the process; MQTT brokers and clients should use a packet limit ≥ this.
 */
export const MAX_READINGS_PAYLOAD_BYTES = 1024 * 1024;

/** What checkReadingContract needs besides the reading. Omit to skip the timestamp check. */
export interface ContractTime {
  /** ms since the epoch: the receiving clock. */
  now: number;
  window: TimestampWindow;
}

/**
 * Checks every value against the profile's declarations: channel declared
 * (RS_ERR_CHANNEL_UNKNOWN), value type matching the channel type (RS_ERR_CHANNEL_TYPE: `number`
 * channels take finite numbers, `boolean` booleans, `enum` strings), numbers inside [min, max] and
 * enum words among `values` (RS_ERR_FRAME_RANGE).
 *
 * Profiles whose channels come from config (mqtt-json maps JSON paths onto a FIXED set of
 * canonical channels) declare that fixed set here, so config can choose which channels a device
 * fills but never invent a channel or change its type.
 * @returns undefined when every value passes, else the first reject.
 */
export function checkChannelValues(
  values: Readonly<Record<string, ChannelValue>>,
  channels: readonly ChannelSpec[],
  profileId: string,
): Reject | undefined {
  for (const key in values) {
    const value = values[key] as ChannelValue;
    const spec = findChannel(channels, key);
    if (!spec) return reject('RS_ERR_CHANNEL_UNKNOWN', `channel '${key}' is not declared by ${profileId}`);
    const type = spec.type ?? 'number';
    const actual = typeof value;
    if (
      (type === 'number' && actual !== 'number') ||
      (type === 'boolean' && actual !== 'boolean') ||
      (type === 'enum' && actual !== 'string')
    )
      return reject(
        'RS_ERR_CHANNEL_TYPE',
        `${key} is a ${type} channel of ${profileId}, got ${actual} ${JSON.stringify(value).slice(0, 40)}`,
      );
    if (typeof value === 'number') {
      if ((spec.min !== undefined && value < spec.min) || (spec.max !== undefined && value > spec.max))
        return reject('RS_ERR_FRAME_RANGE', `${key}=${value} ${spec.unit} outside [${spec.min ?? '-∞'}, ${spec.max ?? '∞'}]`);
    } else if (type === 'enum' && spec.values && !spec.values.includes(value as string)) {
      return reject('RS_ERR_FRAME_RANGE', `${key}=${String(value)} is not one of ${spec.values.join('|')}`);
    }
  }
  return undefined;
}

/** Linear on purpose: profiles declare a handful of channels, so a Map per call would cost more. */
function findChannel(channels: readonly ChannelSpec[], key: string): ChannelSpec | undefined {
  for (const c of channels) if (c.key === key) return c;
  return undefined;
}

/**
 * The whole per-reading contract: channel values (checkChannelValues), then the timestamp window
 * (core checkTimestamp: RS_ERR_TS_FUTURE / RS_ERR_TS_PAST) when `time` is given.
 * The shape (ids, quality, seq range, value and key counts) is the zod schema's job (reading.ts).
 * @returns undefined when the reading may be stored, else the reject to count and dead-letter.
 */
export function checkReadingContract(
  reading: Pick<Reading, 'ts' | 'values' | 'profile'>,
  channels: readonly ChannelSpec[],
  time?: ContractTime,
): Reject | undefined {
  return (
    checkChannelValues(reading.values, channels, reading.profile) ?? (time ? checkTimestamp(reading.ts, time.now, time.window) : undefined)
  );
}
