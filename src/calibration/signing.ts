import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { CalibrationMessage } from '../core/contract.ts';

/**
 * Calibration messages are signed by the server with HMAC-SHA256 (RFC 2104, FIPS 198-1) and
 * verified by the agent before it applies or stores one (docs/calibration-trust.md). The MQTT
 * ACL says *who* published; the signature says the server *recorded* it, so a broker without an
 * ACL (or a leaked agent password) still cannot recalibrate a detector.
 */

/** 256-bit key: the HMAC-SHA256 block is 512 bits, so any key up to that length is used as is. */
export const CALIBRATION_KEY_BYTES = 32;
const KEY_HEX = /^[0-9a-f]{64}$/;

/** Where the key lives unless `calibration.key_file` says otherwise. */
export function calibrationKeyPath(config: { data_dir: string; calibration?: { key_file?: string | undefined } }): string {
  const file = config.calibration?.key_file;
  if (!file) return join(config.data_dir, 'calibration.key');
  return isAbsolute(file) ? file : resolve(config.data_dir, file);
}

function parseKey(text: string, where: string): Buffer {
  const hex = text.trim().toLowerCase();
  if (!KEY_HEX.test(hex)) throw new Error(`${where}: a calibration key is 64 hex digits (32 bytes)`);
  return Buffer.from(hex, 'hex');
}

/**
 * The server's key: read from `path`, or generated (32 random bytes, hex) at first start and
 * written with mode 0600 (exclusive create, so two processes starting at once cannot both write).
 * Throws when the file exists but does not hold a key: a silently replaced key would make every
 * agent distrust the calibrations in force.
 */
export function loadOrCreateCalibrationKey(path: string): Buffer {
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const key = randomBytes(CALIBRATION_KEY_BYTES);
    try {
      const fd = openSync(path, 'wx', 0o600);
      try {
        writeSync(fd, `${key.toString('hex')}\n`);
      } finally {
        closeSync(fd);
      }
      chmodSync(path, 0o600); // the umask may have narrowed it further, never widened: make it exact.
      return key;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  return parseKey(readFileSync(path, 'utf8'), path);
}

/**
 * The agent's key: `calibration.key` (hex, e.g. from RADSCREEN_CALIBRATION_KEY) for an agent on
 * another host, else the key file when it exists. Undefined means no calibration can be trusted:
 * the agent never creates a key, since only the server may sign.
 */
export function readCalibrationKey(config: {
  data_dir: string;
  calibration?: { key?: string | undefined; key_file?: string | undefined };
}): Buffer | undefined {
  if (config.calibration?.key) return parseKey(config.calibration.key, 'calibration.key');
  const path = calibrationKeyPath(config);
  return existsSync(path) ? parseKey(readFileSync(path, 'utf8'), path) : undefined;
}

/** First 8 hex digits of SHA-256(key): names the key in messages and logs without revealing it. */
export function calibrationKeyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8);
}

/** The fields a signature covers, in a fixed order: JSON of an array, so no key-order or whitespace ambiguity. */
export function canonicalCalibration(m: Omit<CalibrationMessage, 'sig' | 'key_id'>): string {
  return JSON.stringify([
    'radscreen-calibration',
    m.v,
    m.station,
    m.device,
    m.calibration_id,
    m.seq ?? null,
    m.kind,
    m.factor,
    m.calibrated_at,
    m.due,
  ]);
}

/** The message with `key_id` and `sig` (HMAC-SHA256 of the canonical form, hex) set. */
export function signCalibration(m: Omit<CalibrationMessage, 'sig' | 'key_id'>, key: Buffer): CalibrationMessage {
  const sig = createHmac('sha256', key).update(canonicalCalibration(m)).digest('hex');
  return { ...m, key_id: calibrationKeyId(key), sig };
}

/** Why a calibration message is not trusted, or null when its signature is the server's. */
export function untrustedReason(m: CalibrationMessage, key: Buffer | undefined): string | null {
  if (!key) return 'this agent has no calibration key (calibration.key or the key file), so it trusts no calibration';
  if (!m.sig) return 'unsigned calibration';
  if (m.seq === undefined) return 'signed calibration without a seq';
  const expected = createHmac('sha256', key).update(canonicalCalibration(m)).digest();
  const given = Buffer.from(m.sig, 'hex');
  if (given.length === expected.length && timingSafeEqual(given, expected)) return null;
  const id = calibrationKeyId(key);
  return m.key_id && m.key_id !== id
    ? `signed with key ${m.key_id}, this agent has key ${id} (rotated key not distributed?)`
    : 'signature does not match';
}
