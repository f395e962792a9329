import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { MqttClient } from 'mqtt';
import { z } from 'zod';
import { calibrationKindOf, ceilingRange, referenceFactor } from '../calibration/plausibility.ts';
import { untrustedReason } from '../calibration/signing.ts';
import { type CalibrationMessage, CalibrationMessageSchema, DEADLETTER_TOPIC, type DeadLetter, topics } from '../core/contract.ts';
import type { DeviceProfile } from '../core/profile.ts';

/**
 * Which profiles get which factor (the server decides the same way, src/server/routes/calibrations.ts):
 * a profile with a `defaultSensitivity` has a GM tube whose counts the agent sees, so its calibration
 * is a `sensitivity` (CPM per µSv/h) and `dose_rate = cpm / sensitivity`; every other profile
 * reports µSv/h itself (or converts with a sensitivity the device holds, like Rad Pro), so its
 * calibration is a dimensionless `correction` multiplied into every µSv/h channel.
 */
export function calibrationKindFor(profile: DeviceProfile): CalibrationMessage['kind'] {
  return calibrationKindOf(profile);
}

/** Why a calibration message was not applied (each is counted and dead-lettered). */
export type CalibrationRejectCode =
  | 'RS_ERR_PAYLOAD_JSON'
  | 'RS_ERR_PAYLOAD_INVALID'
  | 'RS_ERR_CALIBRATION_UNTRUSTED'
  | 'RS_ERR_CALIBRATION_IMPLAUSIBLE';

/** Result of checking a calibration payload: the message, or a dead-letter code and reason. */
export type CalibrationParse = { ok: true; calibration: CalibrationMessage } | { ok: false; code: CalibrationRejectCode; reason: string };

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
 * Whether this agent may apply a well-formed calibration: signed by the server's key
 * (RS_ERR_CALIBRATION_UNTRUSTED otherwise), not older than the one in force (a replayed
 * genuine message is untrusted too: a correction is always a newer record), and within the hard
 * ceiling of 10× the device's reference factor (RS_ERR_CALIBRATION_IMPLAUSIBLE; the server never
 * signs one, this holds even if the key leaked).
 */
export function trustCalibration(
  c: CalibrationMessage,
  expected: { key: CalibrationKeySource; profile: DeviceProfile; options?: Record<string, unknown> },
  current: CalibrationMessage | undefined,
): CalibrationParse {
  const untrusted = untrustedReason(c, typeof expected.key === 'function' ? expected.key() : expected.key);
  if (untrusted) return { ok: false, code: 'RS_ERR_CALIBRATION_UNTRUSTED', reason: untrusted };
  if (current?.seq !== undefined && (c.seq as number) < current.seq)
    return {
      ok: false,
      code: 'RS_ERR_CALIBRATION_UNTRUSTED',
      reason: `record ${c.seq} is older than the calibration in force (${current.seq}): a replay`,
    };
  const ceiling = ceilingRange(referenceFactor(expected.profile, expected.options));
  if (!(c.factor >= ceiling.min && c.factor <= ceiling.max))
    return {
      ok: false,
      code: 'RS_ERR_CALIBRATION_IMPLAUSIBLE',
      reason: `factor ${c.factor} lies outside ${ceiling.min}…${ceiling.max} (10× the device's reference either way)`,
    };
  return { ok: true, calibration: c };
}

/**
 * The key, or a getter for it: an agent started before the server has written its key file
 * looks again at each message instead of refusing calibrations until it is restarted.
 */
export type CalibrationKeySource = Buffer | undefined | (() => Buffer | undefined);

