import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { catalogue as defaultCatalogue } from '../../devices/index.ts';
import { simulators as defaultSimulators } from '../../simulators/index.ts';
import { formatIssues } from '../config/load.ts';
import { type DeviceConfig, DeviceConfigSchema, SimulateSchema } from '../config/schema.ts';
import { RadscreenError } from '../core/errors.ts';
import type { DeviceProfile } from '../core/profile.ts';
import { ChannelValueSchema, IdSchema, QualitySchema } from '../core/reading.ts';
import { checkChannelValues } from '../core/reading-contract.ts';
import type { SimulatorFactory } from '../core/simulator.ts';
import { TRAINING_PREFIX } from '../core/training-id.ts';
import { CONTROL_APIS, controlMethodsOf } from './controls.ts';
import { expandReplayLines } from './replay-format.ts';

/**
 * A training scenario (`simulators/scenarios/<name>.yaml`): simulated devices with their physics
 * (the config's `simulate` block) plus timed control actions and cable pulls, replayed through
 * the live pipeline by src/training/runner.ts. This is the one schema for scenario files.
 */

/** Re-exported: the prefix lives in src/core/training-id.ts so the live path can use it without scenarios. */
export { TRAINING_PREFIX };

/** Where the shipped scenarios live. */
export const SCENARIO_DIR = fileURLToPath(new URL('../../simulators/scenarios/', import.meta.url));

/** A call on the device simulator's control panel at `at_s` scenario seconds, e.g. `openDoor(1)`. */
export const ScenarioActionSchema = z.strictObject({
  at_s: z.number().nonnegative(),
  /** A method of the profile's control API (src/training/controls.ts). */
  call: z.string().min(1),
  args: z.array(z.unknown()).default([]),
  /** What the trainee should see happen now; printed in progress. */
  note: z.string().optional(),
});

/** Pull (`unplug`) or reconnect (`replug`) the device's cable at `at_s`. */
export const CablePullSchema = z.strictObject({
  at_s: z.number().nonnegative(),
  action: z.enum(['unplug', 'replug']),
});

/**
 * One recorded reading of a replay device (`radscreen scenario record`): its canonical values at
 * `t_s` scenario seconds (ms resolution). The values are checked against the profile's channels
 * in crossCheck, with the same contract the agent and ingest apply.
 */
export const ReplayPointSchema = z.strictObject({
  t_s: z.number().nonnegative(),
  values: z
    .record(z.string().regex(/^[a-z][a-z0-9_]*$/), ChannelValueSchema)
    .refine((v) => Object.keys(v).length > 0, 'a reading carries at least one value'),
  quality: QualitySchema.default('good'),
});

export const ScenarioDeviceSchema = z.strictObject({
  /** Scenario-local id; on the wire it becomes `training-<id>` (so at most 55 characters here). */
  id: IdSchema.max(64 - TRAINING_PREFIX.length, `at most ${64 - TRAINING_PREFIX.length} characters (training- is prefixed)`),
  profile: z.string().min(1),
  name: z.string().optional(),
  options: z.record(z.string(), z.unknown()).default({}),
  /** As `devices[].simulate` in the config; event times count in device ticks (1000 ms = seconds). */
  simulate: SimulateSchema.default(SimulateSchema.parse({})),
  /**
   * A replay instead of physics (`radscreen scenario record`): canonical readings at `t_s` scenario
   * seconds, fed into the run's engine. Trainee runs only (not playable through a broker). In the
   * file: a YAML list, or JSON lines in a block scalar (what `record` writes; see expandReplayLines).
   */
  replay: z.array(ReplayPointSchema).max(200_000).optional(),
  actions: z.array(ScenarioActionSchema).default([]),
  cable_pull: z.array(CablePullSchema).default([]),
});

/**
 * What a trained operator does, and by when (scored by src/training/scoring.ts). `rule` (and
 * `device`, scenario-local) name the alarm it concerns; `within_s` counts from that alarm's first
 * raise, or from the start of the run when no rule is given (a checklist item such as "call the
 * supervisor"). Done on time earns `points`; late earns half; never done earns none.
 */
export const ExpectedActionSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'lower-case letters, digits and -'),
  label: z.string().min(1).max(200),
  action: z.enum(['acknowledge', 'disposition', 'reset', 'out_of_service', 'checklist']),
  rule: z.string().min(1).optional(),
  device: z.string().min(1).optional(),
  within_s: z.number().positive(),
  /** For `disposition`: the value and, when given, the nuclide (case-insensitive) that count. */
  disposition: z.enum(['true', 'innocent', 'false']).optional(),
  nuclide: z.string().min(1).max(32).optional(),
  points: z.number().int().positive().max(100).default(10),
});
export type ExpectedAction = z.infer<typeof ExpectedActionSchema>;

/**
 * What counts as an error, each costing `penalty` points: silencing instead of acknowledging,
 * acknowledging before opening the alarm's evidence, resetting while the condition is still
 * active (e.g. an interlock alarm with the door open), shelving a scenario alarm.
 */
