import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { RadscreenError } from '../core/errors.ts';
import { EXIT, loadConfigOrExit } from './common.ts';

/**
 * `radscreen scenario record --from --to --device <id>… --out <file> -c <config>`: stored readings
 * of chosen devices become a replay scenario (src/training/record.ts), anonymised. Reads the
 * config's InfluxDB (`influx.url`), or the station's private influxd in its data dir.
 */

function parseTime(v: string): number {
  // An explicit zone keeps a recording from shifting with the machine's TZ.
  if (!/(Z|[+-]\d\d:?\d\d)$/i.test(v)) throw new InvalidArgumentError('an ISO 8601 time with its zone, e.g. 2026-12-07T12:00:00Z');
  const ms = Date.parse(v);
  if (Number.isNaN(ms)) throw new InvalidArgumentError('not a time (ISO 8601, e.g. 2026-12-07T12:00:00Z)');
  return ms;
}

const collect = (v: string, all: string[]) => [...all, v];

interface RecordFlags {
  config: string;
  from: number;
  to: number;
  device: string[];
  out: string;
  title?: string;
  policy: string;
}

export function registerRecordCommand(cmd: Command): void {
  cmd
    .command('record')
    .description('turn a time window of stored readings of chosen devices into a replay scenario (identities anonymised)')
    .requiredOption('-c, --config <file>', 'the station config whose InfluxDB (influx.url, or the private influxd in data_dir) to read')
    .requiredOption('--from <time>', 'start of the window, ISO 8601 with zone (e.g. 2026-12-07T12:00:00Z)', parseTime)
    .requiredOption('--to <time>', 'end of the window (inclusive), ISO 8601 with zone; at most 24 h after --from', parseTime)
    .requiredOption('--device <id>', 'a stored device id; repeat for several (they become device-1, device-2, …)', collect, [])
    .requiredOption('--out <file>', 'the scenario file to write; its base name is the scenario name (e.g. incident-0412.yaml)')
    .option('--title <text>', 'the scenario title (default: "Recorded incident (N min, K device(s))")')
    .option('--policy <name>', 'retention policy to read: raw (live readings) or import (imported history)', 'raw')
    .action(async (flags: RecordFlags) => {
      process.exit(await record(flags));
    });
}

function usage(message: string, details: string[] = []): number {
  process.stderr.write(`radscreen: ${message}\n`);
  for (const d of details) process.stderr.write(`  ${d}\n`);
  return EXIT.usage;
}

async function record(flags: RecordFlags): Promise<number> {
  const name = basename(flags.out).replace(/\.ya?ml$/, '');
  if (!/\.ya?ml$/.test(flags.out) || !/^[a-z0-9][a-z0-9-]{0,63}$/.test(name))
    return usage(`--out ${flags.out}: a .yaml file whose base name is lower-case letters, digits and - (RS_ERR_CLI_USAGE)`);
  if (!['raw', 'import'].includes(flags.policy)) return usage(`--policy ${flags.policy}: raw or import (RS_ERR_CLI_USAGE)`);
  const config = loadConfigOrExit(flags.config);
  const [{ catalogue }, { recordScenario }, { toScenarioYaml }, { parseScenario }, { connect }] = await Promise.all([
    import('../../devices/index.ts'),
    import('../training/record.ts'),
    import('../training/replay-format.ts'),
    import('../training/scenario.ts'),
    import('../ingest/schema.ts'),
  ]);
  const endpoint = await openInflux(config);
  if (typeof endpoint === 'number') return endpoint;
  const influx = connect(endpoint);
  let lastProgress = 0;
  try {
    const result = await recordScenario({
      query: async (q) => {
        const raw = (await influx.queryRaw(q, { database: config.influx.database, precision: 'u' })) as {
          results?: { series?: { name: string; columns: string[]; values: unknown[][] }[]; error?: string }[];
        };
        const first = raw.results?.[0];
        if (first?.error) throw new Error(`InfluxDB: ${first.error}`);
        return first?.series ?? [];
      },
      database: config.influx.database,
      policy: flags.policy,
      devices: flags.device,
      fromMs: flags.from,
      toMs: flags.to,
      catalogue,
      name,
      ...(flags.title ? { title: flags.title } : {}),
      onProgress: ({ device, done, total }) => {
        // A line per page is plenty for short windows; long ones print at most every 2 s.
        if (done < total && Date.now() - lastProgress < 2000) return;
        lastProgress = Date.now();
        process.stderr.write(`recording ${device}: ${done}/${total} readings (${Math.round((done / total) * 100)} %)\n`);
      },
    });
    const text = toScenarioYaml(result.scenario);
    // What is written must be a valid scenario: check it with the one schema before writing.
    parseScenario(text, { catalogue, fileName: name });
    writeFileSync(flags.out, text);
    for (const s of result.skipped.slice(0, 20)) process.stderr.write(`skipped ${s.device} at ${s.t_s} s: ${s.reason}\n`);
    const skipped = result.skipped.length
      ? `; ${result.skipped.length} reading(s) could not be replayed and were left out (listed above)`
      : '';
    process.stderr.write(`wrote ${flags.out}: scenario ${name}, ${flags.device.length} device(s), ${result.readings} readings${skipped}\n`);
    return EXIT.ok;
  } catch (e) {
    if (e instanceof RadscreenError) return usage(`${e.message} (${e.code})`, (e.details as string[] | undefined) ?? []);
    process.stderr.write(`radscreen: scenario record failed (RS_ERR_INFLUX_UNAVAILABLE): ${(e as Error).message}\n`);
    return EXIT.failure;
  } finally {
    await endpoint.release();
  }
}

/** The config's InfluxDB, or the station's private one; an exit code when there is none. */
async function openInflux(
  config: ReturnType<typeof loadConfigOrExit>,
): Promise<{ url: string; username?: string; password?: string; release(): Promise<void> } | number> {
  if (config.influx.url)
    return {
      url: config.influx.url,
      ...(config.influx.username !== undefined ? { username: config.influx.username, password: config.influx.password ?? '' } : {}),
      release: async () => {},
    };
  const { hasManagedInfluxData, managedInfluxDir, openManagedInflux } = await import('../backup/influx.ts');
  if (config.influx.managed === 'never' || !hasManagedInfluxData(config.data_dir))
    return usage(
      `no InfluxDB to read: the config has no influx.url and ${config.data_dir} holds no private influxd data (RS_ERR_CLI_USAGE)`,
    );
  const { dataDirUsers } = await import('../backup/in-use.ts');
  try {
    const ep = await openManagedInflux(managedInfluxDir(config.data_dir), { mayStart: dataDirUsers(config.data_dir).length === 0 });
    return { url: ep.url, username: ep.credentials.username, password: ep.credentials.password, release: ep.release };
  } catch (e) {
    process.stderr.write(`radscreen: cannot open the station's influxd (RS_ERR_INFLUX_UNAVAILABLE): ${(e as Error).message}\n`);
    return EXIT.failure;
  }
}
