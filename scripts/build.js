#!/usr/bin/env node
// `npm run build`: compiles src/, devices/ and simulators/ to plain JavaScript in dist/ (or the
// directory given as the first argument) and copies the files the code reads at run time, so a
// station runs `node bin/radscreen.js` without tsx. See docs/install.md "Build".
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { newestSourceMtimeMs } from '../bin/source-freshness.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = resolve(process.argv[2] ?? join(root, 'dist'));

/** Non-TypeScript files read through `new URL(…, import.meta.url)`: same place relative to the code. */
const ASSETS = ['dashboards/console', 'simulators/scenarios', 'src/server/auth/common-passwords.txt'];

if (root.startsWith(outDir)) throw new Error(`build: refusing to replace ${outDir}, which holds the project`);
rmSync(outDir, { recursive: true, force: true });
// typescript's `exports` hide bin/tsc; package.json is exported and the bin sits next to it.
const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');
const started = Date.now();
const run = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', outDir], { stdio: 'inherit' });
if (run.status !== 0) {
  process.stderr.write(`build: tsc failed (exit ${run.status ?? run.signal})\n`);
  process.exit(1);
}
for (const asset of ASSETS) {
  mkdirSync(dirname(join(outDir, asset)), { recursive: true });
  cpSync(join(root, asset), join(outDir, asset), { recursive: true });
}
// bin/radscreen.js compares this with the sources' newest mtime to refuse a stale build.
writeFileSync(
  join(outDir, 'build.json'),
  `${JSON.stringify({ builtAt: new Date().toISOString(), sourceMtimeMs: newestSourceMtimeMs(root) }, null, 2)}\n`,
);
process.stderr.write(`build: ${outDir} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
