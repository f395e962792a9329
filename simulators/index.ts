import type { SimulatorFactory } from '../src/core/simulator.ts';
import { createGqGmcSimulator } from './gq-gmc.ts';
import { createMightyOhmSimulator } from './mightyohm-geiger.ts';
import { createRadproSimulator } from './radpro.ts';
import { createSafecastBgeigieSimulator } from './safecast-bgeigie.ts';
import { createXrayParcelScannerSimulator } from './xray-parcel-scanner.ts';

/** Simulators by profile id; the catalogue test fails when a profile has none. */
export const simulators: ReadonlyMap<string, SimulatorFactory> = new Map([
  ['mightyohm-geiger', createMightyOhmSimulator],
  ['safecast-bgeigie', createSafecastBgeigieSimulator],
  ['radpro', createRadproSimulator],
  ['gq-gmc', createGqGmcSimulator],
  ['xray-parcel-scanner', createXrayParcelScannerSimulator],
]);
