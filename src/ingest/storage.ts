import type { ErrorCode } from '../core/errors.ts';
import type { Reading } from '../core/reading.ts';
import type { DurableReceipts } from '../core/receipts.ts';
import type { IngestLogger } from './logger.ts';
import { confirmReadings } from './mqtt-session.ts';
import { IMPORT_POLICY, RAW_POLICY } from './schema.ts';
import { openSpool, type Spool, type SpoolStats } from './spool.ts';

/**
 * Where the ingest keeps admitted readings until InfluxDB has them: one spool per retention
 * policy (docs/data-integrity.md "Retention policies"). Live, simulated and training readings go
 * to `raw`; replayed history (`source: replay`, e.g. `radscreen import` over MQTT) goes to
 * `import`, whose retention the station never sets, so the station's `raw` duration can never
 * purge imported history and an import can never change `raw`.
 */

/** InfluxDB settings, as in the config's `influx` section. Durations in ms; retention like `30d`. */
export interface IngestInfluxOptions {
  url: string;
  database: string;
  username?: string;
  password?: string;
  retention: string;
  /** How long the 1-minute rollups are kept (default `52w`). */
  rollup_retention?: string;
  /** Duration of the `import` policy when ingest has to create it (default `INF`); never altered once it exists. */
  import_retention?: string;
  batch_size: number;
  flush_interval_ms: number;
  /** Spool file; unset: in memory (not durable: say so in the log). The `import` spool sits beside it (`-import.sqlite`). */
  spool_path?: string;
  /** Spool bounds (defaults 5 000 000 points, 168 h) and backlog drain rate (default 50 000 points/s). */
  spool_max_rows?: number;
  spool_max_age_h?: number;
  backlog_rate_per_s?: number;
}

/** One admitted message, its lines split by target policy, in the readings' order. */
export interface PreparedMessage {
  topic: string;
  lines: string[];
  readings: Reading[];
  importLines: string[];
  importReadings: Reading[];
}

/** What the storage reports upward; the consumer publishes these. Must not throw. */
export interface StorageEvents {
  deadLetter(code: ErrorCode, reason: string, topic: string, payload: Buffer): void;
  alarm(kind: 'spool_high_water' | 'spool_drop' | 'influx_fault', active: boolean, code: ErrorCode, message: string): void;
}

export interface IngestStorage {
  /** Commits the messages' lines (one transaction per policy); what a full spool refuses is dead-lettered. @throws when closed. */
  store(group: readonly PreparedMessage[]): void;
  /** Flushes up to 10 s each; returns the points left on disk per policy. */
  close(timeoutMs?: number): Promise<{ raw: number; import: number }>;
  stats(): { raw: SpoolStats; import: SpoolStats };
}

/** `<spool>.sqlite` → `<spool>-import.sqlite`. */
export function importSpoolPath(spoolPath: string): string {
  return spoolPath.replace(/(\.sqlite)?$/, '-import.sqlite');
}

export function openIngestStorage(
  influx: IngestInfluxOptions,
  log: IngestLogger,
  events: StorageEvents,
  receipts?: DurableReceipts,
): IngestStorage {
  if (!influx.spool_path) log.warn({}, 'ingest spool is in memory: set influx.spool_path so a crash loses nothing');
  const open = (path: string, retentionPolicy: string): Spool =>
    openSpool({
      path,
      url: influx.url,
      database: influx.database,
      retentionPolicy,
      ...(influx.username !== undefined ? { username: influx.username } : {}),
      ...(influx.password !== undefined ? { password: influx.password } : {}),
      batchSize: influx.batch_size,
      flushIntervalMs: influx.flush_interval_ms,
      maxRows: influx.spool_max_rows ?? 5_000_000,
      maxAgeMs: (influx.spool_max_age_h ?? 168) * 3_600_000,
      backlogRatePerSec: influx.backlog_rate_per_s ?? 50_000,
      onDrop: (lines, info) => {
        log.warn(
          { code: info.code, reason: info.reason, points: lines.length, err: info.message, rp: retentionPolicy },
          'influxdb refused points',
        );
        events.deadLetter(
          info.code,
          `${info.reason}: ${info.message}`,
          `influx:${influx.database}.${retentionPolicy}`,
          Buffer.from(lines.join('\n')),
        );
      },
      onFault: (fault) =>
        fault
          ? events.alarm('influx_fault', true, fault.code, `influxdb service fault, points kept: ${fault.message}`)
          : events.alarm('influx_fault', false, 'RS_ERR_INFLUX_AUTH', 'influxdb service fault cleared'),
      onHighWater: (high, depth, maxRows) =>
        events.alarm(
          'spool_high_water',
          high,
          'RS_ERR_QUEUE_FULL',
          `ingest ${retentionPolicy} spool ${high ? 'above' : 'back below'} 80 %: ${depth}/${maxRows} points`,
        ),
      onCheckpointError: (message) =>
        log.warn({ spool: path, err: message }, 'spool checkpoint failed; SQLite checkpoints by size instead'),
      onSpoolDrop: (reason, count) =>
        events.alarm('spool_drop', true, 'RS_ERR_QUEUE_FULL', `ingest ${retentionPolicy} spool dropped ${count} points (${reason})`),
    });
  const raw = open(influx.spool_path ?? ':memory:', RAW_POLICY);
  const imported = open(influx.spool_path ? importSpoolPath(influx.spool_path) : ':memory:', IMPORT_POLICY);

  /** Appends the parts' lines in one transaction; confirms what was kept, dead-letters what was not. */
  function append(spool: Spool, parts: readonly { lines: string[]; readings: Reading[]; topic: string }[]): void {
    const all = parts.length === 1 ? (parts[0]?.lines ?? []) : parts.flatMap((g) => g.lines);
    if (all.length === 0) return;
    let kept = spool.append(all);
    for (const g of parts) {
      const k = Math.min(kept, g.lines.length);
      kept -= k;
      if (receipts && k > 0) confirmReadings(receipts, g.readings, k);
      // A full spool keeps nothing silently: what it refused goes to the dead-letter topic, counted.
      if (k < g.lines.length)
        events.deadLetter(
          'RS_ERR_QUEUE_FULL',
          `ingest spool full: ${g.lines.length - k} points refused`,
          g.topic,
          Buffer.from(g.lines.slice(k).join('\n')),
        );
    }
  }

  return {
    store(group) {
      append(raw, group);
      if (group.some((g) => g.importLines.length > 0))
        append(
          imported,
          group.map((g) => ({ lines: g.importLines, readings: g.importReadings, topic: g.topic })),
        );
    },
    async close(timeoutMs) {
      const [r, i] = await Promise.all([raw.close(timeoutMs), imported.close(timeoutMs)]);
      return { raw: r, import: i };
    },
    stats: () => ({ raw: raw.stats(), import: imported.stats() }),
  };
}
