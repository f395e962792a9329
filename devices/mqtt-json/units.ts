import type { ChannelSpec } from '../../src/core/channel.ts';

/**
 * The canonical channels a declarative MQTT JSON device may map to, and the source units each
 * accepts. Conversions are linear, `canonical = source × factor + offset`, so a new unit is one
 * table row. Radiation units keep the hobby convention 1 R ≈ 10 mSv (1 mR/h ≈ 10 µSv/h), as
 * src/core/units.ts does.
 */

interface Linear {
  factor: number;
  offset?: number;
}

const DOSE_RATE: Record<string, Linear> = {
  'nSv/h': { factor: 1e-3 },
  'uSv/h': { factor: 1 },
  'µSv/h': { factor: 1 },
  'mSv/h': { factor: 1e3 },
  'Sv/h': { factor: 1e6 },
  'uR/h': { factor: 1e-2 },
  'µR/h': { factor: 1e-2 },
  'mR/h': { factor: 10 },
  'R/h': { factor: 1e4 },
};
const DOSE: Record<string, Linear> = {
  nSv: { factor: 1e-3 },
  uSv: { factor: 1 },
  µSv: { factor: 1 },
  mSv: { factor: 1e3 },
  Sv: { factor: 1e6 },
  uR: { factor: 1e-2 },
  µR: { factor: 1e-2 },
  mR: { factor: 10 },
};
const PER_MINUTE: Record<string, Linear> = { CPM: { factor: 1 }, CPS: { factor: 60 } };
const PER_SECOND: Record<string, Linear> = { CPS: { factor: 1 }, CPM: { factor: 1 / 60 } };
const VOLTS: Record<string, Linear> = { V: { factor: 1 }, mV: { factor: 1e-3 } };
const CELSIUS: Record<string, Linear> = {
  degC: { factor: 1 },
  degF: { factor: 5 / 9, offset: -32 * (5 / 9) },
  K: { factor: 1, offset: -273.15 },
};
const PERCENT: Record<string, Linear> = { '%': { factor: 1 }, fraction: { factor: 100 } };
const DEGREES: Record<string, Linear> = { deg: { factor: 1 } };
const COUNTS: Record<string, Linear> = { counts: { factor: 1 } };

/** Canonical channels with their unit, range and accepted source units. */
export const MQTT_JSON_CHANNELS = [
  // Any detector may publish here; 0.01 µSv/h is the step radscreen shows for an unknown one.
  { spec: { key: 'dose_rate', unit: 'uSv/h', label: 'ambient dose rate', min: 0, max: 100_000, resolution: 0.01 }, from: DOSE_RATE },
  { spec: { key: 'cpm', unit: 'CPM', label: 'counts per minute', min: 0, max: 10_000_000 }, from: PER_MINUTE },
  { spec: { key: 'cps', unit: 'CPS', label: 'counts per second', min: 0, max: 200_000 }, from: PER_SECOND },
  { spec: { key: 'counts', unit: 'counts', label: 'counts over the device’s own window', min: 0 }, from: COUNTS },
  { spec: { key: 'dose', unit: 'uSv', label: 'accumulated dose', min: 0 }, from: DOSE },
  { spec: { key: 'battery_voltage', unit: 'V', label: 'battery voltage', min: 0, max: 60 }, from: VOLTS },
  { spec: { key: 'battery_level', unit: '%', label: 'battery charge', min: 0, max: 100 }, from: PERCENT },
  { spec: { key: 'temperature', unit: 'degC', label: 'device temperature', min: -60, max: 150 }, from: CELSIUS },
  { spec: { key: 'latitude', unit: 'deg', label: 'latitude (WGS84)', min: -90, max: 90 }, from: DEGREES },
  { spec: { key: 'longitude', unit: 'deg', label: 'longitude (WGS84)', min: -180, max: 180 }, from: DEGREES },
] as const satisfies readonly { spec: ChannelSpec; from: Record<string, Linear> }[];

export type MqttJsonChannel = (typeof MQTT_JSON_CHANNELS)[number]['spec']['key'];

const BY_KEY = new Map<string, (typeof MQTT_JSON_CHANNELS)[number]>(MQTT_JSON_CHANNELS.map((c) => [c.spec.key, c]));

/** Channel keys a mapping may target. */
export const CHANNEL_KEYS: readonly string[] = MQTT_JSON_CHANNELS.map((c) => c.spec.key);

/** Source units `channel` accepts; empty when the channel is not one of ours. */
export function unitsFor(channel: string): string[] {
  return Object.keys(BY_KEY.get(channel)?.from ?? {});
}

/**
 * A converter from `unit` to `channel`'s canonical unit, or undefined when there is none
 * (the options schema refuses such a mapping at start-up, so sessions never meet one).
 */
export function converterFor(channel: string, unit: string): ((v: number) => number) | undefined {
  const linear = (BY_KEY.get(channel)?.from as Record<string, Linear> | undefined)?.[unit];
  if (!linear) return undefined;
  const { factor, offset = 0 } = linear;
  return (v) => v * factor + offset;
}
