import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ReadingSchema } from '../../src/core/reading.ts';

const cli = (args: string[], input?: Buffer | string) =>
  spawnSync(process.execPath, ['bin/radscreen.js', ...args], {
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, NO_COLOR: '1' },
    ...(input !== undefined ? { input } : {}),
  });

interface LinesFixture {
  cases: { line: string; values: Record<string, unknown> }[];
  ignored: string[];
  rejected: { line: string; code: string }[];
}
const fixture = JSON.parse(readFileSync('devices/mightyohm-geiger/fixtures/lines.json', 'utf8')) as LinesFixture;

/** The MightyOhm golden lines as one capture: banners, good lines, bad lines, CRLF endings. */
function writeCapture(): { file: string; bytes: Buffer } {
  const lines = [...fixture.ignored.slice(0, 2), ...fixture.cases.map((c) => c.line), ...fixture.rejected.map((r) => r.line)];
  const bytes = Buffer.from(`${lines.join('\r\n')}\r\n`, 'latin1');
  const file = join(mkdtempSync(join(tmpdir(), 'radscreen-decode-')), 'mightyohm.log');
  writeFileSync(file, bytes);
  return { file, bytes };
}

const parseNdjson = (stdout: string) =>
  stdout
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => ReadingSchema.parse(JSON.parse(l)));

describe('radscreen decode', () => {
  it('prints one canonical reading per good line as NDJSON and counts rejects per code on stderr', () => {
    const { file } = writeCapture();
    const r = cli(['decode', '--profile', 'mightyohm-geiger', file, '--station', 'bench', '--device', 'geiger-1']);
    expect(r.status).toBe(0);
    const readings = parseNdjson(r.stdout);
    expect(readings).toHaveLength(fixture.cases.length);
    expect(readings.map((x) => x.values)).toEqual(fixture.cases.map((c) => c.values));
    for (const x of readings)
      expect(x).toMatchObject({ station: 'bench', device: 'geiger-1', profile: 'mightyohm-geiger', source: 'replay' });
    // Agent-time readings from one file never share a millisecond (they would overwrite each other).
    expect(new Set(readings.map((x) => x.ts)).size).toBe(readings.length);
    expect(r.stderr).toContain(`accepted ${fixture.cases.length}, rejected ${fixture.rejected.length}\n`);
    expect(r.stderr).toMatch(/^ {2}RS_ERR_FRAME_SYNTAX: 2$/m);
    expect(r.stderr).toMatch(/^ {2}RS_ERR_FRAME_UNKNOWN: 1$/m);
    expect(r.stderr).toMatch(/^ {2}RS_ERR_FRAME_RANGE: 1$/m);
  });

  it('reads stdin for `-` with the same result as the file', () => {
    const { file, bytes } = writeCapture();
    const fromFile = cli(['decode', '--profile', 'mightyohm-geiger', file]);
    const fromStdin = cli(['decode', '--profile', 'mightyohm-geiger', '-'], bytes);
    expect(fromStdin.status).toBe(0);
    const strip = (s: string) => parseNdjson(s).map(({ ts: _ts, ...rest }) => rest);
    expect(strip(fromStdin.stdout)).toEqual(strip(fromFile.stdout));
    expect(fromStdin.stderr.split('\n').filter((l) => !l.startsWith('reject '))).toEqual(
      fromFile.stderr.split('\n').filter((l) => !l.startsWith('reject ')),
    );
  });

  it('exits 1 under --strict when anything was rejected, 0 when nothing was', () => {
    const { file } = writeCapture();
    expect(cli(['decode', '--profile', 'mightyohm-geiger', '--strict', file]).status).toBe(1);
    const clean = cli(['decode', '--profile', 'mightyohm-geiger', '--strict', '-'], `${fixture.cases[0]?.line}\n`);
    expect(clean.status).toBe(0);
    expect(clean.stderr).toBe('accepted 1, rejected 0\n');
  });

  it('exits 2 for an unknown profile and lists the known ones', () => {
    const r = cli(['decode', '--profile', 'acme-nothing', '-'], '');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("unknown profile 'acme-nothing'");
    for (const id of ['mightyohm-geiger', 'safecast-bgeigie', 'radpro', 'gq-gmc', 'ansi-n42'])
      expect(r.stderr).toMatch(new RegExp(`^ {2}${id}$`, 'm'));
  });

  it('validates --option with the profile schema (exit 2) and applies it', () => {
    const bad = cli(['decode', '--profile', 'mightyohm-geiger', '--option', 'sensitivity=-3', '-'], '');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/invalid --option for mightyohm-geiger/);
    const line = 'CPS, 5, CPM, 350, uSv/hr, 1.99, SLOW\n';
    const good = cli(['decode', '--profile', 'mightyohm-geiger', '--option', 'sensitivity=175', '-'], line);
    expect(parseNdjson(good.stdout)[0]?.values.dose_rate).toBeCloseTo(2, 9);
  });

  it('decodes an N42 file with --profile ansi-n42 and names the instrument as the device', () => {
    const r = cli(['decode', '--profile', 'ansi-n42', 'src/importers/fixtures/data_am241.n42']);
    expect(r.status).toBe(0);
    const [reading] = parseNdjson(r.stdout);
    expect(reading).toMatchObject({ profile: 'ansi-n42', device: 'RC-102-000115', ts_source: 'device' });
    expect(reading?.values).toMatchObject({ spectrum_channels: 1024, spectrum_counts: 306058, live_time: 613 });
    const bad = cli(['decode', '--profile', 'ansi-n42', '--strict', 'src/importers/fixtures/data_invalid.n42']);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toMatch(/reject RS_ERR_FRAME_SYNTAX: invalid N42\.42-2011 document: .*missing RadInstrumentVersion/);
  });
});
