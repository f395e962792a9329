import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The package version (package.json `version`). The file is two levels up from the sources
 * (src/core/) and three from the build (dist/src/core/); the first that exists wins.
 */
function readVersion(): string {
  for (const rel of ['../../package.json', '../../../package.json']) {
    const path = fileURLToPath(new URL(rel, import.meta.url));
    if (!existsSync(path)) continue;
    const doc = JSON.parse(readFileSync(path, 'utf8')) as { name?: string; version?: string };
    if (doc.name === 'radscreen' && typeof doc.version === 'string') return doc.version;
  }
  return 'unknown';
}

/** radscreen's version, as `radscreen --version` prints it and `/healthz` and the start log report it. */
export const VERSION = readVersion();

/** The installed package's root directory (holds package.json, bin/ and, after a build, dist/). */
export const PACKAGE_ROOT = ((): string => {
  for (const rel of ['../../', '../../../']) {
    const dir = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(`${dir}package.json`) && existsSync(`${dir}bin/radscreen.js`)) return dir.replace(/\/$/, '');
  }
  throw new Error(`cannot find the radscreen package root above ${fileURLToPath(import.meta.url)}`);
})();
