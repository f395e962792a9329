import { z } from 'zod';
import type { DeviceSimulator } from '../core/simulator.ts';

/**
 * The control panels a scenario may drive, by profile id: each method a simulator exposes
 * beyond start/stop, with the zod schema of its argument list. Only profiles listed here take
 * `actions` in a scenario; the runner calls the method on the running simulator by name.
 */
const door = z.tuple([z.number().int().min(1).max(4)]);
const none = z.tuple([]);
const fault = z.tuple([z.enum(['lamp', 'interlock_bypass', 'leakage'])]);

export const CONTROL_APIS: Readonly<Record<string, Readonly<Record<string, z.ZodType<unknown[]>>>>> = {
  // simulators/xray-parcel-scanner.ts XrayControls (doors and panels numbered from 1).
  'xray-parcel-scanner': {
    turnKey: z.tuple([z.boolean()]),
    openDoor: door,
    closeDoor: door,
    openPanel: door,
    closePanel: door,
    pressEstop: none,
    releaseEstop: none,
    reset: none,
    startBelt: none,
    stopBelt: none,
    /** kV, mA. */
    setTube: z.tuple([z.number().positive().max(450), z.number().positive().max(20)]),
    injectFault: fault,
    clearFault: fault,
  },
};

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
