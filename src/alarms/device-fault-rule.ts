import type { DeviceState } from '../core/contract.ts';
import type { DeviceKind, Source } from '../core/reading.ts';
import type { DeviceRecord } from './engine-state.ts';
import type { AlarmRule, RuleDecision } from './rule.ts';
import type { AlarmEvidence } from './types.ts';

/**
 * `device_fault`: a device whose agent says it cannot read it. Raised when the device's effective
 * status has been `error` for `error_delay_s`, or `offline`/`connecting`/`error` for longer than
 * its staleness window, without being online in between; carries the agent's `detail.code` and
 * `detail.reason` (falling back to `detail.error`/`detail.message`). Cleared by an `online` status
 * or a reading. Class `equipment`, severity `medium`: the station is blind on that device, but
 * nothing radiological happened. Rules and thresholds: docs/health-and-training-isolation.md.
 */

/** What the rule needs to know of one device's status (from the server's live state). */
export interface DeviceStatusEntry {
  station: string;
  device: string;
  profile: string;
  kind: DeviceKind;
  source: Source;
  /** Effective status as the console shows it (agent's report, or `stale` once readings stop). */
  state: DeviceState;
  detail: Record<string, unknown>;
  /** Status message timestamp (agent clock), ms. */
  status_ts: number;
  /** Server clock when the device last left `online`/`stale` (or was first seen not online), ms. */
  fault_since: number | null;
  /** Staleness window of the profile, ms. */
  stale_after_ms: number;
}

/** Seconds of continuous `error` before the alarm: rides out a USB replug's brief error. */
export const DEVICE_FAULT_ERROR_DELAY_S = 5;

const HEALTHY: ReadonlySet<DeviceState> = new Set(['online', 'stale']);

/** Latest status per device, fed by the server (live state `status`/`removed` events). */
export class DeviceStatusBoard {
  readonly #entries = new Map<string, DeviceStatusEntry>();

  /** Records a status; `fault_since` starts when the device leaves a healthy state and resets on return. */
  update(s: Omit<DeviceStatusEntry, 'fault_since'>, now: number): void {
    const key = `${s.station}:${s.device}`;
    const prev = this.#entries.get(key);
    const healthy = HEALTHY.has(s.state);
    const since = healthy ? null : prev && prev.fault_since !== null ? prev.fault_since : now;
    this.#entries.set(key, { ...s, fault_since: since });
  }

  remove(station: string, device: string): void {
    this.#entries.delete(`${station}:${device}`);
  }

  get(station: string, device: string): DeviceStatusEntry | undefined {
    return this.#entries.get(`${station}:${device}`);
  }

  /** Every device with a status, as the engine's tick wants them (they may never have sent a reading). */
  devices(): DeviceRecord[] {
    return [...this.#entries.values()].map((e) => ({
      station: e.station,
      device: e.device,
      profile: e.profile,
      kind: e.kind,
      source: e.source,
      last_at: e.fault_since as number,
      last_ts: e.status_ts,
      values: {},
    }));
  }
}

const text = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);

/** The agent's code and reason for a status, with fallbacks for agents that send neither. */
export function faultReason(e: Pick<DeviceStatusEntry, 'state' | 'detail'>): { code: string; reason: string } {
  const d = e.detail;
  return {
    code: text(d.code) ?? 'unknown',
    reason: text(d.reason) ?? text(d.error) ?? text(d.message) ?? `the agent reports the device ${e.state} without a reason`,
  };
}

export function createDeviceFaultRule(board: DeviceStatusBoard, errorDelayS = DEVICE_FAULT_ERROR_DELAY_S): AlarmRule {
  return {
    id: 'device_fault',
    watch: () => board.devices(),
    class: 'equipment',
    evaluate(r, active): RuleDecision {
      if (!active) return { action: 'none' };
      return {
        action: 'clear',
        evidence: { ...active.evidence, value: 0, reading_ts: r.ts, quality: r.quality },
        message: `${r.device} is delivering readings again`,
      };
    },
    tick(dev, active, ctx): RuleDecision {
      const e = board.get(dev.station, dev.device);
      if (!e) return { action: 'none' };
      if (e.fault_since === null) {
        if (!active) return { action: 'none' };
        return { action: 'clear', evidence: { ...active.evidence, value: 0 }, message: `${dev.device} is online again` };
      }
      const faultS = (ctx.now - e.fault_since) / 1000;
      const limitS = e.state === 'error' ? errorDelayS : e.stale_after_ms / 1000;
      const { code, reason } = faultReason(e);
      const evidence: AlarmEvidence = {
        channel: 'device_status',
        value: faultS,
        unit: 's',
        threshold: limitS,
        deadband: 0,
        reading_ts: Math.max(0, Math.trunc(e.status_ts)),
        quality: e.state,
        params: { state: e.state, code, reason, error_delay_s: errorDelayS, stale_after_ms: e.stale_after_ms },
      };
      if (active) return { action: 'hold', evidence };
      if (faultS < limitS) return { action: 'none' };
      return { action: 'raise', severity: 'medium', evidence, message: `${dev.device} ${e.state}: ${reason} (${code})` };
    },
  };
}
