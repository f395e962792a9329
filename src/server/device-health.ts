import type { DeviceStatusBoard } from '../alarms/device-fault-rule.ts';
import type { Config } from '../config/schema.ts';
import type { Source } from '../core/reading.ts';
import { isTrainingDevice } from '../core/training-id.ts';
import type { DeviceView, LiveState } from './live-state.ts';

/**
 * Keeps the device_fault rule's status board in step with the live state: every `status` event
 * (agent report or staleness change) updates it, `removed` (a training run ended) drops it. The
 * source of a device decides which alarm list a fault goes to: its last reading's, else the
 * config's, else training for `training-<id>`, else live.
 */
export function followDeviceStatus(
  state: LiveState,
  board: DeviceStatusBoard,
  opts: { config: Pick<Config, 'station' | 'devices'>; now: () => number },
): void {
  const station = opts.config.station.id;
  const configured = new Map(opts.config.devices.map((d) => [d.id, d.source]));
  const sourceOf = (v: DeviceView): Source =>
    v.last_reading?.source ?? configured.get(v.id) ?? (isTrainingDevice(v.id) ? 'training' : 'live');
  state.on('status', (v) => {
    // Only an agent's report says anything about the port; a device never reported is not judged here.
    if (v.reported_status === null) return;
    board.update(
      {
        station,
        device: v.id,
        profile: v.profile,
        kind: v.kind ?? 'dosimeter',
        source: sourceOf(v),
        state: v.status,
        detail: v.status_detail,
        status_ts: v.status_ts ?? 0,
        stale_after_ms: v.stale_after_ms,
      },
      opts.now(),
    );
  });
  state.on('removed', (id) => board.remove(station, id));
}
