import type { Config } from '../config/schema.ts';
import type { RunSpeed } from '../training/engine-run.ts';
import type { Scenario } from '../training/scenario.ts';
import { EXIT } from './common.ts';

/**
 * `scenario run … --report json`: the scenario plays into its own alarm engine on the run's clock
 * (the station's alarm settings, no broker, nothing stored), progress on stderr, and the
 * after-action report as one JSON object on stdout at the end. Ctrl-C ends the run early and
 * still prints the report. Returns the exit code.
 */
export async function runWithReport(scenario: Scenario, config: Config, speed: RunSpeed): Promise<number> {
  const [{ catalogue }, { simulators }, { clockProblems, startEngineRun }, { buildReport }] = await Promise.all([
    import('../../devices/index.ts'),
    import('../../simulators/index.ts'),
    import('../training/engine-run.ts'),
    import('../training/report.ts'),
  ]);
  const problems = clockProblems(scenario);
  if (problems.length) {
    for (const p of problems) process.stderr.write(`radscreen: ${p}\n`);
    return EXIT.usage;
  }
  const startedAt = Date.now();
  const run = startEngineRun({ scenario, config, catalogue, simulators, speed });
  process.stderr.write(`scenario ${scenario.name} (run ${run.id}) on its own alarm engine, speed ${speed}${speed === 'max' ? '' : '×'}\n`);
  const progress = setInterval(() => {
    const raised = run.transitions().filter((t) => t.kind === 'raised').length;
    process.stderr.write(
      `[${Math.round(run.elapsedS())}/${scenario.duration_s} s] ${run.readingsPublished()} readings, ${raised} alarm(s)\n`,
    );
  }, 1000);
  const stop = () => void run.stop();
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  const end = await run.done;
  clearInterval(progress);
  const report = buildReport({
    run: run.id,
    scenario,
    trainee: null,
    started_by: process.env.USER ?? 'cli',
    mode: 'cli',
    speed,
    state: end,
    started_at: startedAt,
    ended_at: Date.now(),
    elapsed_s: run.elapsedS(),
    startMs: run.startMs,
    transitions: run.transitions(),
    events: run.events(),
    actions: [],
  });
  run.engine.close();
  process.stdout.write(`${JSON.stringify(report)}\n`);
  return EXIT.ok;
}