/** What followCalibration needs: the device's own MQTT connection and where to report. */
export interface FollowCalibrationOptions {
  client: MqttClient;
  station: string;
  device: string;
  profile: DeviceProfile;
  /** The device's profile options (its tube `sensitivity`, if any): the reference for the ceiling. */
  options?: Record<string, unknown>;
  /** The server's signing key; undefined: no calibration is trusted (each is refused and counted). */
  key: CalibrationKeySource;
  log: { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void };
  /** Counts a refused message (or local copy) per device and code; a message is also dead-lettered here. */
  onInvalid(code: CalibrationRejectCode, reason: string, payload: Buffer): void;
  /**
   * Where the last good calibration is kept on disk. An agent that restarts while the broker
   * has lost its retained message (the embedded broker keeps them in memory) and the server is
   * down still applies the calibration in force instead of sending uncalibrated dose rates.
   * Only a verified message is written, and the copy is verified again when read.
   */
  cachePath?: string;
}

function readCached(opts: FollowCalibrationOptions): CalibrationMessage | undefined {
  if (!opts.cachePath || !existsSync(opts.cachePath)) return undefined;
  const payload = readFileSync(opts.cachePath);
  const parsed = parseCalibrationMessage(payload, opts);
  if (!parsed.ok) {
    opts.log.warn({ path: opts.cachePath, reason: parsed.reason }, 'cached calibration unreadable; waiting for the server');
    return undefined;
  }
  const trusted = trustCalibration(parsed.calibration, opts, undefined);
  if (trusted.ok) return trusted.calibration;
  opts.onInvalid(trusted.code, trusted.reason, payload);
  opts.log.warn(
    { code: trusted.code, path: opts.cachePath, reason: trusted.reason },
    'cached calibration not trusted; waiting for the server',
  );
  return undefined;
}

function writeCached(path: string, payload: Buffer): void {
  mkdirSync(dirname(path), { recursive: true });
  // Write then rename, so a crash mid-write never leaves half a calibration behind.
  writeFileSync(`${path}.tmp`, payload, { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}

/**
 * Subscribes to the device's retained calibration topic and returns a getter for the
 * calibration in force. A message that is invalid, not signed by the server's key, a replay
 * or beyond the ceiling is refused: counted, dead-lettered with the reason, logged at warn, and
 * the last good calibration stays in force. An empty retained payload (a cleared topic) is
 * ignored too, since dropping a calibration silently would change dose rates without a record.
 * The subscription is renewed by mqtt.js on every reconnect, so the broker re-sends the retained one.
 */
export function followCalibration(opts: FollowCalibrationOptions): () => CalibrationMessage | undefined {
  const topic = topics.calibration(opts.station, opts.device);
  let current = readCached(opts);
  if (current)
    opts.log.info({ calibration_id: current.calibration_id, factor: current.factor }, 'calibration in force (from the local copy)');
  if (!(typeof opts.key === 'function' ? opts.key() : opts.key))
    opts.log.warn({ topic }, 'no calibration key: calibrations from the server cannot be verified and will be refused');
  const refuse = (code: CalibrationRejectCode, reason: string, payload: Buffer) => {
    opts.onInvalid(code, reason, payload);
    opts.log.warn({ code, reason, kept: current?.calibration_id ?? null }, 'calibration refused');
    const letter: DeadLetter = { v: 1, code, reason, topic, ts: Date.now(), payload_b64: payload.toString('base64') };
    opts.client.publish(DEADLETTER_TOPIC, JSON.stringify(letter), { qos: 1 }, () => {});
  };
  opts.client.on('message', (t, payload) => {
    if (t !== topic || payload.length === 0) return;
    const parsed = parseCalibrationMessage(payload, opts);
    if (!parsed.ok) return refuse(parsed.code, parsed.reason, payload);
    const trusted = trustCalibration(parsed.calibration, opts, current);
    if (!trusted.ok) return refuse(trusted.code, trusted.reason, payload);
    if (trusted.calibration.calibration_id !== current?.calibration_id)
      opts.log.info(
        { calibration_id: trusted.calibration.calibration_id, kind: trusted.calibration.kind, factor: trusted.calibration.factor },
        'calibration in force',
      );
    current = trusted.calibration;
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
