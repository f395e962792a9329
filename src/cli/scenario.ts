import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { RadscreenError } from '../core/errors.ts';
import type { Scenario } from '../training/scenario.ts';
import { createLogger, EXIT, loadConfigOrExit } from './common.ts';
import { registerRecordCommand } from './scenario-record.ts';

/** Prints a scenario's problems as `path: message` lines and exits 2, as `config check` does. */
function exitWithProblems(e: unknown, file: string): never {
  if (!(e instanceof RadscreenError)) throw e;
  process.stderr.write(`radscreen: ${e.message} (${e.code}): ${file}\n`);
  for (const line of (e.details as string[] | undefined) ?? []) process.stderr.write(`  ${line}\n`);
  process.exit(EXIT.usage);
}

/** A shipped scenario by name, or a file by path (anything with a `/` or ending in .yaml). */
async function resolveScenario(arg: string): Promise<{ file: string; scenario: Scenario }> {
  const { loadScenario, SCENARIO_DIR } = await import('../training/scenario.ts');
  const file = /[/\\]|\.ya?ml$/.test(arg) ? arg : join(SCENARIO_DIR, `${arg}.yaml`);
  if (!existsSync(file)) {
    process.stderr.write(`radscreen: no scenario '${arg}' (see \`radscreen scenario list\`, or give a file path)\n`);
    process.exit(EXIT.usage);
  }
  try {
    return { file, scenario: loadScenario(file) };
  } catch (e) {
    exitWithProblems(e, file);
  }
}

function parseSpeed(v: string): number | 'max' {
  if (v === 'max') return 'max';
  const n = Number(v);
  if (!(n > 0 && n <= 1000)) throw new InvalidArgumentError('a number above 0 (at most 1000), or max');
  return n;
}

const mmss = (s: number) => `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, '0')}`;

/** `radscreen scenario list|check|run`: trainers' incidents replayed through the live pipeline. */
export function registerScenarioCommand(program: Command): void {
  const cmd = program.command('scenario').description('training scenarios: simulated incidents replayed through the live pipeline');

  cmd
    .command('list')
    .description('the shipped scenarios: name, title, duration')
    .action(async () => {
      const { listScenarios } = await import('../training/scenario.ts');
      for (const e of listScenarios()) {
        if (e.scenario)
          process.stdout.write(`${e.scenario.name.padEnd(26)} ${mmss(e.scenario.duration_s).padStart(6)}  ${e.scenario.title}\n`);
        else process.stdout.write(`${e.file}: invalid (${e.problems.length} problem(s); run \`radscreen scenario check\`)\n`);
      }
    });

  cmd
    .command('check')
    .argument('<file>', 'scenario YAML file')
    .description('validate a scenario; prints `path: message` lines and exits 2 when invalid')
    .action(async (file: string) => {
      const { scenario } = await resolveScenario(file);
      const actions = scenario.devices.reduce((n, d) => n + d.actions.length + d.cable_pull.length, 0);
      const replayed = scenario.devices.reduce((n, d) => n + (d.replay?.length ?? 0), 0);
      process.stdout.write(
        `${file}: ok (${scenario.name}, ${scenario.devices.length} device(s), ${actions} action(s)${replayed ? `, ${replayed} replayed reading(s)` : ''}, ${scenario.duration_s} s)\n`,
      );
    });

  cmd
    .command('run')
    .argument('<scenario>', 'a shipped scenario name (`scenario list`) or a file')
    .requiredOption('-c, --config <file>', 'the station config whose broker (mqtt.url) and station id to use')
    .option('--speed <n>', 'scenario seconds per wall second, or max (with --report: every rule on the run clock)', parseSpeed, 1)
    .option(
      '--report <format>',
      'json: play the run into its own alarm engine (no broker) and print its after-action report as one JSON object',
    )
    .description('run a scenario against a station broker: devices training-<id>, readings and alarms tagged training')
    .action(async (arg: string, opts: { config: string; speed: number | 'max'; report?: string }) => {
      const { scenario } = await resolveScenario(arg);
      const config = loadConfigOrExit(opts.config);
      if (opts.report !== undefined) {
        if (opts.report !== 'json') {
          process.stderr.write(`radscreen: --report ${opts.report}: only json is supported\n`);
          process.exit(EXIT.usage);
        }
        const { runWithReport } = await import('./scenario-report.ts');
        process.exit(await runWithReport(scenario, config, opts.speed));
      }
      if (scenario.devices.some((d) => d.replay)) {
        process.stderr.write(
          'radscreen: a recorded (replay) scenario plays only on its own engine: add --report json (RS_ERR_CLI_USAGE)\n',
        );
        process.exit(EXIT.usage);
      }
      if (opts.speed === 'max') {
        process.stderr.write('radscreen: --speed max needs --report json (a run against a broker is paced)\n');
        process.exit(EXIT.usage);
      }
      if (!config.mqtt.url) {
        process.stderr.write(
          'radscreen: scenario run needs mqtt.url (or RADSCREEN_MQTT_URL): the station the scenario plays into must be reachable on a broker.\n' +
            '  A single-process `radscreen station` embeds its broker: there trainers start scenarios from the console (Training panel)\n' +
            '  or with POST /api/training/scenarios/<name>/start as a trainer.\n',
        );
        process.exit(EXIT.usage);
      }
      await runFromCli(scenario, config, opts.speed as number);
    });

  registerRecordCommand(cmd);
}