export const ScenarioErrorSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'lower-case letters, digits and -'),
  label: z.string().min(1).max(200),
  when: z.enum(['silence', 'acknowledge_without_evidence', 'reset_while_active', 'shelve']),
  rule: z.string().min(1).optional(),
  device: z.string().min(1).optional(),
  penalty: z.number().int().positive().max(100).default(10),
});
export type ScenarioError = z.infer<typeof ScenarioErrorSchema>;

export const ScenarioSchema = z.strictObject({
  /** Same as the file name without `.yaml`; used in the CLI and the API. */
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, 'lower-case letters, digits and -'),
  title: z.string().min(1).max(120),
  /** What the trainee should notice and do. */
  description: z.string().min(1),
  duration_s: z
    .number()
    .positive()
    .max(24 * 3600),
  devices: z.array(ScenarioDeviceSchema).min(1),
  expected: z.array(ExpectedActionSchema).default([]),
  errors: z.array(ScenarioErrorSchema).default([]),
});
export type Scenario = z.infer<typeof ScenarioSchema>;
export type ScenarioDevice = z.infer<typeof ScenarioDeviceSchema>;

/** What checking needs besides the file: the catalogue and the simulators (defaults: the built-in ones). */
export interface ScenarioCheckContext {
  catalogue?: ReadonlyMap<string, DeviceProfile>;
  simulators?: ReadonlyMap<string, SimulatorFactory>;
  /** The file's base name; the scenario's `name` must equal it. */
  fileName?: string;
}

/** Problems zod cannot see: profiles, control calls and their arguments, times past the end, cable order. */
function crossCheck(s: Scenario, ctx: ScenarioCheckContext): string[] {
  const catalogue = ctx.catalogue ?? defaultCatalogue;
  const sims = ctx.simulators ?? defaultSimulators;
  const out: string[] = [];
  if (ctx.fileName && s.name !== ctx.fileName) out.push(`name: must match the file name '${ctx.fileName}'`);
  const late = (at: number) => at > s.duration_s;
  const seen = new Set<string>();
  s.devices.forEach((d, i) => {
    const at = `devices.${i}`;
    if (seen.has(d.id)) out.push(`${at}.id: duplicate device id '${d.id}'`);
    seen.add(d.id);
    const profile = catalogue.get(d.profile);
    if (!profile) out.push(`${at}.profile: unknown profile '${d.profile}' (known: ${[...catalogue.keys()].join(', ')})`);
    else if (!sims.has(d.profile)) out.push(`${at}.profile: profile '${d.profile}' has no simulator`);
    if (profile?.optionsSchema) {
      const r = profile.optionsSchema.safeParse(d.options);
      if (!r.success) out.push(...formatIssues(r.error.issues).map((l) => `${at}.options.${l}`));
      else d.options = r.data as Record<string, unknown>; // defaults filled in, as the config loader does
    } else if (profile && Object.keys(d.options).length > 0) out.push(`${at}.options: profile '${d.profile}' takes no options`);
    if (d.replay && (d.actions.length > 0 || d.cable_pull.length > 0 || d.simulate.events.length > 0))
      out.push(`${at}.replay: a replay device takes no simulate events, actions or cable pulls`);
    d.replay?.forEach((p, j) => {
      if (late(p.t_s)) out.push(`${at}.replay.${j}.t_s: ${p.t_s} s is after the scenario ends (${s.duration_s} s)`);
      const refused = profile && checkChannelValues(p.values, profile.channels, profile.id);
      if (refused) out.push(`${at}.replay.${j}.values: ${refused.message} (${refused.code})`);
    });
    d.simulate.events.forEach((e, j) => {
      if (late(e.at_s)) out.push(`${at}.simulate.events.${j}.at_s: ${e.at_s} s is after the scenario ends (${s.duration_s} s)`);
    });
    const api = CONTROL_APIS[d.profile];
    d.actions.forEach((a, j) => {
      const where = `${at}.actions.${j}`;
      if (late(a.at_s)) out.push(`${where}.at_s: ${a.at_s} s is after the scenario ends (${s.duration_s} s)`);
      const argsSchema = api?.[a.call];
      if (!api) out.push(`${where}.call: profile '${d.profile}' has no control panel; use simulate.events or cable_pull`);
      else if (!argsSchema) out.push(`${where}.call: unknown control '${a.call}' (known: ${controlMethodsOf(d.profile).join(', ')})`);
      else {
        const r = argsSchema.safeParse(a.args);
        if (!r.success)
          out.push(...formatIssues(r.error.issues).map((l) => `${where}.args${l.startsWith('(root)') ? l.slice(6) : `.${l}`}`));
      }
    });
    if (d.cable_pull.length > 0 && profile?.link.type === 'mqtt')
      out.push(`${at}.cable_pull: profile '${d.profile}' publishes on MQTT; it has no cable to pull`);
    // Plugged in at the start: pulls must alternate unplug, replug, … in time order.
    let plugged = true;
    let last = -1;
    d.cable_pull.forEach((c, j) => {
      const where = `${at}.cable_pull.${j}`;
      if (late(c.at_s)) out.push(`${where}.at_s: ${c.at_s} s is after the scenario ends (${s.duration_s} s)`);
      if (c.at_s < last) out.push(`${where}.at_s: cable pulls must be in time order`);
      if ((c.action === 'unplug') !== plugged)
        out.push(`${where}.action: '${c.action}' but the cable is ${plugged ? 'in' : 'out'} already`);
      plugged = c.action === 'replug';
      last = c.at_s;
    });
  });
  const ids = new Set(s.devices.map((d) => d.id));
  for (const [list, items] of [
    ['expected', s.expected],
    ['errors', s.errors],
  ] as const)
    items.forEach((x, j) => {
      if (x.device && !ids.has(x.device)) out.push(`${list}.${j}.device: no device '${x.device}' in this scenario`);
    });
  s.expected.forEach((x, j) => {
    if (x.action !== 'checklist' && x.action !== 'out_of_service' && !x.rule) out.push(`expected.${j}.rule: required for '${x.action}'`);
    if (x.action !== 'disposition' && (x.disposition || x.nuclide)) out.push(`expected.${j}: disposition/nuclide only for 'disposition'`);
  });
  return out;
}

