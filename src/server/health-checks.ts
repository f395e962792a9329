import { isTrainingDevice } from '../core/training-id.ts';
import type { IngestStats } from '../ingest/consumer.ts';
import type { DeviceView } from './live-state.ts';
import type { StorageState } from './schemas.ts';

/**
 * The rules behind `/healthz` (docs/health-and-training-isolation.md): the station is `degraded`
 * (HTTP 503) when readings are not being stored, a queue is above its bound, or no device is
 * online; `ok` (200) only when none of that holds. Pure functions over what the process already
 * knows, so a poll costs no I/O.
 */

/** Why the station is degraded; `code` is stable for monitoring, `message` is for a person. */
export interface HealthReason {
  code: 'storage_off' | 'storage_not_writing' | 'ingest_disconnected' | 'spool_above_bound' | 'outbox_above_bound' | 'no_device_online';
  message: string;
  /** The device concerned (outbox reasons). */
  device?: string;
}

/** A writer error younger than this with points waiting means InfluxDB is not taking writes. */
const RECENT_WRITE_ERROR_MS = 30_000;

/** Reasons from the station's own ingest (spool and writer); none when all is well. */
export function ingestHealth(stats: IngestStats, now: number): HealthReason[] {
  const out: HealthReason[] = [];
  const w = stats.writer;
  if (w.fault) out.push({ code: 'storage_not_writing', message: `InfluxDB refuses writes: ${w.fault.message} (${w.fault.code})` });
  else if (w.lastError && now - w.lastError.at < RECENT_WRITE_ERROR_MS && w.buffered > 0)
    out.push({
      code: 'storage_not_writing',
      message: `InfluxDB unreachable: ${w.lastError.message} (${w.buffered} points waiting in the spool)`,
    });
  if (w.highWater)
    out.push({
      code: 'spool_above_bound',
      message: `ingest spool above its high-water mark: ${w.buffered} points, oldest ${Math.round(w.oldestAgeMs / 1000)} s`,
    });
  if (!stats.connected) out.push({ code: 'ingest_disconnected', message: 'ingest is not connected to the broker' });
  return out;
}

/** Reasons from the device picture: agents' outboxes above their bound, no station device online. */
export function deviceHealth(devices: readonly DeviceView[]): HealthReason[] {
  const out: HealthReason[] = [];
  const station = devices.filter((d) => !isTrainingDevice(d.id));
  for (const d of station) {
    const outbox = d.status_detail.outbox as { alarm?: unknown; depth?: unknown } | undefined;
    if (outbox?.alarm === true)
      out.push({
        code: 'outbox_above_bound',
        device: d.id,
        message: `agent outbox of ${d.id} above its bound (${String(outbox.depth)} readings)`,
      });
  }
  if (!station.some((d) => d.status === 'online'))
    out.push({
      code: 'no_device_online',
      message: station.length ? `none of ${station.length} devices is online` : 'no device configured or seen',
    });
  return out;
}

/** The whole verdict: storage first, then the data path, then devices. */
export function assessHealth(input: { storage: StorageState; devices: readonly DeviceView[]; extra: readonly HealthReason[] }): {
  status: 'ok' | 'degraded';
  reasons: HealthReason[];
} {
  const reasons: HealthReason[] = [];
  if (!input.storage.enabled) reasons.push({ code: 'storage_off', message: `readings are not being stored: ${input.storage.detail}` });
  reasons.push(...input.extra, ...deviceHealth(input.devices));
  return { status: reasons.length ? 'degraded' : 'ok', reasons };
}
