import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/** Every .ts/.js file under `dirs`, concatenated: what an import could be found in. */
function sourcesUnder(dirs: readonly string[]): string {
  const code: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.(ts|js)$/.test(name)) code.push(readFileSync(path, 'utf8'));
    }
  };
  for (const dir of dirs) walk(dir);
  return code.join('\n');
}

/**
 * `npm ci` on Node 20 without warnings (docs/install.md "Dependencies"): every package in the
 * lockfile accepts this Node (npm warns EBADENGINE otherwise), every package with an install
 * script is reviewed in `allowScripts` (npm 11 warns otherwise), and every direct dependency is
 * imported somewhere (an unused one is weight and attack surface for nothing).
 */
interface LockEntry {
  engines?: { node?: string };
  hasInstallScript?: boolean;
  optional?: boolean;
  os?: string[];
  cpu?: string[];
}
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  allowScripts?: Record<string, boolean>;
};
const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as { packages: Record<string, LockEntry> };
// semver is npm's own range logic (a transitive dependency, hoisted); the test only reads it.
const semver = createRequire(import.meta.url)('semver') as { satisfies(v: string, range: string): boolean };
const nameOf = (key: string) => key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length);

describe('dependencies', () => {
  it('every locked package accepts this Node (no EBADENGINE on npm ci)', () => {
    const refused = Object.entries(lock.packages)
      .filter(([key, e]) => key !== '' && e.engines?.node && !semver.satisfies(process.version, e.engines.node))
      .map(([key, e]) => `${nameOf(key)} wants node ${e.engines?.node}`);
    expect(refused).toEqual([]);
  });

  it('every package with an install script is approved in allowScripts', () => {
    const withScripts = Object.entries(lock.packages)
      .filter(([, e]) => e.hasInstallScript)
      .map(([key]) => nameOf(key));
    expect(withScripts.length).toBeGreaterThan(0);
    expect(withScripts.filter((n) => pkg.allowScripts?.[n] !== true)).toEqual([]);
  });

  it('every runtime dependency is imported by the code', () => {
    const all = sourcesUnder(['src', 'devices', 'simulators', 'bin', 'scripts', 'dashboards/console']);
    const unused = Object.keys(pkg.dependencies).filter((d) => !new RegExp(`from '${d}(/[^']*)?'|import\\('${d}(/[^']*)?'\\)`).test(all));
    expect(unused).toEqual([]);
  });

  it('every development dependency is imported by tests or benches, or is a named tool', () => {
    // Used by command, not by import: each with the command that needs it.
    const tools: Record<string, string> = {
      '@biomejs/biome': 'npm run check / format (biome CLI)',
      typescript: 'npm run check (tsc --noEmit)',
      vite: "vitest's bundler, pinned to 8.3.4 by overrides (docs/install.md)",
      '@types/node': 'Node typings for tsc',
      '@types/better-sqlite3': 'better-sqlite3 typings for tsc',
    };
    const all = `${sourcesUnder(['test', 'bench', 'scripts'])}\n${readFileSync('vitest.config.ts', 'utf8')}`;
    const unused = Object.keys(pkg.devDependencies).filter(
      (d) => !tools[d] && !new RegExp(`from '${d}(/[^']*)?'|import\\('${d}(/[^']*)?'\\)`).test(all),
    );
    expect(unused).toEqual([]);
  });
});
