import { AlarmActionError } from '../alarms/lifecycle.ts';
import type { Alarm, AlarmTransition, Disposition } from '../alarms/types.ts';
import type { EngineRun } from './engine-run.ts';

/** What a trainee can do on a run's alarms (the console's alarm actions, plus the checklist). */
export type TraineeActionKind =
  | 'view_evidence'
  | 'acknowledge'
  | 'silence'
  | 'shelve'
  | 'reset'
  | 'disposition'
  | 'out_of_service'
  | 'checklist';

/** One thing the trainee did (or tried: `ok: false` with the engine's refusal), at `at_s` scenario seconds. */
export interface TraineeAction {
  at_s: number;
  user: string;
  kind: TraineeActionKind;
  alarm_id?: string;
  rule?: string;
  device?: string;
  /** The condition was still active when the action was taken (e.g. a reset with the door still open). */
  condition_active?: boolean;
  disposition?: Disposition;
  nuclide?: string;
  /** For `checklist`: the scenario's expected item id. */
  item?: string;
  ok: boolean;
  error?: string;
}

/** Arguments of an alarm action. */
export type AlarmActionInput =
  | { kind: 'view_evidence' | 'acknowledge' | 'silence' | 'reset'; comment?: string }
  | { kind: 'shelve'; for_s: number; comment?: string }
  | { kind: 'disposition'; value: Disposition; nuclide?: string; comment?: string };

/**
 * A trainee's work on one run: every action goes to the run's own engine (on the run's clock) and
 * is recorded, refusals included, for scoring and the after-action report. Throws
 * AlarmActionError (`not_found`, `invalid_state`, `invalid_argument`) as the live routes do.
 */
export interface TraineeSession {
  actions(): readonly TraineeAction[];
  alarm(id: string, user: string, input: AlarmActionInput): AlarmTransition[];
  outOfService(device: string, user: string, on: boolean, comment?: string): AlarmTransition[];
  checklist(item: string, user: string): void;
}

export function createTraineeSession(run: EngineRun, onTransitions: (ts: AlarmTransition[]) => void = () => {}): TraineeSession {
  const actions: TraineeAction[] = [];
  const atS = () => Math.round(run.elapsedS() * 10) / 10;

  function record(a: Omit<TraineeAction, 'at_s'>, fn: () => AlarmTransition[]): AlarmTransition[] {
    try {
      const ts = fn();
      actions.push({ at_s: atS(), ...a });
      onTransitions(ts);
      return ts;
    } catch (e) {
      actions.push({ at_s: atS(), ...a, ok: false, error: (e as Error).message });
      throw e;
    }
  }

  return {
    actions: () => actions,
    alarm(id, user, input) {
      const alarm: Alarm | undefined = run.engine.get(id);
      if (!alarm) throw new AlarmActionError('not_found', `no alarm '${id}' in training run ${run.id}`);
      const base = {
        user,
        kind: input.kind,
        alarm_id: id,
        rule: alarm.rule,
        device: alarm.device,
        condition_active: alarm.state === 'active',
        ok: true,
      };
      const comment = input.comment ? { comment: input.comment } : {};
      const now = run.clock.now();
      switch (input.kind) {
        case 'view_evidence':
          return record(base, () => []);
        case 'acknowledge':
          return record(base, () => run.engine.acknowledge(id, { user, ...comment }));
        case 'silence':
          return record(base, () => run.engine.silence(id, { user }));
        case 'reset':
          return record(base, () => run.engine.reset(id, { user, ...comment }));
        case 'shelve':
          return record(base, () => run.engine.shelve(id, { user, until: now + input.for_s * 1000, ...comment }));
        case 'disposition':
          return record({ ...base, disposition: input.value, ...(input.nuclide ? { nuclide: input.nuclide } : {}) }, () =>
            run.engine.setDisposition(id, { user, value: input.value, ...(input.nuclide ? { nuclide: input.nuclide } : {}), ...comment }),
          );
      }
    },
    outOfService(device, user, on, comment) {
      if (!run.devices.includes(device)) throw new AlarmActionError('not_found', `no device '${device}' in training run ${run.id}`);
      return record({ user, kind: 'out_of_service', device, ok: true }, () =>
        run.engine.setOutOfService(run.station, device, { user, on, ...(comment ? { comment } : {}) }),
      );
    },
    checklist(item, user) {
      if (!run.scenario.expected.some((x) => x.id === item && x.action === 'checklist'))
        throw new AlarmActionError('not_found', `no checklist item '${item}' in scenario ${run.scenario.name}`);
      record({ user, kind: 'checklist', item, ok: true }, () => []);
    },
  };
}