async function runFromCli(scenario: Scenario, config: ReturnType<typeof loadConfigOrExit>, speed: number): Promise<void> {
  const url = config.mqtt.url as string;
  // Progress goes to stderr; keep the JSON log quiet unless asked for.
  const log = createLogger(process.env.RADSCREEN_LOG_LEVEL ?? 'warn');
  const [{ default: mqtt }, { catalogue }, { simulators }, { runScenario }, { topics }] = await Promise.all([
    import('mqtt'),
    import('../../devices/index.ts'),
    import('../../simulators/index.ts'),
    import('../training/runner.ts'),
    import('../core/contract.ts'),
  ]);
  // Alarms come from the station's server on its alarms topic; counting them needs no server access.
  const { mqttClientOptions } = await import('../security/mqtt-client-options.ts');
  const client = await mqtt.connectAsync(url, {
    protocolVersion: 4,
    ...mqttClientOptions(config, { role: 'training', station: config.station.id }),
  });
  const listeners = new Set<(t: import('../alarms/types.ts').AlarmTransition) => void>();
  client.on('message', (_topic, payload) => {
    try {
      const t = JSON.parse(payload.toString());
      for (const l of listeners) l(t);
    } catch {
      // Not ours to judge: the server validates what it publishes.
    }
  });
  await client.subscribeAsync(topics.alarms(config.station.id), { qos: 1 });
  const run = await runScenario({
    scenario,
    config,
    catalogue,
    simulators,
    mqttUrl: url,
    log,
    speed,
    watchAlarms: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    onProgress: (p) => {
      const last = p.last_action ? ` · ${p.last_action}` : '';
      process.stderr.write(
        `[${mmss(p.elapsed_s)}/${mmss(p.duration_s)}] ${p.readings_published} readings, ${p.alarms_raised} training alarm(s)${last}\n`,
      );
    },
  });
  process.stderr.write(
    `scenario ${scenario.name} (run ${run.id}) started on ${url}, station ${config.station.id}, devices ${run.devices.join(', ')}, ${run.mode === 'pty' ? 'socat ptys' : 'in-process links'}, speed ${speed}×. Ctrl-C stops it.\n`,
  );
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) process.exit(EXIT.failure);
    interrupted = true;
    void run.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const final = await run.done;
  await client.endAsync();
  process.stdout.write(
    `scenario ${final.scenario}: ${final.state} after ${final.elapsed_s} s; ${final.readings_published} readings published, ${final.alarms_raised} training alarm(s) raised${final.error ? `; error: ${final.error}` : ''}\n`,
  );
  process.exit(final.error ? EXIT.failure : EXIT.ok);
}
