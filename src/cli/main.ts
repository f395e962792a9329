import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { z } from 'zod';
import { catalogue, profiles } from '../../devices/index.ts';
import { simulators } from '../../simulators/index.ts';
import { markDataDirInUse } from '../backup/in-use.ts';
import { configJsonSchema } from '../config/load.ts';
import { securePrivateTreeLogged } from '../core/private-files.ts';
import { ReadingSchema } from '../core/reading.ts';
import { VERSION } from '../core/version.ts';
import { registerBackupCommands } from './backup.ts';
import { createServiceLogger, EXIT, loadConfigOrExit, stopOnSignals } from './common.ts';
import { registerDecodeCommand } from './decode.ts';
import { registerIdentifyCommand } from './identify.ts';
import { registerImportCommand } from './import.ts';
import { registerInstallCommand } from './install.ts';
import { registerMqttAclCommand } from './mqtt-acl.ts';
import { METRICS_PORT_OPTION, serveProcessMetrics } from './process-metrics.ts';
import { registerScenarioCommand } from './scenario.ts';
import { registerUsersCommand } from './users.ts';

// `radscreen decode … | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

// Commands import their modules lazily: `config check` or `schema` must not load the server.
const program = new Command('radscreen')
  .description('Radiation and X-ray screening station: device agents, ingest to InfluxDB, alarms and the operator console.')
  .version(VERSION, '-V, --version', 'print the radscreen version')
  .showHelpAfterError()
  .exitOverride((err) => process.exit(err.exitCode === 0 ? EXIT.ok : EXIT.usage));

const configOption = ['-c, --config <file>', 'YAML config file', 'examples/station.yaml'] as const;

program
  .command('station')
  .description('run one whole station in this process: broker, simulators, agent, ingest, server and console')
  .option(...configOption)
  .action(async (opts: { config: string }) => {
    const config = loadConfigOrExit(opts.config);
    const log = createServiceLogger('station');
    securePrivateTreeLogged(config.data_dir, log);
    markDataDirInUse(config.data_dir, 'station');
    const { startStation } = await import('../station/station.ts');
    const station = await startStation({ config, catalogue, simulators, log });
    stopOnSignals(log, station.stop);
    const storage = station.influxUrl ? `storing readings in ${station.influxUrl}` : 'readings are NOT stored';
    process.stderr.write(
      `\nradscreen ${VERSION} station '${config.station.id}' is running: console ${station.consoleUrl}, MQTT ${station.mqttUrl}, ${storage}.\n` +
        `Simulated devices: ${station.linkMode === 'pty' ? 'on socat ptys' : station.linkMode === 'memory' ? 'in-process (no socat)' : 'none'}. Ctrl-C stops everything.\n\n`,
    );
    const { reportOneTimePasswords } = await import('./users.ts');
    reportOneTimePasswords(config.data_dir, station.demoUsers, `radscreen station '${config.station.id}'`);
  });

program
  .command('agent')
  .description('read the configured devices and publish canonical readings to MQTT (mqtt.url required)')
  .option(...configOption)
  .option(...METRICS_PORT_OPTION)
  .action(async (opts: { config: string; metricsPort?: number }) => {
    const config = loadConfigOrExit(opts.config);
    if (!config.mqtt.url) fail('radscreen agent needs mqtt.url (or RADSCREEN_MQTT_URL); the embedded broker runs only in `station`');
    const log = createServiceLogger('agent');
    securePrivateTreeLogged(config.data_dir, log);
    markDataDirInUse(config.data_dir, 'agent');
    const { startAgent } = await import('../agent/agent.ts');
    const { startConfiguredSimulators } = await import('../agent/simulated-links.ts');
    const sims = await startConfiguredSimulators(config, { catalogue, simulators, log, mqttUrl: config.mqtt.url });
    const agent = startAgent({ config, catalogue, mqttUrl: config.mqtt.url as string, log, links: sims.links });
    // Signals are handled from the moment devices run: a SIGTERM during the metrics start-up must
    // still stop the agent cleanly (outbox closed, offline status), not kill it mid-write.
    let metrics: { close(): Promise<void> } | undefined;
    stopOnSignals(log, async () => {
      await metrics?.close();
      await agent.stop();
      await sims.stop();
    });
    const { createDataPathMetrics } = await import('../server/metrics.ts');
    const { createAgentMetrics } = await import('../agent/metrics.ts');
    metrics = await serveProcessMetrics({
      endpoint: config.agent.metrics,
      flagPort: opts.metricsPort,
      registries: [createDataPathMetrics({ devices: agent.stats }), createAgentMetrics(agent.stats)],
      log,
    });
  });

