import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, closeSync, mkdirSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';

/**
 * The station's MQTT credentials: one random 256-bit secret, generated at first start and kept
 * in a 0600 file (directory 0700). Each identity's password is HMAC-SHA256(secret, user name),
 * base64url, so every process pointed at the same file (config `mqtt.credentials_file`) agrees
 * on every identity's password, a device added later needs no new file, and replacing the file
 * rotates them all. Whoever can read the file can become any identity: it is the station's key.
 */
export interface MqttCredentials {
  /** Where the secret lives. */
  path: string;
  /** The password of a user name (43 base64url characters). */
  passwordFor(username: string): string;
  /** Constant-time check of a password a client presented. */
  verify(username: string, password: Buffer | string | undefined): boolean;
}

const FileSchema = z.strictObject({
  v: z.literal(1),
  /** 32 random bytes, base64. */
  secret: z.string().regex(/^[A-Za-z0-9+/]{43}=$/),
  created: z.string(),
});

/** `<data_dir>/mqtt-credentials.json` unless the config names another file. */
export function credentialsPath(config: { data_dir: string; mqtt: { credentials_file?: string | undefined } }): string {
  return config.mqtt.credentials_file ?? join(config.data_dir, 'mqtt-credentials.json');
}

const cache = new Map<string, MqttCredentials>();

/**
 * Reads the credentials file, creating it (exclusively, so two processes starting at once end
 * up with the same secret) when missing. Tightens the modes of an existing file and directory.
 * @throws when the file exists but is not a radscreen credentials file.
 */
export function loadMqttCredentials(path: string): MqttCredentials {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if ((statSync(dir).mode & 0o077) !== 0) chmodSync(dir, 0o700);
  try {
    const fd = openSync(path, 'wx', 0o600);
    const body = { v: 1, secret: randomBytes(32).toString('base64'), created: new Date().toISOString() };
    writeSync(fd, `${JSON.stringify(body, null, 2)}\n`);
    closeSync(fd);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  const st = statSync(path);
  if ((st.mode & 0o077) !== 0) chmodSync(path, 0o600);
  // Keyed by inode and mtime too: a replaced file (rotation, a test's fresh dir) is read anew.
  const key = `${path}:${st.ino}:${st.mtimeMs}`;
  const cached = cache.get(key);
  if (cached) return cached;
  let parsed: z.infer<typeof FileSchema>;
  try {
    parsed = FileSchema.parse(JSON.parse(readFileSync(path, 'utf8')));
  } catch (e) {
    throw new Error(
      `${path} is not a radscreen MQTT credentials file (${(e as Error).message.split('\n')[0]}); move it away to generate a new one`,
    );
  }
  const secret = Buffer.from(parsed.secret, 'base64');
  const passwordFor = (username: string) => createHmac('sha256', secret).update(username, 'utf8').digest('base64url');
  const creds: MqttCredentials = {
    path,
    passwordFor,
    verify(username, password) {
      if (password === undefined) return false;
      const given = Buffer.isBuffer(password) ? password : Buffer.from(password, 'utf8');
      const want = Buffer.from(passwordFor(username), 'utf8');
      return given.length === want.length && timingSafeEqual(given, want);
    },
  };
  cache.set(key, creds);
  return creds;
}
