import { Document, Scalar, type YAMLMap, type YAMLSeq } from 'yaml';

/**
 * How a replay device's readings sit in a scenario file: JSON lines (one reading per line) in a
 * YAML block scalar, written by `radscreen scenario record` (src/training/record.ts) and read back
 * by parseScenario (src/training/scenario.ts).
 */

/**
 * `scenario record` writes a device's replay as JSON lines (one reading per line) in one YAML
 * block scalar: the yaml parser reads one 8 MB scalar in about 0.5 s, while the same 86,400
 * readings as YAML flow maps took about 31 s (measured on this project's 2-core machine). A
 * hand-written scenario may still give `replay` as a YAML list. Replaces the lines by the list in
 * `raw` and returns the lines that are not JSON (at most 20).
 */
export function expandReplayLines(raw: unknown): string[] {
  const problems: string[] = [];
  const devices = (raw as { devices?: unknown }).devices;
  if (!Array.isArray(devices)) return problems;
  devices.forEach((d: { replay?: unknown }, i) => {
    if (typeof d?.replay !== 'string') return;
    const points: unknown[] = [];
    d.replay.split('\n').forEach((line, j) => {
      if (!line.trim()) return;
      try {
        points.push(JSON.parse(line));
      } catch (e) {
        if (problems.length < 20) problems.push(`devices.${i}.replay: line ${j + 1} is not JSON (${(e as Error).message})`);
      }
    });
    d.replay = points;
  });
  return problems;
}

/**
 * YAML of a recorded scenario. Each replay is JSON lines (one reading per line) in a block
 * scalar: readable and diffable line by line, and fast to load (scenario.ts expandReplayLines).
 */
export function toScenarioYaml(scenario: Record<string, unknown>): string {
  const devices = (scenario.devices as Record<string, unknown>[]).map((d) => ({
    ...d,
    replay: `${(d.replay as unknown[]).map((p) => JSON.stringify(p)).join('\n')}\n`,
  }));
  const doc = new Document({ ...scenario, devices });
  for (const dev of (doc.get('devices') as YAMLSeq<YAMLMap>).items) (dev.get('replay', true) as Scalar).type = Scalar.BLOCK_LITERAL;
  return doc.toString({ lineWidth: 0 });
}
