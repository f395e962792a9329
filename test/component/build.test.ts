import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

/**
 * `npm run build` output runs on plain Node: a tree with bin/, package.json, node_modules and the
 * build but NO TypeScript sources must work, which proves the launcher did not fall back to tsx.
 * The build goes to a temporary directory, never the checkout's dist/, so other tests keep
 * running the sources.
 */
const repo = resolve('.');
let tree: string;
const env = { ...process.env, NODE_OPTIONS: '', NO_COLOR: '1' };
delete (env as Record<string, string | undefined>).RADSCREEN_FROM_SOURCE;
const run = (args: string[]) =>
  spawnSync(process.execPath, [join(tree, 'bin/radscreen.js'), ...args], { encoding: 'utf8', timeout: 30_000, env });

beforeAll(() => {
  tree = mkdtempSync(join(tmpdir(), 'radscreen-build-'));
  const build = spawnSync(process.execPath, ['scripts/build.js', join(tree, 'dist')], { encoding: 'utf8', timeout: 170_000 });
  if (build.status !== 0) throw new Error(`build failed (${build.status}): ${build.stderr}`);
  cpSync(join(repo, 'bin'), join(tree, 'bin'), { recursive: true });
  cpSync(join(repo, 'package.json'), join(tree, 'package.json'));
  cpSync(join(repo, 'examples'), join(tree, 'examples'), { recursive: true });
  symlinkSync(join(repo, 'node_modules'), join(tree, 'node_modules'));
}, 180_000);

describe('the build (dist/) without tsx', () => {
  it('prints the package version', () => {
    const r = run(['--version']);
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(JSON.parse(readFileSync('package.json', 'utf8')).version);
    expect(r.status).toBe(0);
  });

  it('lists the catalogue and checks a config from the compiled code', () => {
    const devices = run(['devices', '--json']);
    expect(devices.status).toBe(0);
    expect((JSON.parse(devices.stdout) as { id: string }[]).map((d) => d.id)).toContain('gq-gmc');
    const check = run(['config', 'check', join(tree, 'examples/station.yaml')]);
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
  });

  it('copies the files the code reads at run time next to it', () => {
    for (const f of ['dist/dashboards/console/index.html', 'dist/simulators/scenarios', 'dist/src/server/auth/common-passwords.txt'])
      expect(() => readFileSync(join(tree, f))).not.toThrow(/ENOENT/);
  });

  it('refuses a build older than the sources and says so (falls back to the sources)', () => {
    mkdirSync(join(tree, 'src'), { recursive: true });
    const edited = join(tree, 'src', 'edited-after-build.ts');
    writeFileSync(edited, 'export {};\n');
    const future = new Date(Date.now() + 60_000);
    utimesSync(edited, future, future);
    const r = run(['--version']);
    expect(r.stderr).toContain('dist/ is older than the sources');
    // The sources of this tree are not there, so the tsx fallback cannot start: a non-zero exit.
    expect(r.status).not.toBe(0);
  });
});
