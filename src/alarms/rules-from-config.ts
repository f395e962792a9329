import { catalogue as registry } from '../../devices/index.ts';
import type { AlarmOverrides, Config } from '../config/schema.ts';
import type { DeviceProfile } from '../core/profile.ts';
import type { Reading } from '../core/reading.ts';
import { type BackgroundSettings, createBackgroundRule, DEFAULT_BACKGROUND } from './background-rule.ts';
import { createDeviceFaultRule, type DeviceStatusBoard } from './device-fault-rule.ts';
import { createHealthRules, createRiseRule, createStaleRule, type DeviceHealthSettings } from './device-rules.ts';
import { createDoseRateRule, thresholdsFromConfig } from './dose-rate-rule.ts';
import type { AlarmRule } from './rule.ts';
import { createShiftDoseRule, DEFAULT_SHIFT_DOSE, type ShiftDoseSettings } from './shift-dose-rule.ts';
import { createXrayRules, DEFAULT_XRAY, type XraySettings } from './xray-rules.ts';
import { createZoneRule, type ZoneSettings } from './zone-rule.ts';

/**
 * Builds the station's rule set from the config. Settings resolve per device as
 * built-in defaults ← the profile's `alarmDefaults` ← `alarms.defaults` ← `alarms.profiles.<profile>`
 * ← `alarms.devices.<device>`, so a site tunes one detector without touching the others.
 *
 * Built-in rules: `dose_rate_high` (fixed µSv/h, the PRD-style layer), `radiation_background`
 * (statistical, latching), `rate_of_rise`, `device_stale`, `device_zero_counts`,
 * `device_battery_low`, `device_hv_fault`, the `xray_*` safety rules, `shift_dose` (only for
 * devices with `personal_dosimeter: true`), and `zone_<channel>` for each configured zone.
 */

/** Per-profile defaults are declared by each family (`DeviceProfile.alarmDefaults`). */
const profileDefaults = (profile: string) => registry.get(profile)?.alarmDefaults as AlarmOverrides | undefined;

/** Everything a device's rules use, resolved. */
export interface ResolvedAlarmSettings {
  background: BackgroundSettings | undefined;
  health: DeviceHealthSettings;
  xray: XraySettings;
  shiftDose: ShiftDoseSettings | undefined;
  zones: ZoneSettings[];
}

type AlarmsConfig = Config['alarms'];

/** Merges override layers (later wins; nested objects merged one level deep). */
function merge(layers: (AlarmOverrides | undefined)[]): AlarmOverrides {
  const out: Record<string, unknown> = {};
  for (const l of layers)
    for (const [k, v] of Object.entries(l ?? {})) {
      if (v === undefined) continue;
      const prev = out[k];
      out[k] =
        prev && typeof prev === 'object' && !Array.isArray(prev) && typeof v === 'object' && !Array.isArray(v) ? { ...prev, ...v } : v;
    }
  return out as AlarmOverrides;
}

/** Resolves one device's settings (pure; memoise per device in the caller). */
export function resolveAlarmSettings(
  alarms: Pick<AlarmsConfig, 'defaults' | 'profiles' | 'devices'>,
  profile: string,
  device: string,
  staleAfterMs: number,
): ResolvedAlarmSettings {
  const o = merge([profileDefaults(profile), alarms.defaults, alarms.profiles[profile], alarms.devices[device]]);
  const bg = o.background ?? {};
  const rise = o.rate_of_rise ?? {};
  const zones: ZoneSettings[] = Object.entries(o.zones ?? {}).map(([channel, z]) => ({
    channel,
    unit: channel === 'dose_rate' ? 'uSv/h' : '',
    ...(z.warn !== undefined ? { warn: z.warn } : {}),
    ...(z.alarm !== undefined ? { alarm: z.alarm } : {}),
    ...(z.emergency !== undefined ? { emergency: z.emergency } : {}),
    deadband: z.deadband ?? 0,
    on_delay_s: z.on_delay_s ?? 0,
    direction: z.direction ?? 'high',
  }));
  return {
    background:
      bg.enabled === false
        ? undefined
        : {
            ...DEFAULT_BACKGROUND,
            ...Object.fromEntries(Object.entries(bg).filter(([k, v]) => k !== 'enabled' && v !== undefined)),
          },
    health: {
      stale_window_ms: staleAfterMs,
      stale_delay_s: o.stale_delay_s ?? 30,
      zero_counts_s: o.zero_counts_s ?? 300,
      ...(o.battery_low_v !== undefined ? { battery_low_v: o.battery_low_v } : {}),
      ...(rise.enabled === false
        ? {}
        : { rise: { channel: rise.channel ?? 'dose_rate', unit: 'uSv/h', per_min: rise.per_min ?? 0.5, window_s: rise.window_s ?? 60 } }),
    },
    xray: { ...DEFAULT_XRAY, ...Object.fromEntries(Object.entries(o.xray ?? {}).filter(([, v]) => v !== undefined)) },
    shiftDose: o.personal_dosimeter
      ? { ...DEFAULT_SHIFT_DOSE, ...Object.fromEntries(Object.entries(o.shift_dose ?? {}).filter(([, v]) => v !== undefined)) }
      : undefined,
    zones,
  };
}

/** Profile staleness used when a device's profile is not in the catalogue, ms. */
const FALLBACK_STALE_MS = 30_000;

/** The full rule set for a station. `catalogue` gives each profile's staleness window. */
export function rulesFromConfig(
  config: { alarms: AlarmsConfig; devices: Config['devices'] },
  catalogue: ReadonlyMap<string, DeviceProfile>,
  /** Device statuses from the server's live state; with it, `device_fault` is in the set. */
  deviceStatus?: DeviceStatusBoard,
): AlarmRule[] {
  const cache = new Map<string, ResolvedAlarmSettings>();
  const settings = (profile: string, device: string): ResolvedAlarmSettings => {
    const key = `${profile}\u0000${device}`;
    let s = cache.get(key);
    if (!s) {
      s = resolveAlarmSettings(config.alarms, profile, device, catalogue.get(profile)?.staleAfterMs ?? FALLBACK_STALE_MS);
      cache.set(key, s);
    }
    return s;
  };
  const of = (r: Reading) => settings(r.profile, r.device);
  const scanner = (r: Reading) => r.kind === 'xray_scanner';
  const zoneChannels = new Set<string>();
  for (const layer of [config.alarms.defaults, ...Object.values(config.alarms.profiles), ...Object.values(config.alarms.devices)])
    for (const ch of Object.keys(layer.zones ?? {})) zoneChannels.add(ch);

  return [
    createDoseRateRule(thresholdsFromConfig(config)),
    createBackgroundRule((r) => (scanner(r) ? undefined : of(r).background)),
    createRiseRule((r) => (scanner(r) ? undefined : of(r).health)),
    createStaleRule((profile, device) => settings(profile, device).health),
    ...createHealthRules((r) => of(r).health),
    ...createXrayRules((r) => (scanner(r) ? of(r).xray : undefined)),
    createShiftDoseRule((r) => of(r).shiftDose),
    ...[...zoneChannels].map((ch) =>
      createZoneRule(`zone_${ch}`, (r) => of(r).zones.find((z) => z.channel === ch), {
        class: ch.startsWith('battery') ? 'equipment' : 'radiological',
      }),
    ),
    ...(deviceStatus ? [createDeviceFaultRule(deviceStatus)] : []),
  ];
}
