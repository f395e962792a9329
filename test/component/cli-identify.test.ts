import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const cli = (args: string[]) =>
  spawnSync(process.execPath, ['bin/radscreen.js', ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } });

const FIX = 'src/spectra/fixtures';

describe('radscreen identify (real process)', () => {
  it('--json: one object per input file, in order, with nuclide, category, confidence and peaks', () => {
    const files = [`${FIX}/Cs137_b.xml`, `${FIX}/Co60_a.xml`, `${FIX}/bg.xml`, 'src/importers/fixtures/data_am241.n42'];
    const r = cli(['identify', '--json', ...files]);
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.file)).toEqual(files);
    expect(lines[0].nuclides[0]).toMatchObject({ nuclide: 'Cs-137', category: 'industrial', peaks_kev: [661.7, 32.9] });
    expect(lines[0].nuclides[0].confidence).toBeGreaterThan(0.9);
    expect(lines[1].nuclides[0].nuclide).toBe('Co-60');
    expect(lines[2].nuclides.filter((n: { category: string }) => n.category !== 'NORM')).toEqual([]);
    expect(lines[3]).toMatchObject({ format: 'n42', nuclides: [expect.objectContaining({ nuclide: 'Am-241' })] });
  });

  it('prints a readable table without --json', () => {
    const r = cli(['identify', `${FIX}/Ba133_a.xml`, `${FIX}/bg.xml`]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(
      /Ba133_a\.xml: radiacode-xml, RC-102-001272, 300 s, 207680 counts\n {2}Ba-133 +industrial +confidence [01]\.\d\d/,
    );
    expect(r.stdout).toMatch(/bg\.xml: .*\n {2}no nuclide identified/);
  });

  it('unreadable, missing and non-spectrum files: clear error with a code, exit 2, the good file still reported', () => {
    const dir = mkdtempSync(join(tmpdir(), 'radscreen-identify-'));
    const junk = join(dir, 'junk.xml');
    writeFileSync(junk, '<ResultDataFile><ResultDataList><ResultData>');
    const badCal = join(dir, 'bad-calibration.xml');
    writeFileSync(
      badCal,
      readFileSync(`${FIX}/Cs137_b.xml`, 'utf8').replace('<Coefficient>2.36593</Coefficient>', '<Coefficient>-2.36593</Coefficient>'),
    );
    const r = cli(['identify', '--json', join(dir, 'missing.n42'), dir, junk, `${FIX}/Cs137_b.xml`, badCal]);
    expect(r.status).toBe(2);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.error?.code)).toEqual([
      'RS_ERR_CLI_USAGE',
      'RS_ERR_CLI_USAGE',
      'RS_ERR_SPECTRUM_INVALID',
      undefined,
      'RS_ERR_CALIBRATION_IMPLAUSIBLE',
    ]);
    expect(lines[3].nuclides[0].nuclide).toBe('Cs-137');
    expect(r.stderr).toContain('missing.n42: cannot read the file: no such file (RS_ERR_CLI_USAGE)');
    expect(r.stderr).toMatch(/junk\.xml: invalid RadiaCode ResultDataFile: not well-formed XML/);
  });

  it('--help describes the command; no file is a usage error (exit 2)', () => {
    const help = cli(['identify', '--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/Usage: radscreen identify \[options\] <file\.\.\.>/);
    expect(help.stdout).toContain('--json');
    expect(help.stdout).toContain('NORM');
    const none = cli(['identify']);
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/missing required argument/);
  });
});

describe('radscreen identify: oversized input', () => {
  it('a file over the 32 MiB limit is refused before reading (exit 2, RS_ERR_CLI_USAGE)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'radscreen-identify-big-'));
    const big = join(dir, 'big.n42');
    writeFileSync(big, '');
    truncateSync(big, 33 * 1024 * 1024); // sparse: costs no disk
    const r = cli(['identify', '--json', big]);
    expect(r.status).toBe(2);
    expect(JSON.parse(r.stdout.trim()).error).toMatchObject({
      code: 'RS_ERR_CLI_USAGE',
      message: expect.stringMatching(/larger than the 33554432-byte limit/),
    });
  });
});

describe('radscreen identify: background', () => {
  it('--background subtracts another file; a Background layer in the file is used by itself', () => {
    const withFile = cli(['identify', '--json', '--background', `${FIX}/bg.xml`, `${FIX}/Co60_a.xml`]);
    expect(withFile.status, withFile.stderr).toBe(0);
    expect(JSON.parse(withFile.stdout.trim())).toMatchObject({
      background: `${FIX}/bg.xml`,
      nuclides: [expect.objectContaining({ nuclide: 'Co-60' })],
    });
    const dir = mkdtempSync(join(tmpdir(), 'radscreen-identify-bg-'));
    const layer = (readFileSync(`${FIX}/bg.xml`, 'utf8').match(/<EnergySpectrum>[\s\S]*<\/EnergySpectrum>/)?.[0] ?? '').replaceAll(
      'EnergySpectrum>',
      'BackgroundEnergySpectrum>',
    );
    const both = join(dir, 'cs-with-bg.xml');
    writeFileSync(both, readFileSync(`${FIX}/Cs137_b.xml`, 'utf8').replace('</EnergySpectrum>', `</EnergySpectrum>\n${layer}`));
    const inFile = cli(['identify', '--json', both]);
    expect(inFile.status, inFile.stderr).toBe(0);
    expect(JSON.parse(inFile.stdout.trim())).toMatchObject({
      background: 'in-file',
      nuclides: [expect.objectContaining({ nuclide: 'Cs-137' })],
    });
    const missing = cli(['identify', '--background', join(dir, 'nope.xml'), `${FIX}/Cs137_b.xml`]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('cannot read the background file: no such file (RS_ERR_CLI_USAGE)');
  });
});
