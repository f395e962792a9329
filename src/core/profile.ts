import type { z } from 'zod';
import type { ChannelSpec, Measurement } from './channel.ts';
import { RadscreenError, type Reject } from './errors.ts';
import type { DecodedReading, DeviceKind } from './reading.ts';

/** Serial line settings a device family uses by default; config may override path and baud. */
export interface SerialLinkDefaults {
  type: 'serial';
  baudRate: number;
  dataBits?: 5 | 6 | 7 | 8;
  parity?: 'none' | 'even' | 'odd';
  stopBits?: 1 | 2;
}

/** A device that publishes JSON on MQTT itself; `topic` is an MQTT filter with `+`/`#`. */
export interface MqttLinkDefaults {
  type: 'mqtt';
  topic: string;
}

export interface SessionLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/**
 * What a device session may touch. Sessions never open ports or read clocks themselves:
 * the agent hands them this, so the same session runs on a pty, a mock port or a replay.
 */
export interface SessionContext<Options extends object = Record<string, unknown>> {
  /** ms since the epoch; the agent's clock (fake in tests). */
  now(): number;
  /** Bytes to the device. Rejects when the port is gone; poll sessions treat that as a timeout. */
  write(bytes: Buffer | string): Promise<void>;
  /** A decoded reading, values already in canonical units. */
  emit(reading: DecodedReading): void;
  /** A frame that could not be decoded: counted per device and code, the stream goes on. */
  reject(r: Reject): void;
  /**
   * Per-device options from the config, already validated (defaults filled in) by the profile's
   * optionsSchema at the boundary (config loader, scenario loader): typed, never re-parsed.
   */
  options: Options;
  log: SessionLogger;
  /**
   * A gamma spectrum the device measured (spectrometers only). The agent completes it into the
   * canonical spectrum (src/spectra/spectrum.ts), validates it and publishes it on the device's
   * spectrum topic; an invalid one is dead-lettered (RS_ERR_SPECTRUM_INVALID). Optional, so a
   * replay or decode context may leave spectra out.
   */
  spectrum?(s: SessionSpectrum): void;
}

/**
 * What a session knows of a spectrum it read (core may not import src/spectra, so the fields are
 * restated): counts per channel, E(keV) = Σ calibration[k]·ch^k, times in seconds, `ts` the
 * start of the acquisition in ms. A device that accumulates (RadiaCode) sends its running total.
 */
export interface SessionSpectrum {
  channels: number;
  counts: number[];
  calibration: number[];
  live_time_s: number;
  real_time_s?: number;
  model?: string;
  ts: number;
}

/** One live conversation with one device. */
export interface DeviceSession {
  /** Bytes from the transport, in whatever chunks they happen to arrive. */
  push(chunk: Buffer): void;
  /** The port is open: request/response devices start polling here. */
  start?(): void;
  /** Stop timers and drop buffered partial frames; idempotent. */
  stop(): void;
}

/**
 * One device family. Adding a family is a folder under devices/ that exports one of these,
 * registered in devices/index.ts; nothing in src/ changes (docs/ARCHITECTURE.md, five steps).
 *
 * `Options` is the output type of its `optionsSchema` (`DeviceProfile<z.output<typeof Schema>>`),
 * so `createSession` and `decodeFile` get typed options. The registry holds them as
 * `DeviceProfile` (options as a record); callers pass only options the schema produced.
 */
export interface DeviceProfile<Options extends object = Record<string, unknown>> {
  /** vendor-model, kebab-case; stable, used in topics, tags and config. */
  id: string;
  vendor: string;
  model: string;
  kind: DeviceKind;
  description: string;
  link: SerialLinkDefaults | MqttLinkDefaults;
  /** Every channel the decoder may emit, with its canonical unit. */
  channels: readonly ChannelSpec[];
  /** The InfluxDB measurement its readings go to. */
  measurement: Measurement;
  /** No reading for this long marks the device stale (ms). */
  staleAfterMs: number;
  /** Sensitivity in CPM per µSv/h the family ships with, where it has a GM tube. */
  defaultSensitivity?: number;
  /**
   * Alarm settings this family ships with, the lowest override layer below `alarms.defaults`
   * (same keys as `alarms.defaults` in the config, e.g. `battery_low_v` in V where the family
   * reports a battery voltage whose cut-off is known). The catalogue test validates them
   * against the config's alarm schema.
   */
  alarmDefaults?: Readonly<Record<string, unknown>>;
  /**
   * How the operator console draws the device's tile: `dose` (dose rate, counts, sparkline) or
   * `scanner` (leakage dose rate, beam, interlocks, belt). Default `dose`.
   */
  tile?: 'dose' | 'scanner';
  /** Validates `options` from the device's config entry; omitted means no options. */
  optionsSchema?: z.ZodType<Options>;
  createSession(ctx: SessionContext<Options>): DeviceSession;
  /**
   * Decodes a whole file the instrument stored itself (a GMC history flash dump, a Rad Pro
   * datalog, a bGeigie SD-card log) for `radscreen decode|import --stored`. Pure: no I/O, no
   * clock; readings carry the device's own timestamps. Options are already validated.
   */
  decodeFile?(bytes: Buffer, options: Options): { readings: DecodedReading[]; rejects: Reject[] };
}

/**
 * Raw options (a config entry, a scenario, `--option` flags, a test) as the profile's session gets
 * them: parsed by its `optionsSchema`, defaults filled in, so `createSession`/`decodeFile` never
 * re-parse. Throws RS_ERR_CONFIG_INVALID with one line per problem. The config and scenario
 * loaders report problems field by field into their own reports; everything else calls this.
 */
export function parseSessionOptions<Options extends object>(profile: DeviceProfile<Options>, raw: Record<string, unknown>): Options {
  if (!profile.optionsSchema) {
    const keys = Object.keys(raw);
    if (keys.length > 0)
      throw new RadscreenError('RS_ERR_CONFIG_INVALID', `${profile.id} takes no options`, [`options: got ${keys.join(', ')}`]);
    // No schema means the profile declared no options: its Options is the empty default record.
    return raw as Options;
  }
  const parsed = profile.optionsSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `options.${i.path.join('.') || '(root)'}: ${i.message}`);
  throw new RadscreenError('RS_ERR_CONFIG_INVALID', `invalid options for ${profile.id}`, problems);
}
