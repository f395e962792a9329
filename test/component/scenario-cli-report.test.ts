import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/training/report.ts';

const run = promisify(execFile);

describe('radscreen scenario run --report json', () => {
  it('plays the scenario at 20× on its own engine and prints one JSON report with scenario, alarms and score', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rs-scn-'));
    const cfg = join(dir, 'station.yaml');
    // No broker in the config: a reported run needs none.
    writeFileSync(cfg, `station: { id: st1 }\ndata_dir: ${join(dir, 'data')}\n`);
    const { stdout, stderr } = await run(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'scenario', 'run', 'xray-interlock-beam-on', '-c', cfg, '--speed', '20', '--report', 'json'],
      { timeout: 30_000 },
    );
    const lines = stdout.trim().split('\n');
    expect(lines, stderr).toHaveLength(1);
    const report = JSON.parse(lines[0] as string) as RunReport;
    expect(report.scenario).toBe('xray-interlock-beam-on');
    expect(report.state).toBe('finished');
    expect(report.alarms.map((a) => [a.rule, a.severity])).toEqual([['xray_interlock_open_beam_on', 'emergency']]);
    expect(report.score).toEqual({ earned: 0, penalties: 0, max: 50, percent: 0 });
    expect(report.missed).toHaveLength(4);
    expect(report.timeline.filter((t) => t.kind === 'scenario').map((t) => t.at_s)).toEqual(expect.arrayContaining([10, 20, 40]));
  }, 40_000);

  it('refuses an unknown report format with exit code 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rs-scn-'));
    const cfg = join(dir, 'station.yaml');
    writeFileSync(cfg, `station: { id: st1 }\ndata_dir: ${join(dir, 'data')}\n`);
    const err = await run(process.execPath, [
      '--import',
      'tsx',
      'src/cli/main.ts',
      'scenario',
      'run',
      'xray-interlock-beam-on',
      '-c',
      cfg,
      '--report',
      'xml',
    ]).catch((e) => e);
    expect(err.code).toBe(2);
    expect(err.stderr).toContain('only json');
  });
});
