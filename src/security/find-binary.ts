import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** Debian installs mosquitto_passwd in /usr/bin; look on PATH and there. Undefined when absent. */
export function findMosquittoPasswd(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), '/usr/bin', '/usr/sbin', '/usr/local/bin'];
  return dirs.map((d) => join(d, 'mosquitto_passwd')).find((p) => existsSync(p));
}
