import { EventEmitter } from 'node:events';
import type { AlarmEngine } from '../alarms/engine.ts';
import type { Alarm, AlarmTransition } from '../alarms/types.ts';
import type { CalibrationRecord } from '../calibration/schemas.ts';
import type { Config } from '../config/schema.ts';
import type { DeviceState, StatusMessage } from '../core/contract.ts';
import type { DeviceProfile } from '../core/profile.ts';
import type { DeviceKind, Reading } from '../core/reading.ts';
import { isTrainingDevice } from '../core/training-id.ts';

/** Used for devices whose profile is not in the catalogue (another station's newer agent). */
const FALLBACK_STALE_AFTER_MS = 30_000;

/**
 * What the console and the API show for one device. `status` is the effective state:
 * the agent's reported state, except that a device that stopped sending readings for
 * longer than `stale_after_ms` (server receive time) is `stale`.
 */
export interface DeviceView {
  id: string;
  profile: string;
  name: string;
  kind: DeviceKind | null;
  /** How the console draws the tile: the profile's `tile` (default `dose`). */
  tile: 'dose' | 'scanner';
  status: DeviceState;
  /** What the agent last said in its retained status message; null when it never did. */
  reported_status: DeviceState | null;
  /** Port path, baud, reconnect attempt, last error… from the status message. */
  status_detail: Record<string, unknown>;
  /** The status message's own timestamp (ms). */
  status_ts: number | null;
  last_reading: Reading | null;
  /** Server clock (ms) when the last reading arrived. */
  last_reading_at: number | null;
  stale_after_ms: number;
  /** Display step per channel key, as the profile declares it (ChannelSpec.resolution). */
  resolution: Record<string, number>;
  /**
   * Calibration expiry (YYYY-MM-DD): the due date of the calibration in force, else the
   * config's `devices[].calibration_due`; null when neither exists.
   */
  calibration_due: string | null;
  /** The calibration record in force (the newest recorded); null when none was recorded. */
  calibration: CalibrationRecord | null;
}

/** Events of LiveState; listeners must not throw. */
export interface LiveStateEvents {
  reading: [Reading];
  /** A device's effective or reported status changed; carries the whole view. */
  status: [DeviceView];
  alarm: [AlarmTransition];
  /** A device was forgotten (a training run's device once the run ended); carries its id. */
  removed: [string];
}

interface DeviceEntry {
  view: DeviceView;
  /** Server clock when the status message arrived (its own ts may come from another clock). */
  statusAt: number | null;
}

export interface LiveStateOptions {
  config: Pick<Config, 'station' | 'devices'>;
  catalogue: ReadonlyMap<string, DeviceProfile>;
  engine: AlarmEngine;
  /** ms since the epoch; fake in tests. */
  now: () => number;
}

/**
 * The server's in-memory picture of the station: per-device status and last reading, plus
 * the engine's alarms. It only records and emits; it never reads the network or a clock of
 * its own, so `checkStale()` must be called periodically by whoever owns the timers.
 */
export class LiveState extends EventEmitter<LiveStateEvents> {
  readonly station: { id: string; name: string };
  readonly #entries = new Map<string, DeviceEntry>();
  readonly #forgotten = new Set<string>();
  readonly #opts: LiveStateOptions;
  readonly #unsubscribe: () => void;

  constructor(opts: LiveStateOptions) {
    super();
    // One listener set per SSE client: many consoles may watch one station.
    this.setMaxListeners(1000);
    this.#opts = opts;
    this.station = { id: opts.config.station.id, name: opts.config.station.name };
    for (const d of opts.config.devices) this.#ensure(d.id, d.profile, d.name).view.calibration_due = d.calibration_due ?? null;
    // The live state is one subscriber of the engine's transition bus: every transition reaches SSE.
    this.#unsubscribe = opts.engine.transitions.subscribe('live-state', (t) => this.emit('alarm', t));
  }

  /** Stops following the engine's transitions (a state dropped before its engine). */
  detach(): void {
    this.#unsubscribe();
  }

  /** Records a validated reading, emits `reading`, and `status` when that made it fresh again. */
  addReading(reading: Reading): void {
    this.#forgotten.delete(reading.device);
    const entry = this.#ensure(reading.device, reading.profile);
    const prev = entry.view.status;
    entry.view.last_reading = reading;
    entry.view.last_reading_at = this.#opts.now();
    entry.view.kind = reading.kind;
    this.emit('reading', reading);
    this.#refresh(entry, prev);
  }