program
  .command('ingest')
  .description('store readings from MQTT in InfluxDB (mqtt.url and influx.url required); run N with --worker 1..N and ingest.share_group')
  .option(...configOption)
  .option('-w, --worker <n>', 'worker number: a stable client id and its own spool file per worker', parseWorker)
  .option(...METRICS_PORT_OPTION)
  .action(async (opts: { config: string; worker?: number; metricsPort?: number }) => {
    const config = loadConfigOrExit(opts.config);
    if (!config.mqtt.url || !config.influx.url)
      fail('radscreen ingest needs mqtt.url and influx.url (or RADSCREEN_MQTT_URL / RADSCREEN_INFLUX_URL)');
    const log = createServiceLogger('ingest');
    securePrivateTreeLogged(config.data_dir, log);
    markDataDirInUse(config.data_dir, 'ingest');
    const { startIngest } = await import('../ingest/consumer.ts');
    const { mqttClientOptions } = await import('../security/mqtt-client-options.ts');
    const shareGroup = config.ingest.share_group;
    const protocolVersion = config.mqtt.protocol_version ?? (shareGroup || config.ingest.connections > 1 ? 5 : 4);
    // A fixed client id per worker keeps its persistent session (the broker queues for it while it
    // is down); each worker has its own spool file, since two processes must not share one queue.
    const suffix = opts.worker !== undefined ? `-w${opts.worker}` : '';
    const spool = config.influx.spool_path
      ? config.influx.spool_path.replace(/(\.sqlite)?$/, `${suffix}.sqlite`)
      : join(config.data_dir, 'ingest', `spool${suffix}.sqlite`);
    const ingest = await startIngest({
      mqttUrl: config.mqtt.url as string,
      mqttOptions: {
        ...mqttClientOptions(config, { role: 'ingest', station: config.station.id }, protocolVersion),
        protocolVersion,
      },
      influx: { ...config.influx, url: config.influx.url as string, spool_path: spool },
      log,
      clientId: `radscreen-ingest-${config.station.id}${suffix}`,
      known: { station: config.station.id, devices: config.devices },
      timestampWindow: { futureMs: config.time_window.future_s * 1000, pastMs: config.time_window.past_s * 1000 },
      ...(shareGroup ? { shareGroup } : {}),
      connections: config.ingest.connections,
    });
    const { createDataPathMetrics } = await import('../server/metrics.ts');
    const metrics = await serveProcessMetrics({
      endpoint: config.ingest.metrics,
      flagPort: opts.metricsPort,
      offset: (opts.worker ?? 1) - 1,
      registries: [createDataPathMetrics({ ingest: ingest.stats })],
      log,
    });
    stopOnSignals(log, async () => {
      await metrics.close();
      await ingest.stop();
    });
  });

/** `--worker` is a positive integer (it names the client id and spool file). */
function parseWorker(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a worker number ≥ 1');
  return n;
}

program
  .command('server')
  .description('raise alarms and serve the API and operator console (mqtt.url required)')
  .option(...configOption)
  .action(async (opts: { config: string }) => {
    const config = loadConfigOrExit(opts.config);
    if (!config.mqtt.url) fail('radscreen server needs mqtt.url (or RADSCREEN_MQTT_URL)');
    const log = createServiceLogger('server');
    securePrivateTreeLogged(config.data_dir, log);
    markDataDirInUse(config.data_dir, 'server');
    const { default: mqtt } = await import('mqtt');
    const { startServer } = await import('../server/start.ts');
    const { mqttClientOptions } = await import('../security/mqtt-client-options.ts');
    const client = mqtt.connect(config.mqtt.url as string, {
      protocolVersion: 4,
      ...mqttClientOptions(config, { role: 'server', station: config.station.id }),
    });
    const storage = {
      enabled: Boolean(config.influx.url),
      detail: config.influx.url ? `InfluxDB at ${config.influx.url}` : 'not configured',
    };
    const server = await startServer({ config, mqtt: client, log, storage, training: { mqttUrl: config.mqtt.url as string } });
    process.stderr.write(`console: ${server.url}\n`);
    await (await import('./users.ts')).bootstrapFirstAdmin(server.auth, config.data_dir);
    stopOnSignals(log, async () => {
      await server.close();
      await client.endAsync();
    });
  });

const config = program.command('config').description('check a config file or print its JSON Schema');
config
  .command('check')
  .argument('<file>', 'YAML config file')
  .description('validate a config; prints `path: message` lines and exits 2 when invalid')
  .action((file: string) => {
    const c = loadConfigOrExit(file);
    process.stdout.write(`${file}: ok (station ${c.station.id}, ${c.devices.length} device(s))\n`);
  });
