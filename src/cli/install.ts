import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { PACKAGE_ROOT } from '../core/version.ts';
import {
  configPath,
  configTemplate,
  DEFAULT_LAYOUT,
  environmentFile,
  type InstallLayout,
  type InstallMode,
  serviceUnit,
  UNITS,
  udevRule,
  underHome,
  unitName,
} from './install-files.ts';

export interface InstallOptions {
  mode: InstallMode;
  /** Write the tree under this directory (packaging, tests): no user, no systemctl, commands printed instead. */
  prefix?: string;
  /** Overrides of the layout (paths on the target system). */
  layout?: Partial<InstallLayout>;
  stationId?: string;
  /** Where progress lines go (stdout in the CLI). */
  out: (line: string) => void;
}

export interface InstallResult {
  /** Files written, as paths on this machine (prefix included). */
  written: string[];
  /** Files left as they were (config and environment are never overwritten). */
  kept: string[];
  /** System commands run (or, with a prefix, to be run by the package's post-install). */
  commands: string[];
}

/**
 * `radscreen install`: the service user, config, data dir, systemd units and udev rule of a
 * station (docs/install.md). Rerunning it is safe: units and the rule are rewritten, the config
 * and environment file are kept, the user is created only when missing.
 */
export function install(opts: InstallOptions): InstallResult {
  const layout: InstallLayout = { ...DEFAULT_LAYOUT, appDir: PACKAGE_ROOT, nodePath: process.execPath, ...opts.layout };
  const root = opts.prefix ? resolve(opts.prefix) : '/';
  const at = (p: string) => join(root, p);
  const result: InstallResult = { written: [], kept: [], commands: [] };
  const write = (path: string, text: string, mode: number, overwrite: boolean) => {
    const real = at(path);
    if (!overwrite && existsSync(real)) {
      result.kept.push(real);
      opts.out(`kept     ${real} (exists)`);
      return;
    }
    mkdirSync(dirname(real), { recursive: true });
    writeFileSync(real, text, { mode });
    chmodSync(real, mode);
    result.written.push(real);
    opts.out(`wrote    ${real}`);
  };

  if (!existsSync(join(layout.appDir, 'dist', 'build.json')))
    opts.out(`warning  ${layout.appDir}/dist is missing: run \`npm run build\` first, or the service runs the sources through tsx`);
  if (underHome(layout.appDir))
    opts.out(`warning  ${layout.appDir} is under a home directory: the units use ProtectHome=read-only; /opt/radscreen is a better place`);

  const system = !opts.prefix;
  const run = (cmd: string, args: string[], allowFail = false) => {
    const line = [cmd, ...args].join(' ');
    result.commands.push(line);
    if (!system) return void opts.out(`to run   ${line}`);
    const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0 && !allowFail) throw new Error(`\`${line}\` failed (${r.error?.message ?? `exit ${r.status}`})`);
    opts.out(`ran      ${line}${r.status !== 0 ? ` (exit ${r.status}, ignored)` : ''}`);
  };

  if (system && spawnSync('id', ['-u', layout.user], { stdio: 'ignore' }).status === 0) opts.out(`kept     user ${layout.user} (exists)`);
  else
    run('useradd', [
      '--system',
      '--user-group',
      '--home-dir',
      layout.dataDir,
      '--no-create-home',
      '--shell',
      '/usr/sbin/nologin',
      layout.user,
    ]);
  run('usermod', ['--append', '--groups', 'dialout', layout.user]);

  mkdirSync(at(layout.configDir), { recursive: true });
  mkdirSync(at(layout.dataDir), { recursive: true, mode: 0o750 });
  chmodSync(at(layout.dataDir), 0o750);
  opts.out(`created  ${at(layout.dataDir)} (0750)`);
  write(configPath(layout), configTemplate(layout, opts.stationId ?? stationIdFromHost()), 0o640, false);
  write(layout.envFile, environmentFile(), 0o644, false);
  for (const u of UNITS[opts.mode])
    write(join(layout.unitDir, unitName(u.command)), serviceUnit(layout, opts.mode, u.command, u.description), 0o644, true);
  write(join(layout.udevDir, '60-radscreen-serial.rules'), udevRule(), 0o644, true);

  if (system) {
    // The config holds no secret but names the station's files; the service reads it through its group.
    const ids = spawnSync('id', ['-u', layout.user], { encoding: 'utf8' }).stdout.trim();
    const gid = spawnSync('id', ['-g', layout.user], { encoding: 'utf8' }).stdout.trim();
    chownSync(at(layout.dataDir), Number(ids), Number(gid));
    chownSync(at(configPath(layout)), 0, Number(gid));
    opts.out(`owned    ${at(layout.dataDir)} by ${layout.user}`);
  } else result.commands.push(`chown ${layout.user}:${layout.user} ${layout.dataDir}`, `chgrp ${layout.user} ${configPath(layout)}`);

  const systemdRunning = system && existsSync('/run/systemd/system');
  const units = UNITS[opts.mode].map((u) => unitName(u.command));
  if (systemdRunning) {
    run('systemctl', ['daemon-reload']);
    run('systemctl', ['enable', ...units]);
    run('udevadm', ['control', '--reload'], true);
    run('udevadm', ['trigger', '--subsystem-match=tty'], true);
  } else {
    for (const args of [
      ['systemctl', 'daemon-reload'],
      ['systemctl', 'enable', ...units],
      ['udevadm', 'control', '--reload'],
      ['udevadm', 'trigger', '--subsystem-match=tty'],
    ])
      if (system) opts.out(`to run   ${args.join(' ')} (systemd is not running here)`);
      else run(args[0] as string, args.slice(1));
  }
  opts.out(
    `\nNext: add the devices to ${configPath(layout)}, check it with \`radscreen config check ${configPath(layout)}\`, then\n` +
      `  systemctl start ${units.join(' ')}   (enabled: it starts at boot)\n  journalctl -u ${units[0]} -f\n`,
  );
  return result;
}

/** The host name, reduced to what a station id allows (letters, digits, - and _). */
function stationIdFromHost(): string {
  return (
    hostname()
      .split('.')[0]
      ?.replace(/[^A-Za-z0-9_-]/g, '-') || 'station'
  );
}

export function registerInstallCommand(program: Command): void {
  program
    .command('install')
    .description('install this station as a system service: user, /etc/radscreen, /var/lib/radscreen, systemd units, udev rule (root)')
    .option('--mode <mode>', 'station (one unit) | split (agent, ingest, server units)', parseMode, 'station' as InstallMode)
    .option('--prefix <dir>', 'write the same tree under <dir> (packaging, tests): no user is created, commands are printed')
    .option('--station-id <id>', 'station id for a new config (default: the host name)')
    .option('--user <name>', 'service account', DEFAULT_LAYOUT.user)
    .action((opts: { mode: InstallMode; prefix?: string; stationId?: string; user: string }) => {
      if (!opts.prefix && process.getuid?.() !== 0) {
        process.stderr.write(
          'radscreen: install needs root (sudo node bin/radscreen.js install), or --prefix DIR to write the tree elsewhere\n',
        );
        process.exit(2);
      }
      install({
        mode: opts.mode,
        ...(opts.prefix ? { prefix: opts.prefix } : {}),
        ...(opts.stationId ? { stationId: opts.stationId } : {}),
        layout: { user: opts.user },
        out: (line) => process.stdout.write(`${line}\n`),
      });
    });
}

function parseMode(v: string): InstallMode {
  if (v !== 'station' && v !== 'split') throw new InvalidArgumentError('station or split');
  return v;
}
