import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Agent and ingest depend only downward (docs/data-integrity.md "Shared durable queue"): both may
 * import src/queue and src/core, never each other, and src/queue imports nothing of theirs.
 * Type-only imports count too: they are what tied the two folders together before.
 */
const ROOT = join(import.meta.dirname, '../..');
const SRC = join(ROOT, 'src');

/** Relative import specifiers of one file, resolved to repository paths. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1] as string);
  return specs.map((s) => relative(ROOT, resolve(join(file, '..'), s)));
}

function filesUnder(dir: string): string[] {
  return readdirSync(join(SRC, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
}

/** `file → import` pairs of `from` that land in any of the `forbidden` folders. */
function crossings(from: string, forbidden: string[]): string[] {
  const out: string[] = [];
  for (const f of filesUnder(from))
    for (const target of importsOf(f))
      if (forbidden.some((d) => target.startsWith(`src/${d}/`))) out.push(`${relative(ROOT, f)} → ${target}`);
  return out;
}

describe('import direction: agent and ingest depend only downward', () => {
  it('the scan sees an import when there is one', () => {
    expect(filesUnder('ingest').flatMap(importsOf)).toContain('src/queue/durable-queue.ts');
  });

  it('src/agent imports nothing from src/ingest', () => {
    expect(crossings('agent', ['ingest'])).toEqual([]);
  });

  it('src/ingest imports nothing from src/agent', () => {
    expect(crossings('ingest', ['agent'])).toEqual([]);
  });

  it('src/queue imports from neither (only src/core and itself)', () => {
    expect(crossings('queue', ['agent', 'ingest', 'server', 'station', 'cli', 'alarms', 'transports'])).toEqual([]);
  });
});
