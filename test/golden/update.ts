import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, relative } from 'node:path';
import { profiles } from '../../devices/index.ts';
import {
  decodeGolden,
  devicesDir,
  expectationPath,
  GOLDEN_FORMAT,
  type GoldenExpectation,
  goldenInputs,
  readExpectation,
} from './golden.ts';

/**
 * `npm run golden:update [-- <family id> …]`: re-decodes every golden input and rewrites the
 * `readings` and `rejects` of its `<name>.expected.json`, keeping the human fields (source,
 * stored, options, see_also). A missing expectation is created as a stream decode without options.
 *
 * What the decoder says is not evidence that it is right, so every file written gets
 * `reviewed: "NOT REVIEWED …"`, and test/catalogue/golden.test.ts fails on it until a person has
 * checked values against the family's protocol docs and replaced that field with what was checked.
 */
export const NOT_REVIEWED = 'NOT REVIEWED';

const only = new Set(process.argv.slice(2));
let written = 0;
const seen = new Set<string>();
for (const profile of profiles) {
  if (only.size > 0 && !only.has(profile.id)) continue;
  for (const input of goldenInputs(profile.id)) {
    const path = expectationPath(input);
    const old = existsSync(path) ? readExpectation(path) : undefined;
    if (existsSync(path) && !old) throw new Error(`${path} exists but is not a ${GOLDEN_FORMAT} file; rename one of them`);
    const stored = old?.stored ?? false;
    const options = old?.options ?? {};
    const { readings, rejects } = await decodeGolden(profile.id, input, { stored, options });
    const next: GoldenExpectation = {
      format: GOLDEN_FORMAT,
      input: basename(input),
      source: old?.source ?? 'TODO: where this input comes from',
      reviewed: `${NOT_REVIEWED}: regenerated ${new Date().toISOString().slice(0, 10)} by npm run golden:update; check values by hand against the protocol docs, then say here which`,
      stored,
      options,
      ...(old?.see_also ? { see_also: old.see_also } : {}),
      readings,
      rejects,
    };
    // Same decode and same layout: leave the file (and its review) alone.
    if (old && readFileSync(path, 'utf8') === `${formatExpectation({ ...next, reviewed: old.reviewed })}\n`) continue;
    if (seen.has(path))
      throw new Error(`${path}: two inputs share the name ${basename(path, '.expected.json')}; rename one, or list it in see_also`);
    seen.add(path);
    writeFileSync(path, `${formatExpectation(next)}\n`);
    written++;
    process.stdout.write(`${relative(devicesDir, path)}: ${readings.length} readings, ${rejects.length} rejects (review it)\n`);
  }
}
process.stdout.write(`${written} expectation file(s) written; unchanged ones were left alone\n`);

/** One reading or reject per line: diffs stay readable when a decoder changes. */
function formatExpectation(e: GoldenExpectation): string {
  const { readings, rejects, ...head } = e;
  const headText = JSON.stringify(head, null, 2).slice(0, -2);
  const list = (items: unknown[]) => (items.length === 0 ? '[]' : `[\n    ${items.map((i) => JSON.stringify(i)).join(',\n    ')}\n  ]`);
  return `${headText},\n  "readings": ${list(readings)},\n  "rejects": ${list(rejects)}\n}`;
}
