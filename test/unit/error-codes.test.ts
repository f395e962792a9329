import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/core/errors.ts';

const root = new URL('../../', import.meta.url).pathname;

function sources(dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const rel = join(dir, name);
    if (name === 'fixtures' || name === 'node_modules') return [];
    return statSync(join(root, rel)).isDirectory() ? sources(rel) : /\.(ts|js)$/.test(name) ? [rel] : [];
  });
}

/** Stable codes are counted, dead-lettered and matched by scripts: every one used must be registered. */
describe('error code registry', () => {
  it('knows every RS_ERR_ code the code base uses', () => {
    const used = new Map<string, string>();
    for (const file of ['src', 'devices', 'simulators', 'dashboards'].flatMap(sources)) {
      for (const m of readFileSync(join(root, file), 'utf8').matchAll(/RS_ERR_[A-Z_]*[A-Z]\b(?!_)/g)) used.set(m[0], file);
    }
    const unknown = [...used].filter(([code]) => !(code in ERROR_CODES)).map(([code, file]) => `${code} (${file})`);
    expect(unknown).toEqual([]);
    expect(used.size).toBeGreaterThan(10);
  });

  it('maps every alarm action error to a registered code', () => {
    for (const code of ['not_found', 'invalid_state', 'invalid_argument'])
      expect(`RS_ERR_ALARM_${code.toUpperCase()}` in ERROR_CODES).toBe(true);
  });
});
