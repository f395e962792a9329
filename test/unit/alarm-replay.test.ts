import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AlarmTransitionSchema } from '../../src/alarms/types.ts';
import type { Reading } from '../../src/core/reading.ts';

const T0 = 1_800_000_000_000;

function reading(i: number, doseRate: number, cps: number): Reading {
  return {
    station: 'st1',
    device: 'g1',
    profile: 'mightyohm-geiger',
    kind: 'dosimeter',
    ts: T0 + i * 1000,
    ts_source: 'agent',
    values: { cps, cpm: Math.round(doseRate * 175), dose_rate: doseRate },
    quality: 'good',
    source: 'live',
  };
}

describe('radscreen replay', () => {
  it('prints every transition as NDJSON on the reading clock, tags replay, and reports invalid lines by number', () => {
    const lines: string[] = [];
    let i = 0;
    for (; i < 160; i++) lines.push(JSON.stringify(reading(i, 0.12, i % 3 === 0 ? 1 : 0)));
    lines.push('{not json');
    lines.push(JSON.stringify({ ...reading(i, 0.1, 0), kind: 'toaster' }));
    for (const _ of [1, 2, 3]) lines.push(JSON.stringify(reading(i++, 2.5, 7)));
    for (let k = 0; k < 10; k++) lines.push(JSON.stringify(reading(i++, 0.12, 0)));
    const dir = mkdtempSync(join(tmpdir(), 'radscreen-replay-'));
    const file = join(dir, 'readings.ndjson');
    writeFileSync(file, `${lines.join('\n')}\n`);

    const r = spawnSync(process.execPath, ['bin/radscreen.js', 'replay', file, '--speed', 'max'], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(0);
    const transitions = r.stdout
      .trim()
      .split('\n')
      .map((l) => AlarmTransitionSchema.parse(JSON.parse(l)));
    expect(transitions.map((t) => [t.kind, t.alarm.rule, t.ts - T0])).toEqual([
      ['raised', 'dose_rate_high', 160_000],
      ['raised', 'radiation_background', 160_000],
      // 0.12 → 2.5 µSv/h against a full minute of history is a rise of 2.4 µSv/h per minute.
      ['raised', 'rate_of_rise', 160_000],
      ['cleared', 'dose_rate_high', 163_000],
      ['cleared', 'rate_of_rise', 163_000],
      // The 5-s sum holds the hot counts until 165 s; then 5 s without exceeding.
      ['cleared', 'radiation_background', 170_000],
    ]);
    expect(transitions.every((t) => t.alarm.source === 'replay')).toBe(true);
    expect(transitions[1]?.alarm.evidence).toMatchObject({ channel: 'cps', counts: 7, window_s: 1 });
    expect(r.stderr).toMatch(/^line 161: not JSON/m);
    expect(r.stderr).toMatch(/^line 162: .*kind/m);
    expect(r.stderr).toContain('replayed 173 reading(s)');
    expect(r.stderr).toContain('6 alarm transition(s), 2 invalid line(s)');
  });

  it('refuses a bad --speed', () => {
    const r = spawnSync(process.execPath, ['bin/radscreen.js', 'replay', 'x.ndjson', '--speed', 'fast'], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--speed must be a positive number or max');
  });
});
