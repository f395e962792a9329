import type { AlarmTransition } from './types.ts';

/** What a failing subscriber is reported to (a pino logger fits). */
export interface TransitionBusLogger {
  warn(obj: object, msg?: string): void;
}

/** Receives one transition; must not assume anything about the other subscribers. */
export type TransitionSubscriber = (t: AlarmTransition) => void;

/**
 * The one sink of the alarm engine: every transition the engine causes (readings, timers,
 * operator actions, retired training devices) is emitted here once, in order, after the engine
 * stored it. Live state (SSE), the MQTT alarms topic and the metrics subscribe; nobody else
 * forwards transitions by hand (docs/alarm-engine.md, "Transition bus").
 *
 * Invariants: subscribers run synchronously in subscription order for each transition; a
 * subscriber that throws is logged and counted (`failures()`) and the others still run, so a
 * broken console stream can never keep an alarm off MQTT.
 */
export interface TransitionBus {
  /** Adds a subscriber under a name (used in logs and the failure count); returns its unsubscribe. */
  subscribe(name: string, fn: TransitionSubscriber): () => void;
  /** Hands each transition to every subscriber, in order. Never throws. */
  emit(transitions: readonly AlarmTransition[]): void;
  /** Exceptions thrown by subscribers since start, by subscriber name. */
  failures(): Record<string, number>;
  /** Names of the current subscribers, in order (diagnostics and tests). */
  subscribers(): string[];
}

export interface TransitionBusOptions {
  /** Where subscriber failures are logged; default: counted only. */
  log?: TransitionBusLogger;
}

export function createTransitionBus(opts: TransitionBusOptions = {}): TransitionBus {
  const subs: { name: string; fn: TransitionSubscriber }[] = [];
  const failed: Record<string, number> = {};
  return {
    subscribe(name, fn) {
      const entry = { name, fn };
      subs.push(entry);
      return () => {
        const i = subs.indexOf(entry);
        if (i >= 0) subs.splice(i, 1);
      };
    },
    emit(transitions) {
      for (const t of transitions) {
        // A copy of the list: a subscriber may unsubscribe (or subscribe) while we iterate.
        for (const s of [...subs]) {
          try {
            s.fn(t);
          } catch (err) {
            failed[s.name] = (failed[s.name] ?? 0) + 1;
            opts.log?.warn({ err, subscriber: s.name, alarm: t.alarm.id, kind: t.kind }, 'alarm transition subscriber failed');
          }
        }
      }
    },
    failures: () => ({ ...failed }),
    subscribers: () => subs.map((s) => s.name),
  };
}

/**
 * Wraps a method that returns the transitions it caused so they are also emitted on `bus`
 * (once, in order); what it throws passes through with nothing emitted.
 */
export function emitterOn(bus: TransitionBus) {
  return <A extends unknown[]>(fn: (...args: A) => AlarmTransition[]) =>
    (...args: A): AlarmTransition[] => {
      const out = fn(...args);
      if (out.length) bus.emit(out);
      return out;
    };
}
