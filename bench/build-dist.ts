/**
 * What a station runs is the plain JavaScript of `npm run build` (docs/install.md), so benches
 * that measure a process's footprint or start-up build it with the project's own script into a
 * temp dir. Layout `<home>/dist` with node_modules, bin/ and package.json beside it: the code
 * finds its package root (version, assets) by the package.json above it.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');

/** Builds into `<home>/dist` and returns the built `src/cli/main.js`. */
export function buildDist(home: string): string {
  mkdirSync(home, { recursive: true });
  symlinkSync(join(root, 'node_modules'), join(home, 'node_modules'));
  copyFileSync(join(root, 'package.json'), join(home, 'package.json'));
  symlinkSync(join(root, 'bin'), join(home, 'bin'));
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'build.js'), join(home, 'dist')], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  if (r.status !== 0) throw new Error('bench: npm run build failed');
  return join(home, 'dist', 'src', 'cli', 'main.js');
}
