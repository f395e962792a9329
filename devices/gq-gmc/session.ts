import type { DeviceSession, SessionContext } from '../../src/core/profile.ts';
import { createPollSession, type PollRequest, type ReplySpec } from '../../src/sessions/poll-session.ts';
import type { Decoded, DeviceVersion, DoseCurve } from './decode.ts';
import {
  buildDoseCurve,
  decodeCalibration,
  decodeCpm,
  decodeCps,
  decodeDateTime,
  decodeSerial,
  decodeVersion,
  decodeVoltage,
  linearCurve,
} from './decode.ts';
import { startHeartbeat } from './heartbeat.ts';
import { describeModel, type ModelInfo, type Series } from './models.ts';

/**
 * Validated options (see GqGmcOptionsSchema in profile.ts). A type alias, not an interface, so it
 * is assignable to the registry's `Record<string, unknown>` options (interfaces have no index signature).
 */
export type GqGmcOptions = {
  model: 'auto' | Series;
  mode: 'poll' | 'heartbeat';
  poll_interval_s: number;
  request_timeout_ms: number;
  timezone: string;
  sensitivity?: number | undefined;
};

/** Battery and clock change slowly: read them on the first cycle and then every this many. */
export const HOUSEKEEPING_EVERY = 60;

/** GETVER has no fixed length (13–19 bytes seen): it ends after this much silence (ms). */
export const VERSION_IDLE_MS = 100;

/** A reply that missed its timeout may still come: hold the next request back this long (ms). */
export const QUIET_AFTER_TIMEOUT_MS = 100;

/** After `<HEARTBEAT0>>` one more sample may be in flight (§1.5): wait this long before talking (ms). */
export const HEARTBEAT_DRAIN_MS = 1000;

/** Where the CPM → µSv/h conversion came from, for the log. */
export type CalibrationSource = 'device-cfg' | 'config' | 'model-default';

/**
 * One GQ GMC conversation. Identify (GETVER, GETSERIAL, GETCFG), then either poll GETCPM/GETCPS
 * every `poll_interval_s` (plus GETVOLT and GETDATETIME now and then), or switch the unit to its
 * heartbeat stream when `mode: heartbeat` asks for it. Read-only otherwise: no config, clock or
 * setting is ever written. Every failed request is a counted reject; the session goes on.
 */