/**
 * Parses and checks a scenario from YAML text. Throws RadscreenError RS_ERR_SCENARIO_INVALID whose
 * `details` are `path: message` lines (all problems at once, not just the first).
 */
export function parseScenario(text: string, ctx: ScenarioCheckContext = {}): Scenario {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const lines = doc.errors.map((e) => `${e.linePos ? `line ${e.linePos[0].line}` : '(yaml)'}: ${e.message.split('\n')[0]}`);
    throw new RadscreenError('RS_ERR_SCENARIO_INVALID', 'the scenario is not valid YAML', lines);
  }
  const raw = doc.toJS() ?? {};
  const lineProblems = expandReplayLines(raw);
  if (lineProblems.length) throw new RadscreenError('RS_ERR_SCENARIO_INVALID', 'the scenario is invalid', lineProblems);
  const parsed = ScenarioSchema.safeParse(raw);
  if (!parsed.success) throw new RadscreenError('RS_ERR_SCENARIO_INVALID', 'the scenario is invalid', formatIssues(parsed.error.issues));
  const problems = crossCheck(parsed.data, ctx);
  if (problems.length) throw new RadscreenError('RS_ERR_SCENARIO_INVALID', 'the scenario is invalid', problems);
  return parsed.data;
}

/** Reads and checks one scenario file; its `name` must match the file name. */
export function loadScenario(path: string, ctx: ScenarioCheckContext = {}): Scenario {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new RadscreenError('RS_ERR_SCENARIO_INVALID', `cannot read scenario ${path}`, [`${path}: ${(e as Error).message}`]);
  }
  return parseScenario(text, { ...ctx, fileName: basename(path).replace(/\.ya?ml$/, '') });
}

/** One file of a scenario folder: the scenario, or the problems that keep it out. */
export type ScenarioEntry =
  | { file: string; scenario: Scenario; problems?: undefined }
  | { file: string; scenario?: undefined; problems: string[] };

/**
 * Parsed files by path, while their size and mtime stay the same: the console polls the scenario
 * list every second, and a recorded day (86,400 readings) takes over a second to parse. Only for
 * the built-in catalogue and simulators (what the server uses). Callers must not mutate entries.
 */
const listed = new Map<string, { stamp: string; entry: ScenarioEntry }>();

/** Every `*.yaml` in `dir` (default the shipped ones), sorted by file name; invalid files come with their problems. */
export function listScenarios(dir = SCENARIO_DIR, ctx: ScenarioCheckContext = {}): ScenarioEntry[] {
  const files = readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort();
  const cacheable = !ctx.catalogue && !ctx.simulators;
  return files.map((f) => {
    const file = join(dir, f);
    const st = statSync(file, { throwIfNoEntry: false });
    const stamp = st ? `${st.size}:${st.mtimeMs}` : '';
    const hit = cacheable && st ? listed.get(file) : undefined;
    if (hit?.stamp === stamp) return hit.entry;
    let entry: ScenarioEntry;
    try {
      entry = { file, scenario: loadScenario(file, ctx) };
    } catch (e) {
      if (!(e instanceof RadscreenError)) throw e;
      entry = { file, problems: (e.details as string[] | undefined) ?? [e.message] };
    }
    if (cacheable && st) listed.set(file, { stamp, entry });
    return entry;
  });
}

/** The scenario's devices as config entries: ids prefixed `training-`, source `training`, defaults filled in. */
export function trainingDevices(s: Scenario): DeviceConfig[] {
  return s.devices.map((d) =>
    DeviceConfigSchema.parse({
      id: `${TRAINING_PREFIX}${d.id}`,
      profile: d.profile,
      name: `${d.name ?? d.id} (training)`,
      options: d.options,
      simulate: d.simulate,
      source: 'training',
    }),
  );
}
