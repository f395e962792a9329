import type { AlarmTransition } from '../alarms/types.ts';
import { TRAINING_PREFIX } from '../core/training-id.ts';
import type { ScenarioEvent } from './engine-run.ts';
import type { ExpectedAction, Scenario, ScenarioError } from './scenario.ts';
import type { TraineeAction } from './trainee-session.ts';

/** One alarm of the run, with the trainee's response (scenario seconds; null = never). */
export interface ReportAlarm {
  id: string;
  rule: string;
  device: string;
  severity: string;
  message: string;
  raised_at_s: number;
  cleared_at_s: number | null;
  acknowledged_at_s: number | null;
  /** Seconds from raise to acknowledgement. */
  response_s: number | null;
  disposition: string | null;
  nuclide: string | null;
}

/** An expected action and how the trainee did on it. */
export interface ReportExpected {
  id: string;
  label: string;
  /** `not_raised`: the alarm it concerns never came up in this run; left out of the score. */
  status: 'met' | 'late' | 'missed' | 'not_raised';
  deadline_s: number | null;
  done_at_s: number | null;
  response_s: number | null;
  points: number;
  earned: number;
}

export interface ReportError {
  id: string;
  label: string;
  at_s: number;
  penalty: number;
}

/** The score: earned points (minus penalties) as a share of the points available, 0–100. */
export interface ReportScore {
  earned: number;
  penalties: number;
  max: number;
  percent: number;
}

/** The after-action report of one run (GET /api/training/runs/:id/report, `scenario run --report json`). */
export interface RunReport {
  v: 1;
  run: string;
  scenario: string;
  title: string;
  trainee: string | null;
  started_by: string;
  mode: 'instructor' | 'self_paced' | 'cli';
  speed: number | 'max';
  state: 'running' | 'finished' | 'stopped';
  /** Wall clock, ms since the epoch. */
  started_at: number;
  ended_at: number | null;
  elapsed_s: number;
  duration_s: number;
  timeline: { at_s: number; kind: 'scenario' | 'alarm' | 'action'; text: string }[];
  alarms: ReportAlarm[];
  actions: (TraineeAction & { response_s: number | null })[];
  expected: ReportExpected[];
  errors: ReportError[];
  /** Labels of the expected actions that were never done. */
  missed: string[];
  score: ReportScore;
}

export interface ReportInput {
  run: string;
  scenario: Scenario;
  trainee: string | null;
  started_by: string;
  mode: RunReport['mode'];
  speed: number | 'max';
  state: RunReport['state'];
  started_at: number;
  ended_at: number | null;
  elapsed_s: number;
  /** Virtual ms of the run's start (alarm timestamps are on the run's clock). */
  startMs: number;
  transitions: readonly AlarmTransition[];
  events: readonly ScenarioEvent[];
  actions: readonly TraineeAction[];
}

const r1 = (x: number) => Math.round(x * 10) / 10;
const wire = (device?: string) => (device ? `${TRAINING_PREFIX}${device}` : undefined);
const concerns = (x: { rule?: string | undefined; device?: string | undefined }, rule?: string, device?: string) =>
  (!x.rule || x.rule === rule) && (!x.device || wire(x.device) === device);

