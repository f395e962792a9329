import { parseReading, parseReadingsEnvelope, parseTopic } from '../core/contract.ts';
import type { ErrorCode, Reject } from '../core/errors.ts';
import type { DeviceProfile } from '../core/profile.ts';
import type { Reading } from '../core/reading.ts';
import { checkReadingContract } from '../core/reading-contract.ts';
import { DEFAULT_TIMESTAMP_WINDOW, type TimestampWindow } from '../core/time-window.ts';
import { fastCheckReading } from './reading-fast-check.ts';

/**
 * Admission: which readings of a payload ingest may store (docs/data-integrity.md "Admission").
 * Per message: the bounds and the envelope (contract.ts). Per reading: the canonical schema, the
 * topic it came on, the station's device list, and the reading contract the agent applies too
 * (core/reading-contract.ts). A refused reading is dead-lettered; the rest of its message is kept.
 */

/** The devices of the station this ingest serves (from its config). */
export interface KnownDevices {
  station: string;
  /** Configured devices: id and profile id. */
  devices: readonly { id: string; profile: string }[];
}

/** Device ids of training scenarios on the wire: `training-<scenario device id>` (src/training). */
export const TRAINING_DEVICE_PREFIX = 'training-';

export interface AdmissionOptions {
  /** Every device profile by id (devices/index.ts). */
  catalogue: ReadonlyMap<string, DeviceProfile>;
  /** Unset: any station and device id is accepted (tools, tests); the contract still applies. */
  known?: KnownDevices;
  /** Default DEFAULT_TIMESTAMP_WINDOW. */
  window?: TimestampWindow;
  /** The receiving clock, ms. Default Date.now. */
  now?: () => number;
}

/** Readings refused for one code in one message, with the first reason. */
export interface RefusedGroup {
  code: ErrorCode;
  reason: string;
  /** The refused readings as received (unvalidated JSON values), for the dead-letter record. */
  items: unknown[];
  /** Those of them that passed the schema (for the station's receipts: a refused reading is settled). */
  parsed: Reading[];
}

export type Admission =
  | { ok: false; code: ErrorCode; reason: string }
  | { ok: true; accepted: Reading[]; refused: RefusedGroup[]; received: number };

/**
 * Builds the admission check. Rules for devices not in the config (when `known` is set):
 * - `training-<id>` devices with source `training` are admitted: scenario devices are defined by
 *   scenario files, not the config, and their points are tagged `source=training`;
 * - source `replay` (`radscreen import`, replays of stored files) is admitted for any device id:
 *   history of an instrument may outlive its config entry; tagged `source=replay`, never live;
 *   its timestamps may lie any distance in the past (history), never in the future;
 * - anything else is RS_ERR_DEVICE_UNKNOWN. A configured device must keep its configured
 *   profile, and a reading must name the station and device of its topic (RS_ERR_DEVICE_MISMATCH).
 */
export function createAdmission(opts: AdmissionOptions): (topic: string, payload: Buffer) => Admission {
  const now = opts.now ?? Date.now;
  const window = opts.window ?? DEFAULT_TIMESTAMP_WINDOW;
  const replayWindow: TimestampWindow = { futureMs: window.futureMs, pastMs: Number.POSITIVE_INFINITY };
  const configured = new Map((opts.known?.devices ?? []).map((d) => [d.id, d.profile]));

  function admitOne(reading: Reading, topicStation: string | undefined, topicDevice: string | undefined, at: number): Reject | undefined {
    if (reading.station !== topicStation || reading.device !== topicDevice)
      return {
        code: 'RS_ERR_DEVICE_MISMATCH',
        message: `reading of ${reading.station}/${reading.device} published on the topic of ${topicStation}/${topicDevice}`,
      };
    const profile = opts.catalogue.get(reading.profile);
    if (!profile) return { code: 'RS_ERR_UNKNOWN_PROFILE', message: `no device profile '${reading.profile}'` };
    const known = opts.known;
    if (known) {
      if (reading.station !== known.station)
        return { code: 'RS_ERR_DEVICE_UNKNOWN', message: `station '${reading.station}' is not this ingest's station '${known.station}'` };
      const configuredProfile = configured.get(reading.device);
      if (configuredProfile !== undefined && configuredProfile !== reading.profile)
        return {
          code: 'RS_ERR_DEVICE_MISMATCH',
          message: `device '${reading.device}' is configured as ${configuredProfile}, the reading says ${reading.profile}`,
        };
      const training = reading.source === 'training' && reading.device.startsWith(TRAINING_DEVICE_PREFIX);
      if (configuredProfile === undefined && !training && reading.source !== 'replay')
        return {
          code: 'RS_ERR_DEVICE_UNKNOWN',
          message: `device '${reading.device}' is not in the configuration of station '${known.station}'`,
        };
    }
    return checkReadingContract(reading, profile.channels, { now: at, window: reading.source === 'replay' ? replayWindow : window });
  }

  return (topic, payload) => {
    const envelope = parseReadingsEnvelope(payload);
    if (!envelope.ok) return envelope;
    const parts = parseTopic(topic);
    const at = now();
    const accepted: Reading[] = [];
    const refused = new Map<ErrorCode, RefusedGroup>();
    const refuse = (code: ErrorCode, reason: string, item: unknown, reading?: Reading) => {
      const g = refused.get(code) ?? { code, reason, items: [], parsed: [] };
      refused.set(code, g);
      g.items.push(item);
      if (reading) g.parsed.push(reading);
    };
    for (const raw of envelope.readings) {
      // The cheap check proves the common valid case; zod decides (and explains) everything else.
      let reading = fastCheckReading(raw);
      if (!reading) {
        const parsed = parseReading(raw);
        if (!parsed.ok) {
          refuse(parsed.code, parsed.reason, raw);
          continue;
        }
        reading = parsed.reading;
      }
      const r = admitOne(reading, parts?.station, parts?.device, at);
      if (r) refuse(r.code, r.message, raw, reading);
      else accepted.push(reading);
    }
    return { ok: true, accepted, refused: [...refused.values()], received: envelope.readings.length };
  };
}
