import { Counter, Gauge, type Registry } from 'prom-client';
import type { AlarmEngine } from '../alarms/engine.ts';
import type { LiveState } from './live-state.ts';

/** KPI window for the gauges: one day, as the alarm-management benchmarks are stated per day (EEMUA 191). */
const KPI_WINDOW_MS = 24 * 3_600_000;

/**
 * Adds the alarm KPIs (ISA-18.2 / EEMUA 191) to the one metrics registry: open alarms by state,
 * alarms per hour and the worst 10 minutes over 24 h, raises by severity, time to acknowledge,
 * chattering and stale counts, flood state, and a counter of every transition by kind. Gauges
 * are computed from the engine at scrape time; the counter subscribes to the engine's transition bus.
 */
export function registerAlarmMetrics(registry: Registry, engine: AlarmEngine, state: LiveState): void {
  const station = state.station.id;
  // One KPI computation per scrape, shared by every gauge's collect().
  let cache: { at: number; kpis: ReturnType<AlarmEngine['kpis']> } | undefined;
  const kpis = () => {
    const now = Date.now();
    if (!cache || now - cache.at > 500) cache = { at: now, kpis: engine.kpis({ windowMs: KPI_WINDOW_MS }) };
    return cache.kpis;
  };
  const gauge = (name: string, help: string, labelNames: string[], fill: (g: Gauge<string>) => void) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        fill(this);
      },
    });

  gauge('radscreen_alarms_open', 'Open alarm occurrences by ISA-18.2 condition', ['state'], (g) => {
    const k = kpis();
    g.set({ state: 'all' }, k.open);
    g.set({ state: 'unacknowledged' }, k.unacknowledged);
    g.set({ state: 'shelved' }, k.shelved);
    g.set({ state: 'out_of_service' }, k.out_of_service);
    g.set({ state: 'suppressed' }, k.suppressed);
  });
  gauge('radscreen_alarms_per_hour', 'Alarms raised per hour, mean over the last 24 h (target about 6 or fewer)', [], (g) =>
    g.set(kpis().alarms_per_hour),
  );
  gauge('radscreen_alarms_max_per_10min', 'Most alarms raised in any 10 minutes of the last 24 h (flood above 10)', [], (g) =>
    g.set(kpis().max_per_10min),
  );
  gauge('radscreen_alarms_raised_24h', 'Alarms raised in the last 24 h by severity', ['severity'], (g) => {
    for (const [severity, n] of Object.entries(kpis().by_severity)) g.set({ severity }, n);
  });
  gauge('radscreen_alarm_time_to_ack_seconds', 'Time from raise to acknowledgement over the last 24 h', ['stat'], (g) => {
    const t = kpis().time_to_ack_s;
    for (const stat of ['mean', 'p50', 'max'] as const) {
      const v = t[stat];
      if (v !== null) g.set({ stat }, v);
    }
  });
  gauge('radscreen_alarms_chattering', 'Alarm points raised 3 or more times within 60 s in the last 24 h', [], (g) =>
    g.set(kpis().chattering.length),
  );
  gauge('radscreen_alarms_stale', 'Alarms whose condition has been active for more than 24 h', [], (g) => g.set(kpis().stale.length));
  gauge('radscreen_alarm_flood_active', 'Whether the station is in an alarm flood (1) or not (0)', ['station'], (g) =>
    g.set({ station }, engine.flood(station).active ? 1 : 0),
  );

  // The engine keeps totals; mirror them into a counter at scrape time (counters only go up via inc()).
  const seen = new Map<string, number>();
  new Counter({
    name: 'radscreen_alarm_readings_skipped_total',
    help: 'Readings the alarm engine did not evaluate: timestamp outside the plausibility window (by code) or late/repeated',
    labelNames: ['reason'],
    registers: [registry],
    collect() {
      for (const [reason, total] of [...Object.entries(engine.rejected()), ['late', engine.late()] as const]) {
        const delta = (total ?? 0) - (seen.get(reason) ?? 0);
        if (delta > 0) this.inc({ reason }, delta);
        seen.set(reason, total ?? 0);
      }
    },
  });

  const transitions = new Counter({
    name: 'radscreen_alarm_transitions_total',
    help: 'Alarm lifecycle transitions since start, by kind',
    labelNames: ['kind', 'source'],
    registers: [registry],
  });
  engine.transitions.subscribe('metrics', (t) => transitions.inc({ kind: t.kind, source: t.alarm.source }));
  const failuresSeen = new Map<string, number>();
  new Counter({
    name: 'radscreen_alarm_subscriber_failures_total',
    help: 'Alarm transitions a subscriber of the transition bus (live state, MQTT feed, metrics) threw on, by subscriber',
    labelNames: ['subscriber'],
    registers: [registry],
    collect() {
      for (const [subscriber, total] of Object.entries(engine.transitions.failures())) {
        const delta = total - (failuresSeen.get(subscriber) ?? 0);
        if (delta > 0) this.inc({ subscriber }, delta);
        failuresSeen.set(subscriber, total);
      }
    },
  });
}
