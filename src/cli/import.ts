import type { Command } from 'commander';
import type { Config } from '../config/schema.ts';
import type { Reading, Source } from '../core/reading.ts';
import { EXIT, loadConfigOrExit } from './common.ts';
import { checkId, collectOption, formatSummary, openInput, peekFile, usage } from './decode.ts';
import { startProgress } from './import-progress.ts';

/** Readings per MQTT message: well under the contract's 10 000, small enough to spread over ingest workers. */
const READINGS_PER_MESSAGE = 500;

interface ImportFlags {
  profile: string;
  config: string;
  station?: string;
  device?: string;
  source: string;
  option: Record<string, unknown>;
  strict?: boolean;
  stored?: boolean;
}

/** Where decoded readings go: `store` is awaited (backpressure), `finish` settles everything. */
interface ReadingSink {
  target: string;
  store(readings: Reading[]): Promise<void>;
  /** Waits until everything handed over is acknowledged; resolves with how many were lost. */
  finish(): Promise<number>;
}

/**
 * Registers `radscreen import --profile <id> <file> --config <cfg>`: decodes like `decode`, then
 * stores through the normal ingest path, as `{v:1, readings}` messages (QoS 1) on the station's
 * readings topic when `mqtt.url` is set, or straight into InfluxDB with the ingest's writer
 * when only `influx.url` is. Exit 0; 1 when readings were lost (or rejected, with --strict); 2 on usage.
 */
export function registerImportCommand(program: Command): void {
  program
    .command('import')
    .description('decode a file and store its readings: via MQTT to the ingest (mqtt.url), else directly to InfluxDB (influx.url)')
    .requiredOption('-p, --profile <id>', 'device profile id or file format (ansi-n42)')
    .argument('<file>', 'input file, or - for stdin')
    .option('-c, --config <file>', 'YAML config file', 'examples/station.yaml')
    .option('--station <id>', 'station id (default: the config’s station.id)')
    .option('--device <id>', "device id (default: the file's instrument id, else the profile id)")
    .option('--source <source>', 'replay or training', 'replay')
    .option('-o, --option <key=value>', 'profile option, repeatable', collectOption, {})
    .option('--strict', 'exit 1 when any frame or reading was rejected')
    .option(
      '--stored',
      'the file is one the instrument stored itself (GMC history dump, Rad Pro datalog, bGeigie SD log), not a captured stream',
    )
    .action(async (file: string, flags: ImportFlags) => {
      process.exitCode = await runImport(file, flags);
    });
}

async function runImport(file: string, flags: ImportFlags): Promise<number> {
  const config = loadConfigOrExit(flags.config);
  const { resolveDecodeSource, decodeSourceIds } = await import('../importers/formats.ts');
  const { decodeStream, validateOptions } = await import('../importers/decode-stream.ts');
  const source = resolveDecodeSource(flags.profile);
  if (!source) usage(`unknown profile '${flags.profile}' (RS_ERR_UNKNOWN_PROFILE); known profiles:`, decodeSourceIds());
  if (flags.source !== 'replay' && flags.source !== 'training') usage(`--source must be replay or training, got '${flags.source}'`);
  if (flags.stored && !source.decodeFile)
    usage(
      `${source.id} has no stored-file format (RS_ERR_CLI_USAGE); --stored works for:`,
      decodeSourceIds().filter((id) => resolveDecodeSource(id)?.decodeFile),
    );
  const checked = validateOptions(source, flags.option);
  if (!checked.ok) usage(`invalid --option for ${source.id} (RS_ERR_CLI_USAGE):`, checked.problems);
  // A station's private influxd (auth on) is used when nothing else is named: its URL and generated account.
  const managedInflux = await managedInfluxFor(config);
  if (managedInflux && !config.influx.username) Object.assign(config.influx, managedInflux);
  if (!config.mqtt.url && !config.influx.url) usage(`${flags.config} sets neither mqtt.url nor influx.url: nowhere to store the readings`);
  const station = checkId('--station', flags.station ?? config.station.id);
  const peeked = source.identify && !flags.device ? peekFile(file) : undefined;
  const named = checkId('--device', flags.device ?? (peeked && source.identify?.(peeked)?.device) ?? source.id);
  // Training readings belong to `training-<id>` devices, the only ones ingest admits outside the config.
  const device = flags.source === 'training' && !named.startsWith('training-') ? checkId('--device', `training-${named}`) : named;
  const input = openInput(file);

  const sink = config.mqtt.url ? await openMqttSink(config, station, device) : await openInfluxSink(config);
  const started = Date.now();
  let handedOver = 0;
  let bytesRead = 0;
  const progress = startProgress({ size: input.size, state: () => ({ bytes: bytesRead, readings: handedOver }) });
  let summary: Awaited<ReturnType<typeof decodeStream>>;
  try {
    summary = await decodeStream({
      source,
      input: input.chunks,
      origin: { station, device, source: flags.source as Source },
      options: checked.options,
      stored: Boolean(flags.stored),
      onReadings: (readings) => {
        handedOver += readings.length;
        return sink.store(readings);
      },
      onProgress: (bytes) => {
        bytesRead = bytes;
      },
    });
  } catch (e) {
    progress.stop();
    await sink.finish();
    throw e;
  }
  const lost = await sink.finish();
  progress.stop();
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  process.stderr.write(
    `${formatSummary(summary)}imported ${summary.accepted - lost} readings from ${input.name} to ${sink.target} in ${seconds} s\n`,
  );
  if (lost > 0) {
    process.stderr.write(`radscreen: ${lost} readings were not stored\n`);
    return EXIT.failure;
  }
  return flags.strict && summary.rejected > 0 ? EXIT.failure : EXIT.ok;
}

