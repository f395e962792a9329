import { join } from 'node:path';
import mqtt, { type IClientOptions } from 'mqtt';
import type { Logger } from 'pino';
import { z } from 'zod';
import { type DeviceState, type StatusMessage, topics } from '../core/contract.ts';
import type { ErrorCode } from '../core/errors.ts';
import { normaliseReading } from '../core/normalise.ts';
import type { DeviceProfile, DeviceSession, SessionContext } from '../core/profile.ts';
import type { DecodedReading, Source } from '../core/reading.ts';
import type { DurableReceipts } from '../core/receipts.ts';
import { everyInterval } from '../core/shared-interval.ts';
import { checkTimestamp, DEFAULT_TIMESTAMP_WINDOW, type TimestampWindow } from '../core/time-window.ts';
import { MAX_SPECTRUM_PAYLOAD_BYTES, spectrumMessage } from '../spectra/contract.ts';
import { SpectrumSchema } from '../spectra/spectrum.ts';
import type { DeviceLink, LinkState } from '../transports/link.ts';
import { type CalibrationKeySource, followCalibration } from './calibration.ts';
import { createDeadLetters } from './deadletter.ts';
import { statusDetail } from './device-status.ts';
import { type AgentOutboxFile, openAgentOutbox } from './outbox-file.ts';
import { createPublisher } from './publisher.ts';
import { digestOf } from './source-mark.ts';

export interface DeviceRunnerOptions {
  station: string;
  device: string;
  profile: DeviceProfile;
  source: Source;
  /** Profile options, already validated by the profile's optionsSchema. */
  options: Record<string, unknown>;
  link: DeviceLink;
  mqttUrl: string;
  mqttOptions?: IClientOptions;
  /** Station mode: keep readings in the outbox until ingest confirms them durable (publisher.ts). */
  receipts?: DurableReceipts;
  coalesceMs?: number;
  maxInflight?: number;
  /** The agent's outbox file, shared by its devices (outbox-file.ts); without it the runner opens its own. */
  outboxFile?: AgentOutboxFile;
  /**
   * The agent's data directory: the device's calibration cache, and the outbox of a runner without
   * `outboxFile` (`<dataDir>/outbox.sqlite`). Without it, both in memory (not durable).
   */
  dataDir?: string;
  /** Outbox bounds and backlog drain rate (defaults: 1 000 000 rows, 7 days, 5000 readings/s). */
  outbox?: { maxRows?: number; maxAgeMs?: number; backlogRatePerSec?: number };
  /** Device timestamps outside this window around `now()` are rejected (default: core's 5 min / 30 d). */
  timeWindow?: TimestampWindow;
  log: Logger;
  now?: () => number;
  /** The server's calibration signing key; without it every calibration is refused (src/agent/calibration.ts). */
  calibrationKey?: CalibrationKeySource;
}

export interface DeviceStats {
  device: string;
  state: DeviceState;
  accepted: number;
  rejected: Partial<Record<ErrorCode, number>>;
  /** Rejects published on the dead-letter topic, and those held back by its rate limit. */
  deadLetters: { sent: number; suppressed: number };
  published: number;
  queued: number;
}

const STATE_FOR_LINK: Record<LinkState, DeviceState> = { connecting: 'connecting', online: 'online', error: 'error', offline: 'offline' };

/**
 * Runs one device: link → session (framer + decoder) → normalise/validate → MQTT.
 * Each device has its own MQTT connection so that its last will can mark exactly that
 * device offline on its retained status topic when the agent dies.
 */