config
  .command('schema')
  .description('print the config JSON Schema (for editor autocompletion)')
  .action(() => {
    process.stdout.write(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
  });

program
  .command('schema')
  .argument('<name>', 'schema to print: reading', (v) => {
    if (v !== 'reading') throw new InvalidArgumentError('the only schema is `reading`');
    return v;
  })
  .description('print the JSON Schema of a canonical record')
  .action(() => {
    process.stdout.write(`${JSON.stringify(z.toJSONSchema(ReadingSchema), null, 2)}\n`);
  });

program
  .command('devices')
  .description('list the device catalogue: id, kind, link defaults, channels with units')
  .option('--json', 'print JSON for scripts')
  .action((opts: { json?: boolean }) => {
    const rows = profiles.map((p) => ({
      id: p.id,
      vendor: p.vendor,
      model: p.model,
      kind: p.kind,
      link: p.link,
      simulator: simulators.has(p.id),
      channels: p.channels.map((c) => ({ key: c.key, unit: c.unit, label: c.label })),
    }));
    if (opts.json) return void process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    for (const r of rows) {
      const link = r.link.type === 'serial' ? `serial ${r.link.baudRate} baud` : `mqtt ${r.link.topic}`;
      process.stdout.write(`${r.id}  (${r.kind}; ${r.vendor} ${r.model}; ${link}${r.simulator ? '; simulator' : ''})\n`);
      for (const c of r.channels) process.stdout.write(`    ${c.key.padEnd(20)} ${c.unit.padEnd(6)} ${c.label}\n`);
    }
  });

program
  .command('ports')
  .description('list serial ports with their USB ids, to fill in serial.vendor_id / product_id / serial_number')
  .option('--json', 'print JSON for scripts')
  .action(async (opts: { json?: boolean }) => {
    const { listPorts } = await import('../transports/port-finder.ts');
    const ports = await listPorts().catch((e: Error) => fail(e.message));
    if (opts.json) return void process.stdout.write(`${JSON.stringify(ports, null, 2)}\n`);
    if (ports.length === 0) process.stdout.write('no serial ports found (ptys made by socat are never listed)\n');
    for (const p of ports)
      process.stdout.write(
        `${p.path}  ${p.vendorId ?? '----'}:${p.productId ?? '----'}  ${p.serialNumber ?? ''}  ${p.manufacturer ?? ''}\n`,
      );
  });

program
  .command('user')
  .description('manage console users (stored hashed in <data_dir>/users.sqlite)')
  .command('add')
  .argument('<name>', 'user name')
  .requiredOption('--role <role>', 'operator | technician | trainer | admin')
  .option('--password-stdin', 'read the password from stdin instead of generating one')
  .option('--replace', 'set a new password and role for an existing user (ends its sessions)')
  .option(...configOption)
  .action(async (name: string, opts: { role: string; passwordStdin?: boolean; replace?: boolean; config: string }) => {
    const { runUserAdd } = await import('../server/auth/cli.ts');
    const { data_dir: dataDir, accounts } = loadConfigOrExit(opts.config);
    const policy = { minLength: accounts.password_min_length };
    const out = await runUserAdd({ name, ...opts, dataDir, policy }).catch((e: Error) => fail(e.message));
    process.stdout.write(out);
  });

program
  .command('replay')
  .argument('<readings>', 'NDJSON file, one canonical reading per line (see `radscreen schema reading`)')
  .description('feed recorded readings through the alarm engine (in memory) and print every alarm transition as NDJSON')
  .option('--speed <n|max>', 'max = as fast as possible (engine clock follows the reading timestamps), or N× real time', 'max')
  .option('-c, --config <file>', 'YAML config whose `alarms:` settings to use (default: built-in defaults)')
  .action(async (file: string, opts: { speed: string; config?: string }) => {
    const speed = opts.speed === 'max' ? 'max' : Number(opts.speed);
    if (speed !== 'max' && !(speed > 0)) fail(`--speed must be a positive number or max, not ${opts.speed}`);
    const config = opts.config ? loadConfigOrExit(opts.config) : undefined;
    const { runReplay } = await import('./replay.ts');
    await runReplay({ file, speed, ...(config ? { config } : {}) }).catch((e: Error) => fail(e.message));
  });

registerDecodeCommand(program);
registerIdentifyCommand(program);
registerImportCommand(program);
registerScenarioCommand(program);
registerMqttAclCommand(program);
registerUsersCommand(program);
registerInstallCommand(program);
registerBackupCommands(program);

function fail(message: string): never {
  process.stderr.write(`radscreen: ${message}\n`);
  process.exit(EXIT.usage);
}

// A command that cannot start (a port in use, influxd that will not come up, a device path that
// does not exist) says so in one line; the stack is for RADSCREEN_LOG_LEVEL=debug.
await program.parseAsync(process.argv).catch((e: Error & { code?: string; address?: string; port?: number }) => {
  const where =
    e.code === 'EADDRINUSE' && e.port ? ` (port ${e.port} is in use: set server.port / mqtt.embedded.port, or stop what holds it)` : '';
  process.stderr.write(`radscreen: ${e.message}${where}${e.code ? ` [${e.code}]` : ''}\n`);
  if (process.env.RADSCREEN_LOG_LEVEL === 'debug') process.stderr.write(`${e.stack}\n`);
  process.exit(EXIT.failure);
});
