import { existsSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { profiles } from '../../devices/index.ts';
import { decodeGolden, expectationPath, fixturesDir, GOLDEN_FORMAT, goldenInputs, readExpectation } from '../golden/golden.ts';

/**
 * The golden walker (docs/ARCHITECTURE.md "Golden fixtures"): every input in every family's
 * fixtures/ is decoded the way `radscreen decode` decodes it and compared, reading by reading
 * and reject by reject, with its `<name>.expected.json`. A family with an input and no
 * expectation, or an expectation nobody reviewed, fails here.
 */
describe.each(profiles.map((p) => [p.id] as const))('golden fixtures of %s', (id) => {
  const inputs = goldenInputs(id);

  it('has a reviewed expectation for every input', () => {
    const missing = inputs.filter((i) => !existsSync(expectationPath(i))).map((i) => basename(i));
    expect(missing, `inputs without <name>.expected.json (write one with npm run golden:update, then review it)`).toEqual([]);
    for (const input of inputs) {
      const e = readExpectation(expectationPath(input));
      expect(e, `${basename(expectationPath(input))} is not ${GOLDEN_FORMAT}`).toBeDefined();
      expect(e?.input, 'expectation names its input').toBe(basename(input));
      expect(e?.reviewed, `${basename(input)}: regenerated and not reviewed by a person`).not.toMatch(/^NOT REVIEWED/);
      expect(e?.source.startsWith('TODO'), `${basename(input)}: source not filled in`).toBe(false);
    }
  });

  it('has no golden expectation without its input', () => {
    const dir = fixturesDir(id);
    const expectations = readdirSync(dir).filter((f) => f.endsWith('.expected.json') && readExpectation(join(dir, f)));
    const orphans = expectations.filter((f) => !existsSync(join(dir, readExpectation(join(dir, f))?.input ?? '')));
    expect(orphans).toEqual([]);
  });

  it.each(inputs.filter((i) => existsSync(expectationPath(i))).map((i) => [basename(i), i] as const))(
    'decodes %s to its expected readings and rejects',
    async (_name, input) => {
      const expected = readExpectation(expectationPath(input));
      if (!expected) throw new Error(`${expectationPath(input)} is not ${GOLDEN_FORMAT}`);
      const actual = await decodeGolden(id, input, expected);
      expect(actual.rejects).toEqual(expected.rejects);
      expect(actual.readings).toEqual(expected.readings);
    },
  );
});
