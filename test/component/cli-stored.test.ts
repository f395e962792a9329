import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const decode = (args: string[]) =>
  spawnSync(process.execPath, ['bin/radscreen.js', 'decode', '--stored', ...args], { encoding: 'utf8', timeout: 30_000 });
const lines = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { ts: number; values: Record<string, number>; ts_source: string });

/** Files the instruments stored themselves, decoded by each family's decodeFile. */
describe('radscreen decode --stored', () => {
  it('decodes the real GMC history dump flight.bin into the 806 samples GeigerLog found', () => {
    const r = decode(['--profile', 'gq-gmc', '-o', 'timezone=UTC', 'devices/gq-gmc/fixtures/flight.bin']);
    expect(r.status).toBe(0);
    const readings = lines(r.stdout);
    expect(readings).toHaveLength(806);
    // flight.his lists (index, timestamp, CPM); compare the first and the highest sample.
    const his = readFileSync('devices/gq-gmc/fixtures/flight.his', 'latin1')
      .split('\n')
      .filter((l) => /^\s*\d+,/.test(l))
      .map((l) => l.split(',').map((f) => f.trim()));
    expect(his).toHaveLength(806);
    expect(readings[0]?.ts).toBe(Date.parse(`${(his[0] as string[])[1]?.replace(' ', 'T')}Z`));
    expect(Math.max(...readings.map((x) => x.values.cpm ?? 0))).toBe(249);
    expect(readings.every((x) => x.ts_source === 'device')).toBe(true);
    expect(r.stderr).toMatch(/accepted 806, rejected 0/);
  });

  it('decodes a bGeigie SD-card log with its 23 measurements', () => {
    const r = decode(['--profile', 'safecast-bgeigie', 'devices/safecast-bgeigie/fixtures/bgeigie.log']);
    expect(lines(r.stdout)).toHaveLength(23);
  });

  it('turns a saved Rad Pro datalog into rates with the given sensitivity', () => {
    const r = decode(['--profile', 'radpro', '-o', 'sensitivity=108.345', 'devices/radpro/fixtures/datalog-comm-md-example.txt']);
    const readings = lines(r.stdout);
    expect(readings.map((x) => x.values.pulse_count)).toEqual([1542, 1618, 1693]);
    expect(readings[1]?.values.cpm).toBe(76);
    expect(readings[1]?.values.dose_rate).toBeCloseTo(76 / 108.345, 6);
  });

  it('refuses --stored for a family that stores nothing, naming those that do', () => {
    const r = decode(['--profile', 'mightyohm-geiger', 'devices/mightyohm-geiger/fixtures/lines.json']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/mightyohm-geiger has no stored-file format/);
    expect(r.stderr).toMatch(/gq-gmc/);
  });
});
