import type { DeviceProfile } from '../src/core/profile.ts';
import { gqGmc } from './gq-gmc/profile.ts';
import { mightyohmGeiger } from './mightyohm-geiger/profile.ts';
import { mqttJson } from './mqtt-json/profile.ts';
import { radiacode } from './radiacode/profile.ts';
import { radpro } from './radpro/profile.ts';
import { safecastBgeigie } from './safecast-bgeigie/profile.ts';
import { safecastJson } from './safecast-json/profile.ts';
import { xrayParcelScanner } from './xray-parcel-scanner/profile.ts';
import { xrayParcelScannerMqtt } from './xray-parcel-scanner-mqtt/profile.ts';

/** The device catalogue: every family registers here, and only here. */
export const profiles: readonly DeviceProfile[] = [
  mightyohmGeiger,
  safecastBgeigie,
  radpro,
  gqGmc,
  xrayParcelScanner,
  safecastJson,
  mqttJson,
  xrayParcelScannerMqtt,
  radiacode,
];

export const catalogue: ReadonlyMap<string, DeviceProfile> = new Map(profiles.map((p) => [p.id, p]));
