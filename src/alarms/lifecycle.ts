import type { Alarm, AlarmEvidence, AlarmSeverity, Disposition, IsaState, ParcelEvidence, TransitionKind } from './types.ts';
import { severityRank } from './types.ts';

/**
 * The ISA-18.2 alarm lifecycle as a pure state machine: `applyEvent(alarm, event, now)` returns
 * the alarm after the event and the transition kind, or throws AlarmActionError when the event
 * is not allowed in the alarm's state. No clock, no I/O: the engine persists the result.
 *
 * Process states (derived, see deriveIsaState):
 *   unacknowledged ─ack→ acknowledged ─clear→ normal (closed)
 *   unacknowledged ─clear→ rtn_unacknowledged ─ack→ normal (closed)
 *   latching alarms: after clear they stay (un)acknowledged with `needs_reset` until `reset`.
 * Overlays, which win over the process state while they last: out_of_service (technician),
 * suppressed (by design: maintenance, beam off…), shelved (operator, always with an expiry).
 * Shelved, suppressed and out-of-service alarms are still evaluated; they only do not annunciate.
 */

/** Why an operator action was refused; `code` lets the HTTP layer choose 404 / 409 / 400. */
export class AlarmActionError extends Error {
  constructor(
    readonly code: 'not_found' | 'invalid_state' | 'invalid_argument',
    message: string,
  ) {
    super(message);
    this.name = 'AlarmActionError';
  }
}

/** Every event the state machine accepts. `user` is required on operator actions (audit). */
export type LifecycleEvent =
  | { type: 'escalate'; severity: AlarmSeverity; evidence: AlarmEvidence }
  | { type: 'clear'; evidence: AlarmEvidence; message: string }
  | { type: 'reactivate'; severity: AlarmSeverity; evidence: AlarmEvidence; message: string }
  | { type: 'acknowledge'; user: string; comment?: string }
  | { type: 'silence'; user: string; until: number }
  | { type: 'silence_expire' }
  | { type: 'shelve'; user: string; until: number; comment?: string }
  | { type: 'unshelve'; user?: string }
  | { type: 'reset'; user: string; comment?: string }
  | { type: 'disposition'; user: string; value: Disposition; comment?: string; nuclide?: string }
  | { type: 'suppress'; reason: string }
  | { type: 'unsuppress' }
  | { type: 'out_of_service'; user: string; comment?: string }
  | { type: 'return_to_service'; user: string }
  | { type: 'parcel'; parcel: ParcelEvidence };

/** The ISA-18.2 state of an occurrence at time `now`. Overlays first, then the process state. */
export function deriveIsaState(a: Alarm, now: number): IsaState {
  if (a.out_of_service) return 'out_of_service';
  if (a.suppressed) return 'suppressed';
  if (a.shelved && a.shelved.until > now) return 'shelved';
  if (a.closed_at !== undefined) return 'normal';
  if (a.state === 'active' || a.needs_reset) return a.acknowledged ? 'acknowledged' : 'unacknowledged';
  return 'rtn_unacknowledged';
}

/** Whether the console should sound for this alarm now. */
export function shouldAnnunciate(a: Alarm, now: number): boolean {
  const isa = deriveIsaState(a, now);
  return (isa === 'unacknowledged' || isa === 'rtn_unacknowledged') && !(a.silenced_until !== undefined && a.silenced_until > now);
}

function refuse(a: Alarm, what: string): never {
  throw new AlarmActionError('invalid_state', `cannot ${what} alarm ${a.id} (${a.state}, ${a.isa_state})`);
}

/** Closes the occurrence when nothing holds it open any more: cleared, acknowledged, reset if latching. */
function closeIfDone(a: Alarm, now: number): boolean {
  if (a.closed_at === undefined && a.state === 'cleared' && a.acknowledged && !a.needs_reset) {
    a.closed_at = now;
    a.silenced_until = undefined;
    return true;
  }
  return false;
}

/**
 * Applies one event. Returns a new alarm object (the input is not modified), the transition kind,
 * and whether this event closed the occurrence (the engine then emits a `closed` transition too).
 */
