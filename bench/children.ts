/**
 * How a benchmark runs its child processes (the agent and ingest it measures): as compiled
 * JavaScript, the way a station runs (`npm run build`, bin/radscreen.js runs dist/ without tsx),
 * or through tsx with `--tsx`. tsx costs every process a second V8 isolate (its ESM-hooks
 * thread, ≈ 35 MiB RSS here) and compile work a station never pays, so RSS and CPU figures are
 * only a station's when the children are compiled.
 *
 * `compileChildren` compiles src/, devices/, simulators/ and the given bench/ scripts with the
 * build's own tsconfig (tsconfig.build.json: same compiler options as `npm run build`) into a
 * temporary directory, next to a link to the project's node_modules so packages resolve.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { NODE_FLAGS } from '../src/cli/install-files.ts';

const root = resolve(import.meta.dirname, '..');
const flags = (unit: string) => [...(NODE_FLAGS[unit] ?? [])];

export interface Children {
  /**
   * `node` arguments that run `bench/<script>.ts` (compiled or through tsx), with the V8 flags
   * the installed unit of `unit` runs with (src/cli/install-files.ts NODE_FLAGS: the agent's
   * `--max-semi-space-size=1`), so the process is what a station runs.
   */
  argv(script: string, unit: 'agent' | 'ingest'): string[];
  /** 'compiled' or 'tsx', for the report. */
  readonly mode: 'compiled' | 'tsx';
  cleanup(): void;
}

export function prepareChildren(scripts: readonly string[], opts: { tsx: boolean }): Children {
  if (opts.tsx)
    return { mode: 'tsx', argv: (script, unit) => [...flags(unit), '--import', 'tsx', join(root, 'bench', script)], cleanup() {} };
  const dir = mkdtempSync(join(os.tmpdir(), 'radscreen-bench-build-'));
  const out = join(dir, 'out');
  const tsconfig = join(dir, 'tsconfig.json');
  writeFileSync(
    tsconfig,
    JSON.stringify({
      extends: join(root, 'tsconfig.build.json'),
      compilerOptions: { rootDir: root, outDir: out, sourceMap: false },
      include: [join(root, 'src'), join(root, 'devices'), join(root, 'simulators'), ...scripts.map((s) => join(root, 'bench', s))],
    }),
  );
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  const tsc = join(dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');
  const run = spawnSync(process.execPath, [tsc, '-p', tsconfig], { stdio: 'inherit' });
  if (run.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`bench: compiling the children failed (tsc exit ${run.status ?? run.signal})`);
  }
  return {
    mode: 'compiled',
    argv: (script, unit) => [...flags(unit), join(out, 'bench', script.replace(/\.ts$/, '.js'))],
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
