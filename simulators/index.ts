import type { ControlApi, SimulatorFactory } from '../src/core/simulator.ts';
import { createGqGmcSimulator } from './gq-gmc.ts';
import { createMightyOhmSimulator } from './mightyohm-geiger.ts';
import { createMqttJsonSimulator } from './mqtt-json.ts';
import { createRadiacodeSimulator, radiacodeControlApi } from './radiacode.ts';
import { createRadproSimulator } from './radpro.ts';
import { createSafecastBgeigieSimulator } from './safecast-bgeigie.ts';
import { createSafecastJsonSimulator } from './safecast-json.ts';
import { createXrayParcelScannerSimulator, xrayControlApi } from './xray-parcel-scanner.ts';
import { createXrayParcelScannerMqttSimulator } from './xray-parcel-scanner-mqtt.ts';

/** Simulators by profile id; the catalogue test fails when a profile has none. */
export const simulators: ReadonlyMap<string, SimulatorFactory> = new Map([
  ['mightyohm-geiger', createMightyOhmSimulator],
  ['safecast-bgeigie', createSafecastBgeigieSimulator],
  ['radpro', createRadproSimulator],
  ['gq-gmc', createGqGmcSimulator],
  ['xray-parcel-scanner', createXrayParcelScannerSimulator],
  ['safecast-json', createSafecastJsonSimulator],
  ['mqtt-json', createMqttJsonSimulator],
  ['xray-parcel-scanner-mqtt', createXrayParcelScannerMqttSimulator],
  ['radiacode', createRadiacodeSimulator],
]);

/** Scenario control panels by profile id, declared by the simulators that offer one. */
export const simulatorControls: ReadonlyMap<string, ControlApi> = new Map<string, ControlApi>([
  ['xray-parcel-scanner', xrayControlApi],
  ['radiacode', radiacodeControlApi],
]);
