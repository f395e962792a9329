// Shared by bin/radscreen.js and scripts/build.js: plain JavaScript, since it runs before any build.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** The directories whose TypeScript the build compiles (tsconfig.build.json "include"). */
export const SOURCE_DIRS = ['src', 'devices', 'simulators'];

/**
 * Newest modification time (ms) of any `.ts` file under the source directories of `root`, or 0
 * when there are none (a packaged tree without sources). A few hundred stat calls: a few ms.
 */
export function newestSourceMtimeMs(root) {
  let newest = 0;
  const walk = (dir) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (e.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
    }
  };
  for (const d of SOURCE_DIRS) walk(join(root, d));
  return newest;
}
