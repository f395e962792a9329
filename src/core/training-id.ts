/**
 * Training device identity, in a module of its own so the server's live path can tell a
 * training device from a station device without loading scenarios or simulators.
 */

/** Prefix of every scenario device id on the wire, so training devices never collide with the station's own. */
export const TRAINING_PREFIX = 'training-';

/** Whether `device` is a training run's device (`training-<id>`). */
export function isTrainingDevice(device: string): boolean {
  return device.startsWith(TRAINING_PREFIX);
}