/** Builds the report: pure, so the CLI, the API and a stored run all give the same one. */
export function buildReport(i: ReportInput): RunReport {
  const at = (ts: number) => r1((ts - i.startMs) / 1000);
  const alarms = new Map<string, ReportAlarm>();
  const timeline: RunReport['timeline'] = i.events.map((e) => ({ at_s: r1(e.at_s), kind: 'scenario', text: `${e.device}: ${e.what}` }));
  for (const t of i.transitions) {
    const a = t.alarm;
    let row = alarms.get(a.id);
    if (!row) {
      row = {
        id: a.id,
        rule: a.rule,
        device: a.device,
        severity: a.severity,
        message: a.message,
        raised_at_s: at(a.raised_at),
        cleared_at_s: null,
        acknowledged_at_s: null,
        response_s: null,
        disposition: null,
        nuclide: null,
      };
      alarms.set(a.id, row);
    }
    row.severity = a.severity;
    if (t.kind === 'cleared') row.cleared_at_s = at(t.ts);
    if (a.acknowledged && row.acknowledged_at_s === null) {
      row.acknowledged_at_s = at(a.acknowledged.at);
      row.response_s = r1(row.acknowledged_at_s - row.raised_at_s);
    }
    if (a.disposition) {
      row.disposition = a.disposition.value;
      row.nuclide = a.disposition.nuclide ?? null;
    }
    if (['raised', 'cleared', 'escalated', 'reactivated'].includes(t.kind))
      timeline.push({ at_s: at(t.ts), kind: 'alarm', text: `${a.device} ${a.rule} (${a.severity}) ${t.kind}` });
  }
  const raisedAt = (id?: string) => (id ? (alarms.get(id)?.raised_at_s ?? null) : null);
  const actions = i.actions.map((a) => ({
    ...a,
    response_s: raisedAt(a.alarm_id) === null ? null : r1(a.at_s - (raisedAt(a.alarm_id) as number)),
  }));
  for (const a of actions)
    timeline.push({
      at_s: a.at_s,
      kind: 'action',
      text: `${a.user}: ${a.kind}${a.alarm_id ? ` ${a.rule} on ${a.device}` : a.device ? ` ${a.device}` : ''}${a.item ? ` ${a.item}` : ''}${a.disposition ? ` = ${a.disposition}${a.nuclide ? ` (${a.nuclide})` : ''}` : ''}${a.ok ? '' : ` refused: ${a.error}`}`,
    });
  timeline.sort((a, b) => a.at_s - b.at_s);

  const expected = i.scenario.expected.map((x) => judge(x, [...alarms.values()], actions));
  const errors = i.scenario.errors.flatMap((e) => errorsOf(e, actions));
  const max = expected.filter((x) => x.status !== 'not_raised').reduce((n, x) => n + x.points, 0);
  const earned = expected.reduce((n, x) => n + x.earned, 0);
  const penalties = errors.reduce((n, x) => n + x.penalty, 0);
  const percent = max === 0 ? (penalties > 0 ? 0 : 100) : Math.max(0, Math.min(100, Math.round(((earned - penalties) / max) * 100)));
  return {
    v: 1,
    run: i.run,
    scenario: i.scenario.name,
    title: i.scenario.title,
    trainee: i.trainee,
    started_by: i.started_by,
    mode: i.mode,
    speed: i.speed,
    state: i.state,
    started_at: i.started_at,
    ended_at: i.ended_at,
    elapsed_s: r1(i.elapsed_s),
    duration_s: i.scenario.duration_s,
    timeline,
    alarms: [...alarms.values()],
    actions,
    expected,
    errors,
    missed: expected.filter((x) => x.status === 'missed').map((x) => x.label),
    score: { earned, penalties, max, percent },
  };
}

/** Whether and when the trainee did what `x` expects. */
function judge(x: ExpectedAction, alarms: ReportAlarm[], actions: readonly TraineeAction[]): ReportExpected {
  const alarm = x.rule ? alarms.find((a) => concerns(x, a.rule, a.device)) : undefined;
  const base = { id: x.id, label: x.label, points: x.points };
  if (x.rule && !alarm) return { ...base, status: 'not_raised', deadline_s: null, done_at_s: null, response_s: null, earned: 0 };
  const from = alarm?.raised_at_s ?? 0;
  const deadline = r1(from + x.within_s);
  const done = actions.find((a) => {
    if (!a.ok) return false;
    if (x.action === 'checklist') return a.kind === 'checklist' && a.item === x.id;
    if (a.kind !== x.action) return false;
    if (x.action === 'out_of_service') return !x.device || a.device === wire(x.device);
    if (!concerns(x, a.rule, a.device)) return false;
    if (x.action !== 'disposition') return true;
    return (!x.disposition || a.disposition === x.disposition) && (!x.nuclide || a.nuclide?.toLowerCase() === x.nuclide.toLowerCase());
  });
  if (!done) return { ...base, status: 'missed', deadline_s: deadline, done_at_s: null, response_s: null, earned: 0 };
  const late = done.at_s > deadline;
  return {
    ...base,
    status: late ? 'late' : 'met',
    deadline_s: deadline,
    done_at_s: done.at_s,
    response_s: r1(done.at_s - from),
    earned: late ? Math.floor(x.points / 2) : x.points,
  };
}

/** Every action that matches an error (an error counts once per alarm it happened on). */
function errorsOf(e: ScenarioError, actions: readonly TraineeAction[]): ReportError[] {
  const seen = new Set<string>();
  const viewed = new Set<string>();
  const out: ReportError[] = [];
  for (const a of actions) {
    if (a.kind === 'view_evidence' && a.alarm_id) viewed.add(a.alarm_id);
    if (!concerns(e, a.rule, a.device) || !a.alarm_id) continue;
    const hit =
      (e.when === 'silence' && a.kind === 'silence') ||
      (e.when === 'shelve' && a.kind === 'shelve') ||
      (e.when === 'reset_while_active' && a.kind === 'reset' && a.condition_active === true) ||
      (e.when === 'acknowledge_without_evidence' && a.kind === 'acknowledge' && a.ok && !viewed.has(a.alarm_id));
    if (hit && !seen.has(a.alarm_id)) {
      seen.add(a.alarm_id);
      out.push({ id: e.id, label: e.label, at_s: a.at_s, penalty: e.penalty });
    }
  }
  return out;
}
