import { catalogue } from '../../devices/index.ts';
import type { DeviceProfile } from '../core/profile.ts';
import { ansiN42 } from './ansi-n42.ts';

/**
 * What `decode` and `import` can read: every catalogued device profile, plus file formats that
 * are not devices (ANSI N42.42). A file format has everything a profile has except a link: it
 * never sits on a serial port or an MQTT topic, so it is not registered in devices/index.ts and
 * the agent never sees it.
 */
export interface FileFormat extends Omit<DeviceProfile, 'link'> {
  /** The instrument a whole file came from, for a default device id; undefined when unknown. */
  identify?(bytes: Buffer): { device: string; description: string } | undefined;
}

/** A catalogued profile or a file format; both decode through `createSession` (a DeviceProfile is a FileFormat with a link). */
export type DecodeSource = FileFormat;

/**
 * normaliseReading (src/core/normalise.ts) takes a DeviceProfile but reads only its id, kind
 * and channels. A file format has those and no link; this is the one place it is handed over
 * as a profile, rather than inventing a serial or MQTT link it does not have.
 */
export function asNormaliserProfile(source: DecodeSource): DeviceProfile {
  return source as DeviceProfile;
}

/** File formats by id; ids never collide with catalogue ids (checked in the n42 unit test). */
export const fileFormats: ReadonlyMap<string, FileFormat> = new Map([[ansiN42.id, ansiN42]]);

/** Resolves `--profile <id>`; undefined when neither the catalogue nor the formats know it. */
export function resolveDecodeSource(id: string): DecodeSource | undefined {
  return catalogue.get(id) ?? fileFormats.get(id);
}

/** Every id `--profile` accepts, catalogue first. */
export function decodeSourceIds(): string[] {
  return [...catalogue.keys(), ...fileFormats.keys()];
}