/** QoS 1 publishes on the readings topic, at most `max_inflight` (≤ 1000) awaiting PUBACK. */
async function openMqttSink(config: Config, station: string, device: string): Promise<ReadingSink> {
  const { default: mqtt } = await import('mqtt');
  const { topics } = await import('../core/contract.ts');
  const { mqttClientOptions } = await import('../security/mqtt-client-options.ts');
  const url = config.mqtt.url as string;
  const client = await mqtt
    .connectAsync(url, { protocolVersion: 4, reconnectPeriod: 1000, ...mqttClientOptions(config, { role: 'agent', station, device }) })
    .catch((e: Error) => usage(`cannot connect to MQTT broker ${url}: ${e.message}`));
  const topic = topics.readings(station, device);
  const maxInflight = Math.min(config.mqtt.max_inflight, 1000);
  let inflight = 0;
  let lost = 0;
  const waiters: Array<() => void> = [];
  const released = () => {
    inflight--;
    waiters.shift()?.();
  };
  const publishOne = async (readings: Reading[]) => {
    while (inflight >= maxInflight) await new Promise<void>((r) => waiters.push(r));
    inflight++;
    client.publish(topic, JSON.stringify({ v: 1, readings }), { qos: 1 }, (err) => {
      if (err) lost += readings.length;
      released();
    });
  };
  return {
    target: url,
    async store(readings) {
      for (let i = 0; i < readings.length; i += READINGS_PER_MESSAGE) await publishOne(readings.slice(i, i + READINGS_PER_MESSAGE));
    },
    async finish() {
      while (inflight > 0) await new Promise<void>((r) => waiters.push(r));
      await client.endAsync();
      return lost;
    },
  };
}

/**
 * The credentials (and, when `influx.url` is unset, the last URL) of the station's managed
 * influxd in `<data_dir>/influxdb`, when it has created them and no `influx.username` is set.
 */
async function managedInfluxFor(config: Config): Promise<{ url: string; username: string; password: string } | undefined> {
  if (config.influx.username !== undefined || config.influx.managed === 'never') return undefined;
  const { readManagedInfluxCredentials } = await import('../station/managed-influxd.ts');
  const { join } = await import('node:path');
  const managed = readManagedInfluxCredentials(join(config.data_dir, 'influxdb'));
  const url = config.influx.url ?? managed?.url;
  return managed && url ? { url, username: managed.username, password: managed.password } : undefined;
}

/** influxd's policy duration (`0s` = INF, `720h0m0s`) in ms. */
export function influxDurationMs(duration: string): number {
  let ms = 0;
  for (const [, n, unit] of duration.matchAll(/(\d+)(h|m|s)/g))
    ms += Number(n) * { h: 3_600_000, m: 60_000, s: 1000 }[unit as 'h' | 'm' | 's'];
  return ms === 0 ? Number.POSITIVE_INFINITY : ms;
}

/**
 * No broker configured: the ingest's own writer, into the `import` retention policy only. The
 * station's policies (`raw`, `rollup_1m`) are never created or altered here: an import config's
 * durations must not change a running station (docs/data-integrity.md "Retention policies").
 * Readings older than the `import` policy keeps are refused (RS_ERR_RETENTION), not sent to be
 * dropped silently.
 */
async function openInfluxSink(config: Config): Promise<ReadingSink> {
  const { connect, createPolicyIfMissing, IMPORT_POLICY } = await import('../ingest/schema.ts');
  const { createInfluxWriter } = await import('../ingest/influx-writer.ts');
  const { toLines } = await import('../ingest/line-protocol.ts');
  const influx = { ...config.influx, url: config.influx.url as string };
  const auth = {
    ...(influx.username !== undefined ? { username: influx.username } : {}),
    ...(influx.password !== undefined ? { password: influx.password } : {}),
  };
  const admin = connect({ url: influx.url, ...auth });
  const duration = await admin
    .createDatabase(influx.database)
    .then(() => createPolicyIfMissing(admin, influx.database, IMPORT_POLICY, influx.import_retention))
    .catch((e: Error) => usage(`InfluxDB ${influx.url}: ${e.message.split('\n')[0]}`));
  const cutoff = Date.now() - influxDurationMs(duration);
  let dropped = 0;
  let tooOld = 0;
  const writer = createInfluxWriter({
    url: influx.url,
    database: influx.database,
    retentionPolicy: IMPORT_POLICY,
    batchSize: influx.batch_size,
    flushIntervalMs: influx.flush_interval_ms,
    ...auth,
    onDrop: (lines, info) => {
      dropped += info.droppedPoints ?? lines.length;
      process.stderr.write(`radscreen: InfluxDB refused ${lines.length} points (${info.code}): ${info.message}\n`);
    },
  });
  return {
    target: `${influx.url} (database ${influx.database}, retention policy ${IMPORT_POLICY})`,
    async store(readings) {
      const kept = readings.filter((r) => r.ts >= cutoff);
      tooOld += readings.length - kept.length;
      if (kept.length > 0) await writer.write(toLines(kept));
    },
    async finish() {
      const unwritten = await writer.close(30_000);
      if (tooOld > 0)
        process.stderr.write(
          `radscreen: RS_ERR_RETENTION: ${tooOld} readings are older than the '${IMPORT_POLICY}' retention policy keeps (${duration}); not imported. ` +
            `The policy is never altered by radscreen: drop it (DROP RETENTION POLICY "${IMPORT_POLICY}" ON "${influx.database}") and set influx.import_retention, or ALTER it yourself\n`,
        );
      return unwritten + dropped + tooOld;
    },
  };
}
