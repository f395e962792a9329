import { Counter, Gauge, Registry } from 'prom-client';
import type { DeviceStats } from '../agent/device-runner.ts';
import type { IngestStats } from '../ingest/consumer.ts';

/**
 * Prometheus metrics (text format, prom-client) for the data path: ingest spool depth and oldest
 * age, points written, retries, drops by reason, service alarms; agent outbox depth per device.
 * Values are read from the components' own counters at scrape time (collect callbacks), so the
 * hot path does no metrics work. Wire `registry.metrics()` to `GET /metrics` with content type
 * `registry.contentType`.
 */

/** Where the figures come from; either may be absent (a server without ingest, a station without devices). */
export interface MetricsSources {
  ingest?: () => IngestStats;
  devices?: () => DeviceStats[];
}

/** Creates a registry with the data-path metrics. Counters are monotonic: they mirror totals since start. */
export function createDataPathMetrics(sources: MetricsSources): Registry {
  const registry = new Registry();
  const ingest = sources.ingest;
  // prom-client counters only go up via inc(); mirror a total by adding the difference since the last scrape.
  const mirror = (counter: Counter<string>, labels: Record<string, string>, total: number, seen: Map<string, number>) => {
    const key = JSON.stringify(labels);
    const delta = total - (seen.get(key) ?? 0);
    if (delta > 0) counter.inc(labels, delta);
    seen.set(key, Math.max(total, seen.get(key) ?? 0));
  };
  if (ingest) {
    const seenWritten = new Map<string, number>();
    const seenRetries = new Map<string, number>();
    const seenDropped = new Map<string, number>();
    const seenAlarms = new Map<string, number>();
    new Gauge({
      name: 'radscreen_ingest_spool_depth_points',
      help: 'Points in the ingest spool, not yet in InfluxDB',
      registers: [registry],
      collect() {
        this.set(ingest().writer.buffered);
      },
    });
    new Gauge({
      name: 'radscreen_ingest_spool_oldest_age_seconds',
      help: 'Age of the oldest point in the ingest spool',
      registers: [registry],
      collect() {
        this.set(ingest().writer.oldestAgeMs / 1000);
      },
    });
    new Counter({
      name: 'radscreen_ingest_points_written_total',
      help: 'Points InfluxDB accepted',
      registers: [registry],
      collect() {
        mirror(this, {}, ingest().writer.written, seenWritten);
      },
    });
    new Counter({
      name: 'radscreen_ingest_write_retries_total',
      help: 'Write attempts that failed and were retried (429, 5xx, network, 401/403)',
      registers: [registry],
      collect() {
        mirror(this, {}, ingest().writer.retries, seenRetries);
      },
    });
    new Counter({
      name: 'radscreen_ingest_points_dropped_total',
      help: 'Points dropped, by reason (bad data dead-lettered, spool full, expired)',
      labelNames: ['reason'],
      registers: [registry],
      collect() {
        for (const [reason, n] of Object.entries(ingest().writer.dropped)) mirror(this, { reason }, n, seenDropped);
      },
    });
    new Counter({
      name: 'radscreen_ingest_service_alarms_total',
      help: 'Service alarms raised by ingest, by kind',
      labelNames: ['kind'],
      registers: [registry],
      collect() {
        for (const [kind, n] of Object.entries(ingest().alarms)) mirror(this, { kind }, n ?? 0, seenAlarms);
      },
    });
    const seenRefused = new Map<string, number>();
    new Counter({
      name: 'radscreen_ingest_refused_readings_total',
      help: 'Readings (or whole payloads) ingest refused before its spool and dead-lettered, by code (docs/data-integrity.md)',
      labelNames: ['code'],
      registers: [registry],
      collect() {
        for (const [code, n] of Object.entries(ingest().refused ?? {})) mirror(this, { code }, n ?? 0, seenRefused);
      },
    });
  }
  const devices = sources.devices;
  if (devices) {
    new Gauge({
      name: 'radscreen_agent_outbox_depth_readings',
      help: 'Readings in the agent outbox, not yet acknowledged by the broker',
      labelNames: ['device'],
      registers: [registry],
      collect() {
        for (const d of devices()) this.set({ device: d.device }, d.queued);
      },
    });
  }
  return registry;
}