export function runDevice(opts: DeviceRunnerOptions) {
  const now = opts.now ?? Date.now;
  const log = opts.log.child({ device: opts.device });
  const statusTopic = topics.status(opts.station, opts.device);
  const spectrumTopic = topics.spectrum(opts.station, opts.device);
  const status = (state: DeviceState, detail: Record<string, unknown>): StatusMessage => ({
    v: 1,
    station: opts.station,
    device: opts.device,
    profile: opts.profile.id,
    state,
    ts: now(),
    detail,
  });
  const client = mqtt.connect(opts.mqttUrl, {
    protocolVersion: 4,
    clientId: `radscreen-agent-${opts.station}-${opts.device}-${process.pid}`,
    reconnectPeriod: 1000,
    will: {
      topic: statusTopic,
      payload: Buffer.from(
        JSON.stringify(
          status('offline', { code: 'RS_ERR_AGENT_DOWN', reason: 'the agent lost its broker connection (process ended or network down)' }),
        ),
      ),
      qos: 1,
      retain: true,
    },
    ...opts.mqttOptions,
  });
  client.on('error', (err) => log.warn({ err: err.message }, 'mqtt error'));
  let outboxAlarm = false;
  const outboxFile = opts.outboxFile ?? openAgentOutbox(opts.dataDir, log);
  const outbox = outboxFile.queue(opts.device, {
    maxRows: opts.outbox?.maxRows ?? 1_000_000,
    maxAgeMs: opts.outbox?.maxAgeMs ?? 7 * 86_400_000,
    // No checkpoint worker here (SQLite checkpoints every 1,000 pages): the worker thread costs
    // ~13 MiB of RSS, a tenth of the agent's budget on a small edge computer, and the shared
    // file's occasional 30 ms checkpoint stall is absorbed by each serial port's kernel buffer
    // (docs/data-integrity.md "Checkpoints").
    // Never silent: a filling outbox is a service alarm on the device status and in the log.
    onHighWater: (high, depth, maxRows) => {
      if (high) log.error({ code: 'RS_ERR_QUEUE_FULL', depth, maxRows }, 'outbox above 80 % full: broker unreachable?');
      else log.info({ depth, maxRows }, 'outbox back below its high-water mark');
      outboxAlarm = high;
      publishStatus();
    },
    onDrop: (reason, count) => log.error({ code: 'RS_ERR_QUEUE_FULL', reason, count }, 'outbox dropped readings'),
  });
  // Periodic per-device jobs run on shared timers: one wake-up per period for all devices (shared-interval.ts).
  const stopExpiry = everyInterval(10_000, () => outbox.expire());
  const publisher = createPublisher({
    client,
    topic: topics.readings(opts.station, opts.device),
    outbox,
    commits: outboxFile.commits,
    coalesceMs: opts.coalesceMs ?? 50,
    maxInflight: opts.maxInflight ?? 1000,
    ...(opts.outbox?.backlogRatePerSec !== undefined ? { backlogRatePerSec: opts.outbox.backlogRatePerSec } : {}),
    onPublishError: (err, count) => log.warn({ err: err.message, count }, 'publish failed; outbox will replay'),
    ...(opts.receipts ? { receipts: { hub: opts.receipts, station: opts.station, device: opts.device } } : {}),
  });
  let state: DeviceState = 'connecting';
  let detail: Record<string, unknown> = {};
  let accepted = 0;
  const rejected: Partial<Record<ErrorCode, number>> = {};
  let session: DeviceSession | undefined;
  // The server's retained calibration, applied in normalise; the agent never writes it to the device.
  const calibration = followCalibration({
    client,
    station: opts.station,
    device: opts.device,
    profile: opts.profile,
    options: opts.options,
    key: opts.calibrationKey,
    log,
    onInvalid: (code, reason, payload) => countReject(code, reason, payload),
    ...(opts.dataDir ? { cachePath: join(opts.dataDir, 'calibration', `${opts.device}.json`) } : {}),
  });

  function countReject(code: ErrorCode, message: string, raw?: Buffer): void {
    rejected[code] = (rejected[code] ?? 0) + 1;
    log.debug({ code, reason: message, hex: raw?.toString('hex') }, 'reject');
  }

  const deadLetters = createDeadLetters({ client, topic: topics.readings(opts.station, opts.device) });
  /** A payload or reading refused after decode: counted per code and dead-lettered (docs/agent.md). */
  function refuse(code: ErrorCode, message: string, payload: Buffer): void {
    countReject(code, message, payload);
    deadLetters.send(code, message, payload);
  }
  // Spectra are refused under their own topic, so a dead letter says which stream it came from.
  const spectrumDeadLetters = createDeadLetters({ client, topic: spectrumTopic });
  function refuseSpectrum(code: ErrorCode, message: string, payload: Buffer): void {
    countReject(code, message, payload);
    spectrumDeadLetters.send(code, message, payload);
  }
  const asPayload = (decoded: DecodedReading) => Buffer.from(JSON.stringify({ station: opts.station, device: opts.device, ...decoded }));
  const window = opts.timeWindow ?? DEFAULT_TIMESTAMP_WINDOW;
  // Replayed history has no past bound (the same rule as ingest, docs/data-integrity.md).
  const timeWindow = opts.source === 'replay' ? { ...window, pastMs: Number.POSITIVE_INFINITY } : window;

  function publishStatus(): void {
    const o = outbox.stats();
    const message = status(state, {
      ...detail,
      link: opts.link.description,
      accepted,
      rejected,
      // Depth as the publisher counts it: rows acknowledged but not yet deleted are not waiting.
      outbox: { depth: publisher.stats().queued, oldest_age_ms: o.oldestAgeMs, dropped: o.dropped, alarm: outboxAlarm },
    });
    client.publish(statusTopic, JSON.stringify(message), { qos: 1, retain: true }, () => {});
  }

  const ctx: SessionContext = {
    now,
    write: (bytes) => opts.link.write(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes, 'latin1')),
    emit(decoded) {
      const cal = calibration();
      const result = normaliseReading(decoded, {
        station: opts.station,
        device: opts.device,
        source: opts.source,
        profile: opts.profile,
        ...(cal ? { calibration: cal } : {}),
      });
      if ('reject' in result) return refuse(result.reject.code, result.reject.message, asPayload(decoded));
      // Device time is data, not authority: outside the window it is refused, never stored.
      const late = checkTimestamp(result.reading.ts, now(), timeWindow);
      if (late) return refuse(late.code, late.message, asPayload(decoded));
      if (!publisher.publish(result.reading)) return countReject('RS_ERR_QUEUE_FULL', 'publish queue full');
      accepted += 1;
    },
    // A device that did not answer sent nothing to dead-letter: counted only (docs/agent.md).
    reject: (r) =>
      r.code === 'RS_ERR_DEVICE_TIMEOUT' ? countReject(r.code, r.message) : refuse(r.code, r.message, r.raw ?? Buffer.alloc(0)),
    options: opts.options,
    log,
    spectrum(measured) {
      // The canonical spectrum, checked here as the server checks it again (src/spectra/contract.ts).
      const candidate = { ...measured, device: opts.device, measurement_class: 'Foreground' as const };
      const checked = SpectrumSchema.safeParse(candidate);
      if (!checked.success)
        return refuseSpectrum(
          'RS_ERR_SPECTRUM_INVALID',
          `spectrum: ${z.prettifyError(checked.error)}`,
          Buffer.from(JSON.stringify(candidate)),
        );
      const payload = Buffer.from(JSON.stringify(spectrumMessage(opts.station, opts.device, checked.data)));
      if (payload.length > MAX_SPECTRUM_PAYLOAD_BYTES)
        return refuseSpectrum(
          'RS_ERR_PAYLOAD_TOO_LARGE',
          `spectrum of ${payload.length} bytes exceeds ${MAX_SPECTRUM_PAYLOAD_BYTES}`,
          payload.subarray(0, 256),
        );
      // Not through the outbox: a RadiaCode spectrum is a running total, so the next one carries
      // everything a lost one had; queueing 4 KiB a second through an outage would buy nothing.
      client.publish(spectrumTopic, payload, { qos: 1 }, (err) => {
        if (err) log.warn({ err: err.message }, 'spectrum not published');
      });
    },
  };

  // Counts change every second; a retained status every 10 s keeps consoles current without flooding.
  const stopStatus = everyInterval(10_000, publishStatus);
  opts.link.open({
    data(chunk, message) {
      const mark = message ? { messageId: message.messageId, digest: digestOf(chunk) } : undefined;
      // Committed just before the agent died, its PUBACK never sent: acknowledge, do not read it twice.
      if (mark && message?.dup && publisher.isLastCommitted(mark)) {
        log.info({ message_id: mark.messageId }, 'redelivered message was committed before a restart; acknowledged');
        return;
      }
      // A resumed persistent MQTT session delivers its queue right after CONNACK, before the
      // link reports `online`: that data is the device's too, so start the session for it.
      if (!session) {
        session = opts.profile.createSession(ctx);
        session.start?.();
      }
      session.push(chunk);
      // The link acknowledges the message (PUBACK) only once its readings are in the outbox.
      return publisher.committed(mark);
    },
    state(linkState, linkDetail) {
      if (linkState === 'online' && !session) {
        session = opts.profile.createSession(ctx);
        session.start?.();
      } else if (linkState !== 'online' && session) {
        session.stop();
        session = undefined;
      }
      state = STATE_FOR_LINK[linkState];
      // error/offline always carry a code and a one-sentence reason (docs/agent.md "Device status").
      detail = statusDetail(state, linkDetail, opts.link.description);
      // A device that will not open or went away is a fault a technician must see: never at info.
      if (state === 'error') log.error({ state, ...detail }, `device ${state}: ${String(detail.reason)}`);
      else if (state === 'offline') log.warn({ state, ...detail }, `device ${state}: ${String(detail.reason)}`);
      else log.info({ state, ...detail }, `device ${state}`);
      publishStatus();
    },
  });

  return {
    stats(): DeviceStats {
      const p = publisher.stats();
      return {
        device: opts.device,
        state,
        accepted,
        rejected: { ...rejected },
        deadLetters: deadLetters.stats(),
        published: p.published,
        queued: p.queued + p.inflight,
      };
    },
    /** Stops reading, publishes what is queued, marks the device offline, disconnects. */
    async stop(): Promise<void> {
      stopStatus();
      stopExpiry();
      session?.stop();
      session = undefined;
      await opts.link.close();
      await Promise.race([publisher.drain(), new Promise((r) => setTimeout(r, 3000))]);
      publisher.close();
      outbox.close();
      if (!opts.outboxFile) outboxFile.close();
      // Not connected (broker down, or refusing this identity): mqtt.js would hold the QoS 1
      // publish until a reconnect that never comes, and stop would hang. Bounded either way.
      if (client.connected) {
        const offline = JSON.stringify(status('offline', { code: 'RS_ERR_AGENT_DOWN', reason: 'the agent was stopped' }));
        await Promise.race([
          client.publishAsync(statusTopic, offline, { qos: 1, retain: true }).catch(() => {}),
          new Promise((r) => setTimeout(r, 3000)),
        ]);
      }
      await client.endAsync(!client.connected);
    },
  };
}
export type DeviceRunner = ReturnType<typeof runDevice>;
