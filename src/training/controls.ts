import { simulatorControls } from '../../simulators/index.ts';
import type { ControlApi, DeviceSimulator } from '../core/simulator.ts';

/**
 * The control panels a scenario may drive, by profile id. Each simulator declares its own
 * (simulators/index.ts `simulatorControls`); only profiles listed there take `actions` in a
 * scenario, and the runner calls the method on the running simulator by name.
 */
export const CONTROL_APIS: Readonly<Record<string, ControlApi>> = Object.fromEntries(simulatorControls);

/** Method names a profile's simulator offers to scenarios; empty when it has no control panel. */
export function controlMethodsOf(profile: string): string[] {
  return Object.keys(CONTROL_APIS[profile] ?? {});
}

/**
 * Calls `method(...args)` on a running simulator. The scenario was validated against
 * CONTROL_APIS, so a missing method means the simulator and this table disagree: that throws.
 */
export function callControl(sim: DeviceSimulator, method: string, args: readonly unknown[]): unknown {
  const fn = (sim as unknown as Record<string, unknown>)[method];
  if (typeof fn !== 'function') throw new Error(`the simulator has no control '${method}'`);
  return (fn as (...a: unknown[]) => unknown).apply(sim, [...args]);
}
