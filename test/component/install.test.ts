import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { catalogue } from '../../devices/index.ts';
import { install } from '../../src/cli/install.ts';
import { loadConfig } from '../../src/config/load.ts';
import { findBinary } from '../support/services.ts';

/**
 * `radscreen install --prefix DIR` writes the tree a station gets (packaging, and this test):
 * the units must pass `systemd-analyze verify` (the test set-up installs systemd when missing,
 * see test/support/services.ts), the config must load, and a rerun must keep the config.
 */
const analyze = findBinary('systemd-analyze');

function verifyUnit(path: string): string {
  if (!analyze) throw new Error('systemd-analyze is missing: apt-get install systemd (the test set-up does this as root)');
  const r = spawnSync(analyze, ['verify', path], { encoding: 'utf8' });
  // verify exits 0 on unknown keys and unparsable values too; it only says so on stderr.
  return `${r.status === 0 ? '' : `exit ${r.status}\n`}${r.stderr}${r.stdout}`;
}

const run = (prefix: string, mode: 'station' | 'split') => {
  const lines: string[] = [];
  const result = install({ mode, prefix, stationId: 'hall-3', out: (l) => lines.push(l) });
  return { result, text: lines.join('\n') };
};

describe('radscreen install --prefix', () => {
  it('writes one hardened station unit, the udev rule, a config that loads and the data dir', () => {
    const prefix = mkdtempSync(join(tmpdir(), 'radscreen-install-'));
    const { result, text } = run(prefix, 'station');
    const unitPath = join(prefix, 'etc/systemd/system/radscreen-station.service');
    expect(result.written).toEqual(
      expect.arrayContaining([
        unitPath,
        join(prefix, 'etc/radscreen/radscreen.yaml'),
        join(prefix, 'etc/udev/rules.d/60-radscreen-serial.rules'),
        join(prefix, 'etc/default/radscreen'),
      ]),
    );
    expect(statSync(join(prefix, 'var/lib/radscreen')).mode & 0o777).toBe(0o750);
    const unit = readFileSync(unitPath, 'utf8');
    for (const line of [
      'User=radscreen',
      'SupplementaryGroups=dialout',
      'Restart=always',
      'NoNewPrivileges=yes',
      'ProtectSystem=strict',
      'ReadWritePaths=/var/lib/radscreen',
      'PrivateTmp=yes',
      'WantedBy=multi-user.target',
    ])
      expect(unit).toContain(`${line}\n`);
    expect(unit).toMatch(/^ProtectHome=(yes|read-only)$/m);
    // Paths in the unit are the target system's, not the prefix.
    expect(unit).toMatch(
      new RegExp(`^ExecStart=${process.execPath} /\\S+/bin/radscreen\\.js station --config /etc/radscreen/radscreen\\.yaml$`, 'm'),
    );
    expect(unit).not.toContain(prefix);
    expect(verifyUnit(unitPath)).toBe('');
    expect(readFileSync(join(prefix, 'etc/udev/rules.d/60-radscreen-serial.rules'), 'utf8')).toMatch(
      /^SUBSYSTEM=="tty", KERNEL=="ttyUSB\[0-9\]\*\|ttyACM\[0-9\]\*", GROUP="dialout", MODE="0660"$/m,
    );
    const config = loadConfig(join(prefix, 'etc/radscreen/radscreen.yaml'), { catalogue });
    expect(config.station.id).toBe('hall-3');
    // The shipped Grafana datasource points at the port the installed station's influxd takes.
    const datasource = parse(readFileSync('dashboards/grafana/provisioning/datasources/radscreen.yaml', 'utf8'));
    expect(config.influx.managed_port).toBe(8086);
    expect(new URL(datasource.datasources[0].url).port).toBe(String(config.influx.managed_port));
    expect(config.data_dir).toBe('/var/lib/radscreen');
    // With a prefix nothing touches the system: the user and systemctl steps are listed instead.
    expect(result.commands[0]).toMatch(/^useradd --system .* radscreen$/);
    expect(result.commands).toContain('systemctl enable radscreen-station.service');
    expect(text).toContain('to run   systemctl daemon-reload');
  });

  it('writes agent, ingest and server units for a split deployment, each verified', () => {
    const prefix = mkdtempSync(join(tmpdir(), 'radscreen-install-'));
    run(prefix, 'split');
    for (const command of ['agent', 'ingest', 'server']) {
      const path = join(prefix, `etc/systemd/system/radscreen-${command}.service`);
      const unit = readFileSync(path, 'utf8');
      expect(unit).toMatch(new RegExp(`bin/radscreen\\.js ${command} --config /etc/radscreen/radscreen\\.yaml$`, 'm'));
      expect(unit).toContain('Conflicts=radscreen-station.service\n');
      expect(verifyUnit(path)).toBe('');
    }
    // The agent's small young generation and the ingest's tighter heap growth (docs/benchmarks.md) are applied where they run.
    const agentUnit = readFileSync(join(prefix, 'etc/systemd/system/radscreen-agent.service'), 'utf8');
    expect(agentUnit).toMatch(new RegExp(`^ExecStart=${process.execPath} --max-semi-space-size=1 /\\S+/bin/radscreen\\.js agent `, 'm'));
    const ingestUnit = readFileSync(join(prefix, 'etc/systemd/system/radscreen-ingest.service'), 'utf8');
    expect(ingestUnit).toMatch(
      new RegExp(`^ExecStart=${process.execPath} --heap-growing-percent=50 /\\S+/bin/radscreen\\.js ingest `, 'm'),
    );
    const serverUnit = readFileSync(join(prefix, 'etc/systemd/system/radscreen-server.service'), 'utf8');
    expect(serverUnit).not.toMatch(/--max-semi-space-size|--heap-growing-percent/);
  });

  it('keeps an edited config and environment file on a rerun, rewrites the units', () => {
    const prefix = mkdtempSync(join(tmpdir(), 'radscreen-install-'));
    run(prefix, 'station');
    const configPath = join(prefix, 'etc/radscreen/radscreen.yaml');
    writeFileSync(configPath, 'station: { id: edited }\n');
    const { result } = run(prefix, 'station');
    expect(readFileSync(configPath, 'utf8')).toBe('station: { id: edited }\n');
    expect(result.kept).toEqual(expect.arrayContaining([configPath, join(prefix, 'etc/default/radscreen')]));
    expect(result.written).toContain(join(prefix, 'etc/systemd/system/radscreen-station.service'));
  });

  it('the CLI prints what it wrote with --prefix and rejects an unknown --mode (exit 2)', () => {
    const prefix = mkdtempSync(join(tmpdir(), 'radscreen-install-'));
    const r = spawnSync(process.execPath, ['bin/radscreen.js', 'install', '--prefix', prefix, '--mode', 'split'], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`wrote    ${join(prefix, 'etc/systemd/system/radscreen-server.service')}`);
    const bad = spawnSync(process.execPath, ['bin/radscreen.js', 'install', '--prefix', prefix, '--mode', 'cluster'], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(bad.status).toBe(2);
  });
});
