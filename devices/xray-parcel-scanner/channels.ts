import type { ChannelSpec } from '../../src/core/channel.ts';
import { reject } from '../../src/core/errors.ts';
import type { DecodedReading } from '../../src/core/reading.ts';

/**
 * The XRS data model shared by the line decoder (decode.ts) and the JSON decoder (json.ts):
 * both parse their wire form into an {@link XrayStatus}, and {@link statusToReading} turns it
 * into one canonical reading, so both transports check the same ranges and emit the same keys.
 */

/** Most doors / access panels a scanner may report; channels exist for each. */
export const MAX_DOORS = 4;
export const MAX_PANELS = 4;

/** Fault words the protocol defines; a well-formed word not in this list decodes as `other`. */
export const FAULT_WORDS = [
  'none',
  'lamp',
  'interlock',
  'estop',
  'hv',
  'tube_current',
  'belt_jam',
  'overtemp',
  'leakage',
  'detector',
  'software',
  'other',
] as const;
export type FaultWord = (typeof FAULT_WORDS)[number];

/** What changed, carried by event lines; status lines have no cause. */
export const EVENT_CAUSES = ['beam', 'door', 'panel', 'key', 'estop', 'belt', 'bag', 'lamp', 'fault', 'setpoint', 'reset'] as const;
export type EventCause = (typeof EVENT_CAUSES)[number];

/** One interlock switch pair's state: `disagree` means the two switches of a door differ (a switch fault). */
export type InterlockState = 'closed' | 'open' | 'disagree';

/** One snapshot of the scanner, in canonical units, as either wire form carries it. */
export interface XrayStatus {
  /** kV */ tubeVoltageSet: number;
  /** kV */ tubeVoltage: number;
  /** mA */ tubeCurrentSet: number;
  /** mA */ tubeCurrent: number;
  beamOn: boolean;
  doors: InterlockState[];
  panels: InterlockState[];
  keyOn: boolean;
  estopPressed: boolean;
  beltRunning: boolean;
  /** m/s */ beltSpeed: number;
  bagPresent: boolean;
  lampOk: boolean;
  /** µSv/h at 5 cm, from the mounted survey probe */ leakageDoseRate: number;
  fault: string;
  /** s, cumulative since manufacture */ beamOnTime: number;
  /** Set on event lines only. */
  cause?: EventCause;
}

/** Door and panel counts the config expects; a frame reporting others is rejected. */
export interface XrayLayout {
  doors?: number;
  panels?: number;
}

/** The layout from a device's validated options (`doors`, `panels`); absent keys stay unchecked. */
export function layoutFromOptions(options: { doors?: number | undefined; panels?: number | undefined }): XrayLayout {
  const layout: XrayLayout = {};
  if (typeof options.doors === 'number') layout.doors = options.doors;
  if (typeof options.panels === 'number') layout.panels = options.panels;
  return layout;
}

const doorChannels: ChannelSpec[] = Array.from({ length: MAX_DOORS }, (_, i) => ({
  key: `door_${i + 1}_closed`,
  unit: 'bool',
  type: 'boolean',
  label: `door ${i + 1} interlock closed (both switches)`,
}));
const panelChannels: ChannelSpec[] = Array.from({ length: MAX_PANELS }, (_, i) => ({
  key: `panel_${i + 1}_closed`,
  unit: 'bool',
  type: 'boolean',
  label: `access panel ${i + 1} interlock closed`,
}));

/** Every channel an XRS frame may produce, with canonical units and physical ranges. */
export const XRAY_CHANNELS: readonly ChannelSpec[] = [
  { key: 'tube_voltage_set', unit: 'kV', label: 'tube voltage setpoint', min: 0, max: 250 },
  { key: 'tube_voltage', unit: 'kV', label: 'tube voltage, measured', min: 0, max: 250 },
  { key: 'tube_current_set', unit: 'mA', label: 'tube current setpoint', min: 0, max: 10 },
  { key: 'tube_current', unit: 'mA', label: 'tube current, measured (the mA-meter X-ray-on indication)', min: 0, max: 10 },
  { key: 'beam_on', unit: 'bool', type: 'boolean', label: 'X-rays being generated' },
  { key: 'interlocks_closed', unit: 'bool', type: 'boolean', label: 'every door and panel interlock closed' },
  ...doorChannels,
  ...panelChannels,
  { key: 'key_on', unit: 'bool', type: 'boolean', label: 'key switch on' },
  { key: 'estop_pressed', unit: 'bool', type: 'boolean', label: 'emergency stop pressed' },
  { key: 'belt_running', unit: 'bool', type: 'boolean', label: 'conveyor belt running' },
  { key: 'belt_speed', unit: 'm/s', label: 'conveyor belt speed', min: 0, max: 2 },
  { key: 'bag_present', unit: 'bool', type: 'boolean', label: 'light barrier interrupted (bag at the tunnel)' },
  { key: 'xray_lamp_ok', unit: 'bool', type: 'boolean', label: 'X-RAY ON lamp healthy' },
  // Leakage in µSv/h is printed with three decimals (README.md, line format: at most four).
  { key: 'leakage_dose_rate', unit: 'uSv/h', label: 'leakage dose rate at 5 cm (mounted probe)', min: 0, max: 10_000, resolution: 0.001 },
  { key: 'fault', unit: 'enum', type: 'enum', label: 'most severe active fault', values: [...FAULT_WORDS] },
  { key: 'event', unit: 'enum', type: 'enum', label: 'what changed (event frames only)', values: [...EVENT_CAUSES] },
  { key: 'beam_on_time', unit: 's', label: 'cumulative beam-on time', min: 0, max: 4_294_967_295 },
];

