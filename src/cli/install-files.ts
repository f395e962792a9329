/**
 * The files `radscreen install` writes, as text: systemd units, the udev rule, the environment
 * file and a starting config. Pure functions, so tests read exactly what an install writes.
 * Rules and their sources: docs/install.md.
 */

/** Where an installed station keeps things (absolute paths on the target system, before any --prefix). */
export interface InstallLayout {
  /** The service account (system user and its own group). */
  user: string;
  /** Directory holding package.json, bin/radscreen.js and dist/. */
  appDir: string;
  /** Absolute path of the node binary the units run. */
  nodePath: string;
  configDir: string;
  dataDir: string;
  unitDir: string;
  udevDir: string;
  /** The EnvironmentFile the units read (RADSCREEN_LOG_LEVEL, RADSCREEN_LOG_FORMAT…). */
  envFile: string;
}

export const DEFAULT_LAYOUT: Omit<InstallLayout, 'appDir' | 'nodePath'> = {
  user: 'radscreen',
  configDir: '/etc/radscreen',
  dataDir: '/var/lib/radscreen',
  unitDir: '/etc/systemd/system',
  udevDir: '/etc/udev/rules.d',
  envFile: '/etc/default/radscreen',
};

/** `station`: one unit runs everything; `split`: agent, ingest and server as three units. */
export type InstallMode = 'station' | 'split';

export const UNITS: Record<InstallMode, ReadonlyArray<{ command: string; description: string }>> = {
  station: [{ command: 'station', description: 'radscreen screening station (broker, agent, ingest, server, console)' }],
  split: [
    { command: 'agent', description: 'radscreen device agent (serial/MQTT instruments to MQTT)' },
    { command: 'ingest', description: 'radscreen ingest (MQTT to InfluxDB)' },
    { command: 'server', description: 'radscreen alarm server and operator console' },
  ],
};

/**
 * V8 flags a unit's node runs with, per command (docs/benchmarks.md "Edge footprint"). The agent
 * runs on small edge computers and allocates little (a few hundred bytes a reading), so V8's
 * default young generation (semi-spaces growing to 16 MiB each, about 48 MiB reserved and touched
 * as it grows) is mostly RSS it never needs: with 1 MiB semi-spaces `npm run bench:agent` measured
 * ≈ 26 MiB less peak RSS at 64 devices and no CPU change within the noise. The ingest runs with
 * `--heap-growing-percent=50`: after each full GC, V8 lets the old generation grow to 1.5× what
 * survived instead of its own factor (up to 4× for a process that allocates fast), and a saturated
 * ingest's old generation is mostly garbage (message strings, spool row bodies) waiting for that
 * GC. `npm run bench:ingest` measured peak RSS 176–177 MiB against 246–265 with the defaults, at
 * the same CPU per reading within the run-to-run noise (docs/benchmarks.md "Drain and memory").
 * Server and station keep V8's defaults.
 */
export const NODE_FLAGS: Readonly<Record<string, readonly string[]>> = {
  agent: ['--max-semi-space-size=1'],
  ingest: ['--heap-growing-percent=50'],
};

export const unitName = (command: string): string => `radscreen-${command}.service`;
export const configPath = (l: Pick<InstallLayout, 'configDir'>): string => `${l.configDir}/radscreen.yaml`;

/**
 * One service unit. Restart=always with no start limit: a station must come back after any
 * failure, however often. Hardening (systemd.exec(5)): the whole file system read-only except
 * the data dir, no privilege gain, private /tmp, no access to homes. Not set, on purpose:
 * PrivateDevices (it hides the serial adapters) and MemoryDenyWriteExecute (V8's JIT needs
 * writable executable memory). KillMode=mixed: SIGTERM goes to radscreen alone, which stops its
 * own influxd child in order; whatever is left after TimeoutStopSec gets SIGKILL.
 */
export function serviceUnit(l: InstallLayout, mode: InstallMode, command: string, description: string): string {
  const others = mode === 'station' ? UNITS.split.map((u) => unitName(u.command)) : [unitName('station')];
  // In a split deployment the broker and InfluxDB are system services; order after them when present.
  const after = ['network-online.target', ...(mode === 'split' ? ['mosquitto.service', 'influxdb.service'] : [])];
  const protectHome = underHome(l.appDir) ? 'read-only' : 'yes';
  return `# Written by \`radscreen install\`; rerunning it rewrites this file (put local changes in a drop-in:
# systemctl edit ${unitName(command)}). See ${l.appDir}/docs/install.md.
[Unit]
Description=${description}
Documentation=file://${l.appDir}/docs/install.md
Wants=network-online.target
After=${after.join(' ')}
Conflicts=${others.join(' ')}
StartLimitIntervalSec=0

[Service]
Type=simple
User=${l.user}
Group=${l.user}
SupplementaryGroups=dialout
EnvironmentFile=-${l.envFile}
Environment=NODE_ENV=production
WorkingDirectory=${l.dataDir}
ExecStart=${[l.nodePath, ...(NODE_FLAGS[command] ?? []), `${l.appDir}/bin/radscreen.js`].join(' ')} ${command} --config ${configPath(l)}
Restart=always
RestartSec=2
KillMode=mixed
TimeoutStopSec=30
UMask=0027
LimitNOFILE=65536
NoNewPrivileges=yes
ProtectSystem=strict
ReadWritePaths=${l.dataDir}
ProtectHome=${protectHome}
PrivateTmp=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
RestrictSUIDSGID=yes
RestrictRealtime=yes
RestrictNamespaces=yes
LockPersonality=yes
SystemCallArchitectures=native
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK

[Install]
WantedBy=multi-user.target
`;
}

/** True when `dir` is under /home, /root or /run/user, which ProtectHome=yes would hide from the service. */
export function underHome(dir: string): boolean {
  return /^\/(home|root|run\/user)(\/|$)/.test(dir);
}

/**
 * USB serial adapters (ttyUSB: FTDI, CP210x, CH340, PL2303; ttyACM: CDC-ACM such as the GMC and
 * Rad Pro) to group dialout, mode 0660, whatever the distribution's defaults. The service user is in dialout (SupplementaryGroups and usermod), so it reaches them without root.
 */
export function udevRule(): string {
  return `# Written by \`radscreen install\`: serial adapters readable and writable by group dialout,
# which the radscreen service user belongs to. Per-device names: docs/install.md "Serial adapters".
SUBSYSTEM=="tty", KERNEL=="ttyUSB[0-9]*|ttyACM[0-9]*", GROUP="dialout", MODE="0660"
`;
}

export function environmentFile(): string {
  return `# Environment of the radscreen services (read by every unit; not overwritten by \`radscreen install\`).
# RADSCREEN_LOG_LEVEL=info
`;
}

/** A starting config: no devices yet (add them, then \`radscreen config check\`). Never overwritten. */
export function configTemplate(l: InstallLayout, stationId: string): string {
  return `# radscreen station config, written by \`radscreen install\`. Every key: README.md "Config reference";
# \`radscreen config schema\` prints the JSON Schema. Check edits with:
#   radscreen config check ${configPath(l)}
station:
  id: ${stationId}
  name: Screening station ${stationId}

data_dir: ${l.dataDir}

server:
  host: 127.0.0.1
  port: 8080

influx:
  # The private influxd (when installed) listens here, so Grafana and other tools can attach.
  managed_port: 8086

devices: []
  # - id: chute-geiger
  #   name: Parcel chute Geiger counter
  #   profile: mightyohm-geiger
  #   serial: { path: /dev/ttyUSB0 }
`;
}
