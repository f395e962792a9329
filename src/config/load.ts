import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { RadscreenError } from '../core/errors.ts';
import type { DeviceProfile } from '../core/profile.ts';
import { type Config, ConfigSchema } from './schema.ts';

/** Environment variables that override the file: URLs, ports and credentials only. */
export const ENV_OVERRIDES: Record<string, string[]> = {
  RADSCREEN_MQTT_URL: ['mqtt', 'url'],
  RADSCREEN_MQTT_USERNAME: ['mqtt', 'username'],
  RADSCREEN_MQTT_PASSWORD: ['mqtt', 'password'],
  RADSCREEN_INFLUX_URL: ['influx', 'url'],
  RADSCREEN_INFLUX_USERNAME: ['influx', 'username'],
  RADSCREEN_INFLUX_PASSWORD: ['influx', 'password'],
  RADSCREEN_SERVER_HOST: ['server', 'host'],
  RADSCREEN_SERVER_PORT: ['server', 'port'],
  RADSCREEN_MQTT_EMBEDDED_PORT: ['mqtt', 'embedded', 'port'],
  RADSCREEN_CALIBRATION_KEY: ['calibration', 'key'],
};
const NUMERIC_ENV = new Set(['RADSCREEN_SERVER_PORT', 'RADSCREEN_MQTT_EMBEDDED_PORT']);

/** `devices.0.alarm.dose_rate_usvh: Invalid input: expected number, received string` */
export function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
}

function applyEnv(raw: Record<string, unknown>, env: NodeJS.ProcessEnv): void {
  for (const [name, path] of Object.entries(ENV_OVERRIDES)) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    let node = raw;
    for (const key of path.slice(0, -1)) {
      if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
    node[path[path.length - 1] as string] = NUMERIC_ENV.has(name) && /^\d+$/.test(value) ? Number(value) : value;
  }
}

/**
 * Parses a config from YAML text. Throws RadscreenError RS_ERR_CONFIG_INVALID whose
 * `details` is the list of `path: message` lines; nothing is started before this returns.
 */
export function parseConfig(
  text: string,
  opts: { env?: NodeJS.ProcessEnv; catalogue?: ReadonlyMap<string, DeviceProfile>; baseDir?: string } = {},
): Config {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const lines = doc.errors.map((e) => `${e.linePos ? `line ${e.linePos[0].line}` : '(yaml)'}: ${e.message.split('\n')[0]}`);
    throw new RadscreenError('RS_ERR_CONFIG_UNREADABLE', 'the config is not valid YAML', lines);
  }
  const raw = (doc.toJS() ?? {}) as unknown;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new RadscreenError('RS_ERR_CONFIG_INVALID', 'the config must be a mapping', ['(root): expected a mapping of keys']);
  applyEnv(raw as Record<string, unknown>, opts.env ?? process.env);
  const parsed = ConfigSchema.safeParse(raw);
  if (!parsed.success) throw new RadscreenError('RS_ERR_CONFIG_INVALID', 'the config is invalid', formatIssues(parsed.error.issues));
  const config = parsed.data;
  if (opts.baseDir && !isAbsolute(config.data_dir)) config.data_dir = resolve(opts.baseDir, config.data_dir);
  if (opts.catalogue) checkDevices(config, opts.catalogue);
  return config;
}

/** Checks each device against its profile: the profile exists and accepts the options. */
function checkDevices(config: Config, catalogue: ReadonlyMap<string, DeviceProfile>): void {
  const problems: string[] = [];
  config.devices.forEach((device, i) => {
    const profile = catalogue.get(device.profile);
    if (!profile) {
      problems.push(`devices.${i}.profile: unknown profile '${device.profile}' (known: ${[...catalogue.keys()].join(', ')})`);
      return;
    }
    // A serial family cannot be read from a topic, nor an MQTT family from a port.
    if (device.mqtt && profile.link.type !== 'mqtt')
      problems.push(`devices.${i}.mqtt: profile '${profile.id}' is a serial device; use \`serial\``);
    if (device.serial && profile.link.type !== 'serial')
      problems.push(`devices.${i}.serial: profile '${profile.id}' publishes on MQTT; use \`mqtt\``);
    if (profile.optionsSchema) {
      const r = profile.optionsSchema.safeParse(device.options);
      if (!r.success) problems.push(...formatIssues(r.error.issues).map((l) => `devices.${i}.options.${l}`));
      else device.options = r.data;
    } else if (Object.keys(device.options).length > 0) {
      problems.push(`devices.${i}.options: profile '${profile.id}' takes no options`);
    }
  });
  if (problems.length) throw new RadscreenError('RS_ERR_CONFIG_INVALID', 'the config is invalid', problems);
}

/** Reads and parses a config file; relative `data_dir` is taken from the project's working directory. */
export function loadConfig(path: string, opts: { env?: NodeJS.ProcessEnv; catalogue?: ReadonlyMap<string, DeviceProfile> } = {}): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new RadscreenError('RS_ERR_CONFIG_UNREADABLE', `cannot read config ${path}`, [`${path}: ${(e as Error).message}`]);
  }
  return parseConfig(text, { ...opts, baseDir: process.cwd() });
}

/** The config's JSON Schema, for editors (`radscreen config schema`). */
export function configJsonSchema(): unknown {
  return z.toJSONSchema(ConfigSchema, { io: 'input', unrepresentable: 'any' });
}
