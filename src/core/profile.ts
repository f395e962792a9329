import type { z } from 'zod';
import type { ChannelSpec, Measurement } from './channel.ts';
import type { Reject } from './errors.ts';
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
export interface SessionContext {
  /** ms since the epoch; the agent's clock (fake in tests). */
  now(): number;
  /** Bytes to the device. Rejects when the port is gone; poll sessions treat that as a timeout. */
  write(bytes: Buffer | string): Promise<void>;
  /** A decoded reading, values already in canonical units. */
  emit(reading: DecodedReading): void;
  /** A frame that could not be decoded: counted per device and code, the stream goes on. */
  reject(r: Reject): void;
  /** Per-device options from the config, already validated by the profile's optionsSchema. */
  options: Record<string, unknown>;
  log: SessionLogger;
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
 * registered in devices/index.ts; nothing in src/ changes.
 */
export interface DeviceProfile {
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
  optionsSchema?: z.ZodType<Record<string, unknown>>;
  createSession(ctx: SessionContext): DeviceSession;
  /**
   * Decodes a whole file the instrument stored itself (a GMC history flash dump, a Rad Pro
   * datalog, a bGeigie SD-card log) for `radscreen decode|import --stored`. Pure: no I/O, no
   * clock; readings carry the device's own timestamps. Options are already validated.
   */
  decodeFile?(bytes: Buffer, options: Record<string, unknown>): { readings: DecodedReading[]; rejects: Reject[] };
}
