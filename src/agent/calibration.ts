import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { MqttClient } from 'mqtt';
import { z } from 'zod';
import { type CalibrationMessage, CalibrationMessageSchema, DEADLETTER_TOPIC, type DeadLetter, topics } from '../core/contract.ts';
import type { DeviceProfile } from '../core/profile.ts';
import type { DecodedReading } from '../core/reading.ts';

/**
 * Which profiles get which factor (the server decides the same way, src/server/routes/calibrations.ts):
 * a profile with a `defaultSensitivity` has a GM tube whose counts the agent sees, so its calibration
 * is a `sensitivity` (CPM per µSv/h) and `dose_rate = cpm / sensitivity`; every other profile
 * reports µSv/h itself (or converts with a sensitivity the device holds, like Rad Pro), so its
 * calibration is a dimensionless `correction` multiplied into every µSv/h channel.
 */
export function calibrationKindFor(profile: DeviceProfile): CalibrationMessage['kind'] {
  return profile.defaultSensitivity !== undefined ? 'sensitivity' : 'correction';
}

/** Result of checking a calibration payload: the message, or a dead-letter code and reason. */
export type CalibrationParse =
  | { ok: true; calibration: CalibrationMessage }
  | { ok: false; code: 'RS_ERR_PAYLOAD_JSON' | 'RS_ERR_PAYLOAD_INVALID'; reason: string };

/**
 * Validates a retained calibration payload for one device: the schema, that it names this
 * station and device, and that its kind is the one this profile takes (a sensitivity sent to a
 * device without counts would silently do nothing; a correction sent to a GM device would
 * scale a dose rate the agent recomputes anyway).
 */
export function parseCalibrationMessage(
  payload: Buffer,
  expected: { station: string; device: string; profile: DeviceProfile },
): CalibrationParse {
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch (e) {
    return { ok: false, code: 'RS_ERR_PAYLOAD_JSON', reason: (e as Error).message };
  }
  const parsed = CalibrationMessageSchema.safeParse(json);
  if (!parsed.success) return { ok: false, code: 'RS_ERR_PAYLOAD_INVALID', reason: z.prettifyError(parsed.error) };
  const c = parsed.data;
  if (c.station !== expected.station || c.device !== expected.device)
    return {
      ok: false,
      code: 'RS_ERR_PAYLOAD_INVALID',
      reason: `calibration for ${c.station}/${c.device}, not ${expected.station}/${expected.device}`,
    };
  const kind = calibrationKindFor(expected.profile);
  if (c.kind !== kind)
    return { ok: false, code: 'RS_ERR_PAYLOAD_INVALID', reason: `profile ${expected.profile.id} takes a ${kind} factor, not a ${c.kind}` };
  return { ok: true, calibration: c };
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

/** What followCalibration needs: the device's own MQTT connection and where to report. */
export interface FollowCalibrationOptions {
  client: MqttClient;
  station: string;
  device: string;
  profile: DeviceProfile;
  log: { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void };
  /** Counts an invalid message per device and code (it is also dead-lettered here). */
  onInvalid(code: 'RS_ERR_PAYLOAD_JSON' | 'RS_ERR_PAYLOAD_INVALID', reason: string, payload: Buffer): void;
  /**
   * Where the last good calibration is kept on disk. An agent that restarts while the broker
   * has lost its retained message (the embedded broker keeps them in memory) and the server is
   * down still applies the calibration in force instead of sending uncalibrated dose rates.
   */
  cachePath?: string;
}

function readCached(opts: FollowCalibrationOptions): CalibrationMessage | undefined {
  if (!opts.cachePath || !existsSync(opts.cachePath)) return undefined;
  const parsed = parseCalibrationMessage(readFileSync(opts.cachePath), opts);
  if (parsed.ok) return parsed.calibration;
  opts.log.warn({ path: opts.cachePath, reason: parsed.reason }, 'cached calibration unreadable; waiting for the server');
  return undefined;
}

function writeCached(path: string, payload: Buffer): void {
  mkdirSync(dirname(path), { recursive: true });
  // Write then rename, so a crash mid-write never leaves half a calibration behind.
  writeFileSync(`${path}.tmp`, payload);
  renameSync(`${path}.tmp`, path);
}

/**
 * Subscribes to the device's retained calibration topic and returns a getter for the
 * calibration in force. An invalid message is dead-lettered with the reason and ignored: the
 * last good calibration stays in force. An empty retained payload (a cleared topic) is ignored
 * too, since dropping a calibration silently would change dose rates without a record. The
 * subscription is renewed by mqtt.js on every reconnect, so the broker re-sends the retained one.
 */
export function followCalibration(opts: FollowCalibrationOptions): () => CalibrationMessage | undefined {
  const topic = topics.calibration(opts.station, opts.device);
  let current = readCached(opts);
  if (current)
    opts.log.info({ calibration_id: current.calibration_id, factor: current.factor }, 'calibration in force (from the local copy)');
  opts.client.on('message', (t, payload) => {
    if (t !== topic || payload.length === 0) return;
    const parsed = parseCalibrationMessage(payload, opts);
    if (!parsed.ok) {
      opts.onInvalid(parsed.code, parsed.reason, payload);
      opts.log.warn({ code: parsed.code, reason: parsed.reason, kept: current?.calibration_id ?? null }, 'invalid calibration ignored');
      const letter: DeadLetter = {
        v: 1,
        code: parsed.code,
        reason: parsed.reason,
        topic,
        ts: Date.now(),
        payload_b64: payload.toString('base64'),
      };
      opts.client.publish(DEADLETTER_TOPIC, JSON.stringify(letter), { qos: 1 }, () => {});
      return;
    }
    if (parsed.calibration.calibration_id !== current?.calibration_id)
      opts.log.info(
        { calibration_id: parsed.calibration.calibration_id, kind: parsed.calibration.kind, factor: parsed.calibration.factor },
        'calibration in force',
      );
    current = parsed.calibration;
    if (opts.cachePath) {
      try {
        writeCached(opts.cachePath, payload);
      } catch (e) {
        opts.log.warn({ path: opts.cachePath, err: (e as Error).message }, 'calibration not kept on disk');
      }
    }
  });
  opts.client.subscribe(topic, { qos: 1 }, (err) => {
    if (err) opts.log.warn({ err: err.message, topic }, 'calibration subscription failed');
  });
  return () => current;
}