export function applyEvent(alarm: Alarm, ev: LifecycleEvent, now: number): { alarm: Alarm; kind: TransitionKind; closed: boolean } {
  const a: Alarm = structuredClone(alarm);
  const closedBefore = a.closed_at !== undefined;
  let kind: TransitionKind;
  switch (ev.type) {
    case 'escalate':
      if (a.state !== 'active' || severityRank(ev.severity) <= severityRank(a.severity)) refuse(a, `escalate to ${ev.severity}`);
      a.severity = ev.severity;
      a.evidence = ev.evidence;
      a.peak = Math.max(a.peak, ev.evidence.value);
      a.escalations += 1;
      // Escalation re-annunciates: a silenced or acknowledged alarm becomes unacknowledged again.
      a.acknowledged = undefined;
      a.silenced_until = undefined;
      kind = 'escalated';
      break;
    case 'clear':
      if (a.state !== 'active') refuse(a, 'clear');
      a.state = 'cleared';
      a.cleared_at = now;
      a.clear_evidence = ev.evidence;
      a.message = ev.message;
      kind = 'cleared';
      break;
    case 'reactivate':
      // The condition is back while the latched occurrence still waits for its reset: the same
      // entry becomes active again (one entry per occurrence until reset, no chattering list).
      if (closedBefore || a.state !== 'cleared' || !a.needs_reset) refuse(a, 'reactivate');
      a.state = 'active';
      a.cleared_at = undefined;
      a.clear_evidence = undefined;
      a.evidence = ev.evidence;
      a.message = ev.message;
      a.peak = Math.max(a.peak, ev.evidence.value);
      a.recurrences += 1;
      if (severityRank(ev.severity) > severityRank(a.severity)) {
        // A higher severity re-annunciates, as an escalation does.
        a.severity = ev.severity;
        a.escalations += 1;
        a.acknowledged = undefined;
        a.silenced_until = undefined;
      }
      kind = 'reactivated';
      break;
    case 'acknowledge':
      if (closedBefore || a.acknowledged) refuse(a, 'acknowledge');
      a.acknowledged = { user: ev.user, at: now, ...(ev.comment ? { comment: ev.comment } : {}) };
      a.silenced_until = undefined;
      kind = 'acknowledged';
      break;
    case 'silence':
      if (closedBefore || a.acknowledged) refuse(a, 'silence');
      if (a.severity === 'emergency') throw new AlarmActionError('invalid_state', `emergency alarm ${a.id} cannot be silenced`);
      if (ev.until <= now) throw new AlarmActionError('invalid_argument', 'silence must end in the future');
      a.silenced_until = ev.until;
      kind = 'silenced';
      break;
    case 'silence_expire':
      if (a.silenced_until === undefined) refuse(a, 'expire the silence of');
      a.silenced_until = undefined;
      kind = 'silence_expired';
      break;
    case 'shelve':
      if (closedBefore || a.shelved) refuse(a, 'shelve');
      if (ev.until <= now) throw new AlarmActionError('invalid_argument', 'a shelve needs an expiry in the future');
      a.shelved = { user: ev.user, at: now, until: ev.until, ...(ev.comment ? { comment: ev.comment } : {}) };
      kind = 'shelved';
      break;
    case 'unshelve':
      if (!a.shelved) refuse(a, 'unshelve');
      a.shelved = undefined;
      kind = 'unshelved';
      break;
    case 'reset':
      if (!a.needs_reset || a.state !== 'cleared') refuse(a, 'reset');
      a.needs_reset = false;
      a.reset = { user: ev.user, at: now, ...(ev.comment ? { comment: ev.comment } : {}) };
      // A reset is a deliberate act after inspection: it implies the acknowledgement.
      a.acknowledged ??= { user: ev.user, at: now, ...(ev.comment ? { comment: ev.comment } : {}) };
      kind = 'reset';
      break;
    case 'disposition':
      a.disposition = {
        user: ev.user,
        at: now,
        value: ev.value,
        ...(ev.comment ? { comment: ev.comment } : {}),
        ...(ev.nuclide ? { nuclide: ev.nuclide } : {}),
      };
      kind = 'disposition';
      break;
    case 'parcel':
      a.evidence = { ...a.evidence, parcel: ev.parcel };
      kind = 'identified';
      break;
    case 'suppress':
      if (a.suppressed) refuse(a, 'suppress');
      a.suppressed = { reason: ev.reason, at: now };
      kind = 'suppressed';
      break;
    case 'unsuppress':
      if (!a.suppressed) refuse(a, 'unsuppress');
      a.suppressed = undefined;
      kind = 'unsuppressed';
      break;
    case 'out_of_service':
      if (a.out_of_service) refuse(a, 'take out of service');
      a.out_of_service = { user: ev.user, at: now, ...(ev.comment ? { comment: ev.comment } : {}) };
      kind = 'out_of_service';
      break;
    case 'return_to_service':
      if (!a.out_of_service) refuse(a, 'return to service');
      a.out_of_service = undefined;
      kind = 'returned_to_service';
      break;
  }
  // A parcel is identified when it leaves the tunnel, often after its alarm closed: like a disposition, allowed then.
  if (
    closedBefore &&
    ev.type !== 'disposition' &&
    ev.type !== 'parcel' &&
    ev.type !== 'return_to_service' &&
    ev.type !== 'unsuppress' &&
    ev.type !== 'unshelve'
  )
    refuse(alarm, ev.type);
  const closed = !closedBefore && closeIfDone(a, now);
  a.isa_state = deriveIsaState(a, now);
  return { alarm: a, kind, closed };
}
