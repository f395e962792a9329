#!/usr/bin/env node
// Which code runs (docs/install.md "Build"):
//  - dist/ (plain JavaScript from `npm run build`) when it exists and is not older than the sources:
//    production, no tsx, no esbuild helper processes;
//  - otherwise the TypeScript sources through tsx (development); a stale dist/ is named on stderr so
//    nobody runs yesterday's code by accident. RADSCREEN_FROM_SOURCE=1 forces the sources.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { newestSourceMtimeMs } from './source-freshness.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = join(root, 'dist', 'src', 'cli', 'main.js');
const stamp = join(root, 'dist', 'build.json');

function buildIsCurrent() {
  if (process.env.RADSCREEN_FROM_SOURCE === '1' || !existsSync(built) || !existsSync(stamp)) return false;
  const { sourceMtimeMs } = JSON.parse(readFileSync(stamp, 'utf8'));
  if (newestSourceMtimeMs(root) <= sourceMtimeMs) return true;
  process.stderr.write('radscreen: dist/ is older than the sources; running the sources through tsx (run `npm run build`)\n');
  return false;
}

if (buildIsCurrent()) {
  await import(pathToFileURL(built).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
