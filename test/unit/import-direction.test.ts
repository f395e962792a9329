import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The import-direction rule of docs/ARCHITECTURE.md "Folders and what each may import":
 * dependencies point downward. Each top-level folder of src/ (and devices/, simulators/) has a
 * layer; a file may import from its own folder and from folders of a LOWER layer, never from a
 * higher one, and never from a sibling of the same layer unless the pair is listed in SIBLINGS.
 *
 * Imports are read with a regex (static `import … from '…'`, `export … from '…'` and dynamic
 * `import('…')` with a relative literal), which is enough for this code base: every import is a
 * relative path with its .ts extension.
 */
const ROOT = resolve(import.meta.dirname, '../..');

/** Layer of each folder; lower numbers are imported by higher ones, never the other way. */
const LAYERS: Readonly<Record<string, number>> = {
  core: 0,
  sessions: 1,
  transports: 1,
  queue: 1,
  calibration: 1,
  config: 2,
  devices: 2,
  simulators: 2,
  spectra: 2,
  importers: 3,
  security: 3,
  agent: 4,
  ingest: 4,
  alarms: 4,
  parcels: 4,
  training: 5,
  auth: 5,
  server: 6,
  station: 7,
  backup: 8,
  cli: 9,
};

/**
 * Imports that break the rule today, each with why it is tolerated and what removes it. The test
 * also fails when one of these no longer occurs, so the list only shrinks.
 */
const KNOWN_EXCEPTIONS: Readonly<Record<string, string>> = {
  // N42 spectra are parsed by the importer's XML reader; the spectrum model lives in spectra.
  'spectra -> importers': 'N42 XML helpers live in importers/ (move n42-values/n42-spectra to spectra/ to remove)',
};

const IMPORT = /(?:^|\s)(?:import|export)\s[^'";]*?from\s+['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'fixtures' || e.name === 'node_modules' ? [] : walk(p);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [p] : [];
  });
}

/** The layered folder a file belongs to: src/<x>/… → x; devices/… → devices; else undefined. */
function folderOf(file: string): string | undefined {
  const parts = relative(ROOT, file).split(sep);
  if (parts[0] === 'src' && parts.length > 2) return parts[1];
  if (parts[0] === 'devices' || parts[0] === 'simulators') return parts[0];
  return undefined;
}

function edges(): { from: string; to: string; file: string; spec: string }[] {
  const files = [...walk(join(ROOT, 'src')), ...walk(join(ROOT, 'devices')), ...walk(join(ROOT, 'simulators'))];
  const out: { from: string; to: string; file: string; spec: string }[] = [];
  for (const file of files) {
    const from = folderOf(file);
    if (!from) continue;
    for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const spec = (m[1] ?? m[2]) as string;
      const to = folderOf(resolve(dirname(file), spec));
      if (to && to !== from) out.push({ from, to, file: relative(ROOT, file), spec });
    }
  }
  return out;
}

describe('import direction (docs/ARCHITECTURE.md)', () => {
  const all = edges();

  it('finds the imports it checks (the regex still matches the code base)', () => {
    expect(all.length).toBeGreaterThan(100);
    expect(all.some((e) => e.from === 'cli' && e.to === 'core')).toBe(true);
  });

  it('gives every folder a layer', () => {
    const folders = new Set(all.flatMap((e) => [e.from, e.to]));
    expect([...folders].filter((f) => LAYERS[f] === undefined)).toEqual([]);
  });

  it('has dependencies point downward only, apart from the listed exceptions', () => {
    const bad = all.filter((e) => (LAYERS[e.to] ?? 99) >= (LAYERS[e.from] ?? -1) && !KNOWN_EXCEPTIONS[`${e.from} -> ${e.to}`]);
    expect(bad.map((e) => `${e.file}: ${e.from} -> ${e.to} (${e.spec})`)).toEqual([]);
  });

  it('lists only exceptions that still occur', () => {
    const seen = new Set(all.map((e) => `${e.from} -> ${e.to}`));
    expect(Object.keys(KNOWN_EXCEPTIONS).filter((k) => !seen.has(k))).toEqual([]);
  });

  it('has agent and ingest independent of each other: both use src/queue and src/core, never each other', () => {
    expect(all.filter((e) => e.from === 'agent' && e.to === 'ingest').map((e) => e.file)).toEqual([]);
    expect(all.filter((e) => e.from === 'ingest' && e.to === 'agent').map((e) => e.file)).toEqual([]);
    expect(all.some((e) => e.from === 'ingest' && e.to === 'queue')).toBe(true);
    expect(all.some((e) => e.from === 'agent' && e.to === 'queue')).toBe(true);
  });
});
