import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * No private APIs of dependencies (docs/benchmarks.md "Durable ack without private APIs"): a
 * caret range lets a minor upgrade rename or drop an underscore member (mqtt.js `_sendPacket`,
 * `_cleanUp`, …) without notice, and nothing would fail until readings were lost. The code of
 * this repository has no underscore members of its own, so any `._name` or `['_name']` access in
 * src/, devices/ or bench/ is someone else's private member.
 */
const ROOT = join(import.meta.dirname, '../..');
const PRIVATE_ACCESS = /(\?\.|\.)_[A-Za-z]\w*|\[\s*['"`]_[A-Za-z]\w*['"`]\s*\]|(?:^|[{,;]\s*)_[A-Za-z]\w*\??\s*:/;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.(ts|js|mjs)$/.test(e.name) && !e.parentPath.includes('node_modules'))
    .map((e) => join(e.parentPath, e.name));
}

/** Lines that touch an underscore member, comments and strings aside as far as a line scan can tell. */
function privateAccesses(text: string): string[] {
  return text
    .split('\n')
    .map((line, i) => ({ line: line.replace(/\/\/.*$/, '').replace(/^\s*\*.*$/, ''), n: i + 1 }))
    .filter((l) => PRIVATE_ACCESS.test(l.line))
    .map((l) => `${l.n}: ${l.line.trim()}`);
}

describe('no private APIs of dependencies', () => {
  it('the scan finds the access it exists to find', () => {
    expect(
      privateAccesses("const x = client as unknown as { _sendPacket?: F };\nx._sendPacket?.(p, cb);\nc['_cleanUp'](true);"),
    ).toHaveLength(3);
    expect(privateAccesses('// mqtt.js used to need ._sendPacket here\nconst a = b.c;')).toEqual([]);
  });

  it('no file in src/, devices/ or bench/ reaches into an underscore member', () => {
    const found: string[] = [];
    for (const dir of ['src', 'devices', 'bench'])
      for (const file of sources(join(ROOT, dir)))
        for (const hit of privateAccesses(readFileSync(file, 'utf8'))) found.push(`${relative(ROOT, file)}:${hit}`);
    expect(found).toEqual([]);
  });
});