const specs = new Map(XRAY_CHANNELS.map((c) => [c.key, c]));

/** Checks a number against its channel's range; returns the reason when it lies outside. */
function outOfRange(key: string, value: number): string | undefined {
  const spec = specs.get(key);
  if (!spec) return `unknown channel ${key}`;
  if ((spec.min !== undefined && value < spec.min) || (spec.max !== undefined && value > spec.max))
    return `${key}=${value} ${spec.unit} outside [${spec.min}, ${spec.max}]`;
  return undefined;
}

/** Maps a fault word to the channel's vocabulary; well-formed words we do not know become `other`. */
export function normaliseFault(word: string): FaultWord {
  return (FAULT_WORDS as readonly string[]).includes(word) ? (word as FaultWord) : 'other';
}

/**
 * One canonical reading from a snapshot, stamped with the agent's receive time (the protocol
 * carries no device clock). Numbers outside their channel range, or door/panel counts other
 * than the layout expects, give RS_ERR_FRAME_RANGE: the whole frame is dropped, never clamped.
 */
export function statusToReading(s: XrayStatus, receivedAt: number, layout: XrayLayout = {}, raw?: Buffer) {
  if (s.doors.length < 1 || s.doors.length > MAX_DOORS)
    return { reject: reject('RS_ERR_FRAME_RANGE', `${s.doors.length} doors (1–${MAX_DOORS})`, raw) };
  if (s.panels.length > MAX_PANELS) return { reject: reject('RS_ERR_FRAME_RANGE', `${s.panels.length} panels (0–${MAX_PANELS})`, raw) };
  if (layout.doors !== undefined && s.doors.length !== layout.doors)
    return { reject: reject('RS_ERR_FRAME_RANGE', `frame reports ${s.doors.length} doors, config says ${layout.doors}`, raw) };
  if (layout.panels !== undefined && s.panels.length !== layout.panels)
    return { reject: reject('RS_ERR_FRAME_RANGE', `frame reports ${s.panels.length} panels, config says ${layout.panels}`, raw) };
  const numbers: Record<string, number> = {
    tube_voltage_set: s.tubeVoltageSet,
    tube_voltage: s.tubeVoltage,
    tube_current_set: s.tubeCurrentSet,
    tube_current: s.tubeCurrent,
    belt_speed: s.beltSpeed,
    leakage_dose_rate: s.leakageDoseRate,
    beam_on_time: s.beamOnTime,
  };
  for (const [key, value] of Object.entries(numbers)) {
    const why = outOfRange(key, value);
    if (why) return { reject: reject('RS_ERR_FRAME_RANGE', why, raw) };
  }
  const values: DecodedReading['values'] = {
    ...numbers,
    beam_on: s.beamOn,
    interlocks_closed: [...s.doors, ...s.panels].every((d) => d === 'closed'),
    key_on: s.keyOn,
    estop_pressed: s.estopPressed,
    belt_running: s.beltRunning,
    bag_present: s.bagPresent,
    xray_lamp_ok: s.lampOk,
    fault: normaliseFault(s.fault),
  };
  s.doors.forEach((d, i) => {
    values[`door_${i + 1}_closed`] = d === 'closed';
  });
  s.panels.forEach((p, i) => {
    values[`panel_${i + 1}_closed`] = p === 'closed';
  });
  if (s.cause) values.event = s.cause;
  const reading: DecodedReading = { ts: receivedAt, ts_source: 'agent', values, quality: 'good' };
  return { readings: [reading] };
}
