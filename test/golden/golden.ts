import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { catalogue } from '../../devices/index.ts';
import type { Reading } from '../../src/core/reading.ts';
import { createReplayClock, decodeStream, validateOptions } from '../../src/importers/decode-stream.ts';

/**
 * The golden fixture format (docs/ARCHITECTURE.md "Golden fixtures"), shared by the walker
 * (test/catalogue/golden.test.ts) and the regeneration script (scripts/golden-update.ts).
 *
 * An input is any file in devices/<id>/fixtures/ that is neither a `.json` case table (hand-written
 * cases with their expectations inline, read by the family's unit test) nor named as reference
 * material by an expectation's `see_also`. Its expectation is `<name>.expected.json` beside it, in
 * the shape below: what `radscreen decode --profile <id> [--stored] [-o k=v …]` produces for it.
 */
export const GOLDEN_FORMAT = 'radscreen-golden/1';

export interface GoldenExpectation {
  format: typeof GOLDEN_FORMAT;
  /** The input file this expectation belongs to (a name in the same folder). */
  input: string;
  /** Where the input comes from and which values were checked by hand against the protocol docs. */
  source: string;
  reviewed: string;
  /** Decode as a file the instrument stored (`--stored`) instead of a captured stream. */
  stored: boolean;
  /** Profile options, as `--option key=value` would give them (validated by the profile's schema). */
  options: Record<string, unknown>;
  /** Other files in the folder that document this input (not inputs themselves). */
  see_also?: string[];
  readings: Reading[];
  rejects: { code: string; message: string }[];
}

/** Agent time for readings without a device time: fixed, so expectations do not depend on the wall clock. */
export const GOLDEN_EPOCH_MS = 1_700_000_000_000;
export const GOLDEN_STATION = 'golden';

export const devicesDir = new URL('../../devices/', import.meta.url).pathname;

export function fixturesDir(id: string): string {
  return join(devicesDir, id, 'fixtures');
}

export function expectationPath(inputPath: string): string {
  const ext = extname(inputPath);
  return `${inputPath.slice(0, inputPath.length - ext.length)}.expected.json`;
}

export function readExpectation(path: string): GoldenExpectation | undefined {
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<GoldenExpectation>;
  return parsed.format === GOLDEN_FORMAT ? (parsed as GoldenExpectation) : undefined;
}

/** Golden inputs of one family, as absolute paths, sorted. */
export function goldenInputs(id: string): string[] {
  const dir = fixturesDir(id);
  if (!existsSync(dir)) return [];
  const files = readdirSync(dir).filter((f) => statSync(join(dir, f)).isFile());
  const reference = new Set<string>();
  for (const f of files.filter((f) => f.endsWith('.expected.json'))) {
    for (const r of readExpectation(join(dir, f))?.see_also ?? []) reference.add(r);
  }
  return files
    .filter((f) => extname(f) !== '.json' && !reference.has(f))
    .sort()
    .map((f) => join(dir, f));
}

/** Decodes one input exactly as `radscreen decode` does (same decodeStream), with a fixed clock and origin. */
export async function decodeGolden(
  id: string,
  inputPath: string,
  spec: { stored: boolean; options: Record<string, unknown> },
): Promise<{ readings: Reading[]; rejects: { code: string; message: string }[] }> {
  const source = catalogue.get(id);
  if (!source) throw new Error(`no profile ${id}`);
  const checked = validateOptions(source, spec.options);
  if (!checked.ok) throw new Error(`${basename(inputPath)}: bad options: ${checked.problems.join('; ')}`);
  const readings: Reading[] = [];
  const rejects: { code: string; message: string }[] = [];
  await decodeStream({
    source,
    input: (async function* () {
      yield readFileSync(inputPath);
    })(),
    origin: { station: GOLDEN_STATION, device: id, source: 'replay' },
    options: checked.options,
    stored: spec.stored,
    now: createReplayClock(() => GOLDEN_EPOCH_MS),
    onReadings: (batch) => {
      readings.push(...batch);
    },
    onReject: (r) => rejects.push({ code: r.code, message: r.message }),
  });
  // Through JSON, as the expectation file holds it (undefined fields vanish).
  return JSON.parse(JSON.stringify({ readings, rejects }));
}