  /** Records a validated status message and emits `status`. */
  applyStatus(msg: StatusMessage): void {
    // A forgotten device's last words (the offline status its agent sends on stopping) must not
    // bring its tile back; it returns with its next reading or a fresh online status.
    const announcesRun = msg.state === 'online' || msg.state === 'connecting';
    if (this.#forgotten.has(msg.device) && !announcesRun) return;
    // Likewise a training device's retained offline status (its run was killed) at server start:
    // training devices enter the picture only while their run's agent says it is running.
    if (isTrainingDevice(msg.device) && !this.#entries.has(msg.device) && !announcesRun) return;
    this.#forgotten.delete(msg.device);
    const entry = this.#ensure(msg.device, msg.profile);
    entry.view.reported_status = msg.state;
    entry.view.status_detail = msg.detail;
    entry.view.status_ts = msg.ts;
    entry.statusAt = this.#opts.now();
    entry.view.status = this.#effectiveStatus(entry);
    this.emit('status', structuredClone(entry.view));
  }

  /**
   * Puts a calibration record in force for its device (the caller passes only the newest) and
   * emits `status`, so consoles show the new due date at once. Ignored for an unknown device.
   */
  applyCalibration(record: CalibrationRecord): void {
    const entry = this.#entries.get(record.device);
    if (!entry) return;
    entry.view.calibration = structuredClone(record);
    entry.view.calibration_due = record.due;
    this.emit('status', structuredClone(entry.view));
  }

  /** Forgets a device (a training run's device after the run); listeners get `removed`. */
  removeDevice(id: string): void {
    this.#forgotten.add(id);
    if (this.#entries.delete(id)) this.emit('removed', id);
  }

  /** Whether the device is in the picture (configured, or a training device of a running run). */
  has(id: string): boolean {
    return this.#entries.has(id);
  }

  /**
   * Training devices whose agent has said nothing (no status, no reading) for longer than
   * `silentMs`: a running agent re-publishes every device's status every 10 s, so their run is
   * gone (killed without deleting its retained status).
   */
  abandonedTrainingDevices(silentMs: number): string[] {
    const now = this.#opts.now();
    return [...this.#entries.values()]
      .filter((e) => isTrainingDevice(e.view.id) && now - Math.max(e.statusAt ?? 0, e.view.last_reading_at ?? 0) > silentMs)
      .map((e) => e.view.id);
  }

  /** Re-evaluates staleness of every device; emits `status` for each that changed and returns their ids. */
  checkStale(): string[] {
    const changed: string[] = [];
    for (const entry of this.#entries.values()) if (this.#refresh(entry, entry.view.status)) changed.push(entry.view.id);
    return changed;
  }

  /** Configured devices first (config order), then devices only seen on the wire; copies. */
  devices(): DeviceView[] {
    return [...this.#entries.values()].map((e) => structuredClone(e.view));
  }

  device(id: string): DeviceView | undefined {
    const e = this.#entries.get(id);
    return e ? structuredClone(e.view) : undefined;
  }

  /** The last reading of every device that has one. */
  latestReadings(): Reading[] {
    return [...this.#entries.values()].flatMap((e) => (e.view.last_reading ? [structuredClone(e.view.last_reading)] : []));
  }

  /** Active alarms first, then recently cleared ones. */
  alarms(opts?: { limit?: number; state?: 'active' | 'cleared' | 'all' }): Alarm[] {
    return this.#opts.engine.list(opts);
  }

  #ensure(id: string, profileId: string, name?: string): DeviceEntry {
    let entry = this.#entries.get(id);
    if (!entry) {
      const profile = this.#opts.catalogue.get(profileId);
      entry = {
        statusAt: null,
        view: {
          id,
          profile: profileId,
          name: name ?? id,
          kind: profile?.kind ?? null,
          tile: profile?.tile ?? 'dose',
          status: 'offline',
          reported_status: null,
          status_detail: {},
          status_ts: null,
          last_reading: null,
          last_reading_at: null,
          stale_after_ms: profile?.staleAfterMs ?? FALLBACK_STALE_AFTER_MS,
          resolution: Object.fromEntries((profile?.channels ?? []).flatMap((c) => (c.resolution ? [[c.key, c.resolution]] : []))),
          calibration_due: null,
          calibration: null,
        },
      };
      this.#entries.set(id, entry);
    }
    return entry;
  }

  /** Recomputes the effective status; emits `status` and returns true when it changed. */
  #refresh(entry: DeviceEntry, prev: DeviceState): boolean {
    const next = this.#effectiveStatus(entry);
    if (next === prev) return false;
    entry.view.status = next;
    this.emit('status', structuredClone(entry.view));
    return true;
  }

  /**
   * The newer of (status message, reading) decides: an agent saying offline/error/connecting
   * after the last reading wins; otherwise the device is online while readings keep coming
   * and stale once they stop. An `online` status with no reading yet also goes stale.
   */
  #effectiveStatus(entry: DeviceEntry): DeviceState {
    const { view, statusAt } = entry;
    const reported = view.reported_status;
    const readingAt = view.last_reading_at;
    const statusIsNewer = statusAt !== null && (readingAt === null || statusAt >= readingAt);
    if (reported && reported !== 'online' && statusIsNewer) return reported;
    const since = readingAt ?? (reported === 'online' ? statusAt : null);
    if (since === null) return reported ?? 'offline';
    return this.#opts.now() - since > view.stale_after_ms ? 'stale' : 'online';
  }
}

/** Creates the live state for one station. */
export function createLiveState(opts: LiveStateOptions): LiveState {
  return new LiveState(opts);
}