export function createGqGmcSession(ctx: SessionContext, options: GqGmcOptions): DeviceSession {
  const poll = createPollSession(ctx, { quietAfterTimeoutMs: QUIET_AFTER_TIMEOUT_MS });
  let model: ModelInfo | undefined = options.model === 'auto' ? undefined : describeModel(options.model);
  let curve: DoseCurve = linearCurve(options.sensitivity ?? model?.defaultSensitivity ?? 1);
  let identified = false;
  let busy = false;
  let cycle = 0;
  let stopped = false;
  let started = false;
  let timer: NodeJS.Timeout | undefined;
  let stopHeartbeat: (() => void) | undefined;

  function ask<T>(label: string, reply: ReplySpec, decode: (b: Buffer) => Decoded<T>): Promise<Decoded<T>> {
    const req: PollRequest<T> = { label, command: `<${label}>>`, reply, timeoutMs: options.request_timeout_ms, decode };
    return poll.request(req);
  }

  const bytes = (n: number): ReplySpec => ({ kind: 'length', bytes: n });

  async function identify(): Promise<boolean> {
    const ver = await ask('GETVER', { kind: 'idle', idleMs: VERSION_IDLE_MS, maxBytes: 32 }, decodeVersion);
    const version: DeviceVersion | undefined = ver.ok ? ver.value : undefined;
    if (version && options.model === 'auto') model = describeModel(version.series, version.model);
    else if (version && options.model !== 'auto') {
      if (version.series !== options.model)
        ctx.log.warn({ configured: options.model, reported: version.model }, 'GETVER names another series; keeping the configured one');
      model = describeModel(options.model, version.series === options.model ? version.model : undefined);
    }
    const m = model;
    if (!m || stopped) return false;
    const serial = await ask('GETSERIAL', bytes(7), decodeSerial);
    const cfg = await ask('GETCFG', bytes(m.cfgBytes), (b) => decodeCalibration(b, m));
    const deviceCurve = cfg.ok ? buildDoseCurve(cfg.value) : undefined;
    let source: CalibrationSource;
    if (deviceCurve) [curve, source] = [deviceCurve, 'device-cfg'];
    else if (options.sensitivity !== undefined) [curve, source] = [linearCurve(options.sensitivity), 'config'];
    else [curve, source] = [linearCurve(m.defaultSensitivity), 'model-default'];
    ctx.log.info(
      {
        model: version?.model ?? `series ${m.series}`,
        firmware: version?.firmware,
        serial: serial.ok ? serial.value : undefined,
        sensitivity_cpm_per_usvh: curve.sensitivity,
        calibration: source,
      },
      'GQ GMC identified',
    );
    identified = true;
    return true;
  }

  /** One poll: counts every time, battery and device clock every HOUSEKEEPING_EVERY cycles. */
  async function pollOnce(): Promise<void> {
    if (busy || stopped) return;
    busy = true;
    try {
      if (!identified && !(await identify())) return;
      const m = model as ModelInfo;
      const values: Record<string, number> = {};
      const cpm = await ask('GETCPM', bytes(m.countBytes), (b) => decodeCpm(b, m));
      if (cpm.ok) {
        values.cpm = cpm.value;
        values.dose_rate = curve.toDoseRate(cpm.value);
      }
      const cps = await ask('GETCPS', bytes(m.countBytes), (b) => decodeCps(b, m));
      if (cps.ok) values.cps = cps.value;
      if (cycle % HOUSEKEEPING_EVERY === 0) Object.assign(values, await readHousekeeping(m));
      cycle += 1;
      if (!stopped && Object.keys(values).length > 0) ctx.emit({ ts: ctx.now(), ts_source: 'agent', values, quality: 'good' });
    } finally {
      busy = false;
    }
  }

  async function readHousekeeping(m: ModelInfo): Promise<Record<string, number>> {
    const values: Record<string, number> = {};
    if (m.voltage !== 'none') {
      const volt = await ask('GETVOLT', bytes(m.voltage === 'byte' ? 1 : 5), (b) => decodeVoltage(b, m));
      if (volt.ok) values.battery_voltage = volt.value;
    }
    const clock = await ask('GETDATETIME', bytes(7), (b) => decodeDateTime(b, options.timezone));
    if (clock.ok) values.clock_offset = (clock.value.ts - ctx.now()) / 1000;
    return values;
  }

  async function runHeartbeat(): Promise<void> {
    // A unit left streaming by an earlier session would garble GETVER: stop it and drain first.
    await ask('HEARTBEAT0', { kind: 'none' }, () => ({ ok: true, value: undefined }));
    await new Promise((resolve) => {
      timer = setTimeout(resolve, HEARTBEAT_DRAIN_MS);
    });
    while (!stopped && !identified) {
      if (await identify()) break;
      await new Promise((resolve) => {
        timer = setTimeout(resolve, options.poll_interval_s * 1000);
      });
    }
    if (stopped || !model) return;
    const m = model;
    const housekeeping = await readHousekeeping(m);
    if (Object.keys(housekeeping).length > 0) ctx.emit({ ts: ctx.now(), ts_source: 'agent', values: housekeeping, quality: 'good' });
    if (stopped) return;
    stopHeartbeat = startHeartbeat(ctx, poll, {
      model: m,
      toDoseRate: (c) => curve.toDoseRate(c),
      timeoutMs: options.request_timeout_ms,
      drainMs: HEARTBEAT_DRAIN_MS,
    });
  }

  return {
    push(chunk) {
      poll.push(chunk);
    },
    start() {
      if (stopped || started) return;
      started = true;
      const fail = (err: unknown) => ctx.log.warn({ err: String(err) }, 'GQ GMC session error');
      if (options.mode === 'heartbeat') {
        runHeartbeat().catch(fail);
        return;
      }
      pollOnce().catch(fail);
      timer = setInterval(() => pollOnce().catch(fail), options.poll_interval_s * 1000);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      if (timer) {
        clearInterval(timer);
        clearTimeout(timer);
      }
      stopHeartbeat?.();
      poll.stop();
    },
  };
}
