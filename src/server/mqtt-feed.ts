import type { MqttClient } from 'mqtt';
import { z } from 'zod';
import type { AlarmEngine } from '../alarms/engine.ts';
import type { AlarmTransition } from '../alarms/types.ts';
import { DEADLETTER_TOPIC, type DeadLetter, parseReadingsMessage, parseTopic, StatusMessageSchema, topics } from '../core/contract.ts';
import type { ErrorCode } from '../core/errors.ts';
import type { Reading } from '../core/reading.ts';
import { isTrainingDevice } from '../core/training-id.ts';
import { parseSpectrumMessage, type SpectrumMessage } from '../spectra/contract.ts';
import type { LiveState } from './live-state.ts';

/** The slice of a pino logger the feed uses. */
export interface FeedLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface MqttFeedOptions {
  /** A connected (or connecting) client; the feed never ends it. */
  client: MqttClient;
  station: string;
  state: LiveState;
  engine: AlarmEngine;
  log: FeedLogger;
  /** Gets every accepted reading and spectrum after the live state and the engine (the parcel desk). */
  parcels?: { observe(reading: Reading): void; spectrum(message: SpectrumMessage): void };
  /** Most dead letters awaiting PUBACK; beyond it they are counted and logged only. Default 100. */
  maxDeadLettersInFlight?: number;
}

/** A running feed. */
export interface MqttFeed {
  /** Payloads rejected so far, by error code (for /metrics and tests). */
  rejected(): Partial<Record<ErrorCode, number>>;
  /** Stops listening, unsubscribes and leaves the engine's transition bus; idempotent; does not end the client. */
  detach(): Promise<void>;
}

/**
 * Feeds the server from MQTT: readings and retained status messages of one station go into
 * the live state and the alarm engine, and every alarm transition of the engine (its transition
 * bus: readings, timers, operator actions alike) is published (QoS 1) on the station's alarms
 * topic. Alarms therefore never wait on storage. A payload that fails
 * validation is counted by code and dead-lettered with the reason; it never stops the feed.
 * Readings and statuses of devices the station does not know (RS_ERR_DEVICE_UNKNOWN) or that
 * claim another station/device than their topic (RS_ERR_DEVICE_MISMATCH) are refused the same way.
 */
export async function attachMqttFeed(opts: MqttFeedOptions): Promise<MqttFeed> {
  const { client, station, state, engine, log } = opts;
  const maxDeadInFlight = opts.maxDeadLettersInFlight ?? 100;
  const counts: Partial<Record<ErrorCode, number>> = {};
  let deadInFlight = 0;
  let attached = true;

  function publishAlarm(t: AlarmTransition): void {
    client.publish(topics.alarms(station), JSON.stringify(t), { qos: 1 }, (err) => {
      if (err) log.warn({ err, alarm: t.alarm.id }, 'alarm transition not published');
    });
  }

  /** Counts `n` rejects (readings, or 1 payload) under `code` and forwards the payload once. */
  function deadLetter(code: ErrorCode, reason: string, topic: string, payload: Buffer, n = 1): void {
    counts[code] = (counts[code] ?? 0) + n;
    log.debug({ code, topic, reason, hex: payload.subarray(0, 64).toString('hex') }, 'payload rejected');
    if (deadInFlight >= maxDeadInFlight) {
      log.warn({ code, topic }, 'dead-letter backlog full; rejected payload counted but not forwarded');
      return;
    }
    const letter: DeadLetter = { v: 1, code, reason, topic, ts: Date.now(), payload_b64: payload.toString('base64') };
    deadInFlight++;
    client.publish(DEADLETTER_TOPIC, JSON.stringify(letter), { qos: 1 }, (err) => {
      deadInFlight--;
      if (err) log.warn({ err, code, topic }, 'dead letter not published');
    });
  }

  function acceptReading(reading: Reading): void {
    state.addReading(reading);
    // The transitions reach live state and the alarms topic through the engine's bus; only the log is ours.
    for (const t of engine.evaluate(reading)) {
      log.info({ alarm: t.alarm.id, kind: t.kind, value: t.alarm.evidence.value }, t.alarm.message);
    }
    opts.parcels?.observe(reading);
  }

  function handleSpectrum(topic: string, device: string, payload: Buffer): void {
    const parsed = parseSpectrumMessage(payload);
    if (!parsed.ok) {
      deadLetter(parsed.code, parsed.reason, topic, payload);
      return;
    }
    const m = parsed.message;
    if (!state.has(device)) {
      deadLetter('RS_ERR_DEVICE_UNKNOWN', `${station}/${device}: device not in the station configuration`, topic, payload);
      return;
    }
    if (m.station !== station || m.device !== device || m.spectrum.device !== device) {
      deadLetter('RS_ERR_DEVICE_MISMATCH', `spectrum for ${m.station}/${m.device} on ${topic}`, topic, payload);
      return;
    }
    opts.parcels?.spectrum(m);
  }

  /** Closes a finished run's alarms (disposition training), forgets the device in engine and live state. */
  function endTrainingDevice(device: string): void {
    engine.retireDevices({ source: 'training', devices: [device], user: 'training', reason: 'training run ended' });
    state.removeDevice(device);
  }

  function handleReadings(topic: string, device: string, payload: Buffer): void {
    const parsed = parseReadingsMessage(payload);
    if (!parsed.ok) {
      deadLetter(parsed.code, parsed.reason, topic, payload);
      return;
    }
    const readings = parsed.message.readings;
    // No phantom tiles: only the station's configured devices, and training devices while their
    // run's agent is up (live state admits them on its online status), are shown or alarmed on.
    if (!state.has(device)) {
      const why = isTrainingDevice(device) ? 'training device of no running training run' : 'device not in the station configuration';
      deadLetter('RS_ERR_DEVICE_UNKNOWN', `${station}/${device}: ${why}`, topic, payload, readings.length);
      return;
    }
    // A reading filed under another station's or device's topic would corrupt that tile: the
    // topic is who sent it (the broker's ACL), the payload only claims.
    const stray = readings.filter((r) => r.station !== station || r.device !== device);
    if (stray.length) {
      const first = stray[0] as Reading;
      const why = `${stray.length} of ${readings.length} readings claim ${first.station}/${first.device} on ${topic}`;
      deadLetter('RS_ERR_DEVICE_MISMATCH', why, topic, payload, stray.length);
    }
    for (const r of readings) if (r.station === station && r.device === device) acceptReading(r);
  }

  function handleStatus(topic: string, device: string, payload: Buffer): void {
    // An empty retained payload is MQTT's way of deleting a retained status, not an error. A
    // training run deletes its devices' statuses when it ends: that is the run's end for us too.
    if (payload.length === 0) {
      if (isTrainingDevice(device)) endTrainingDevice(device);
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(payload.toString('utf8'));
    } catch (e) {
      deadLetter('RS_ERR_PAYLOAD_JSON', (e as Error).message, topic, payload);
      return;
    }
    const parsed = StatusMessageSchema.safeParse(json);
    if (!parsed.success) {
      deadLetter('RS_ERR_PAYLOAD_INVALID', z.prettifyError(parsed.error), topic, payload);
      return;
    }
    if (parsed.data.station !== station || parsed.data.device !== device) {
      deadLetter('RS_ERR_DEVICE_MISMATCH', `status for ${parsed.data.station}/${parsed.data.device} on ${topic}`, topic, payload);
      return;
    }
    // Training devices are admitted (or ignored) by the live state itself; any other stranger is refused.
    if (!state.has(device) && !isTrainingDevice(device)) {
      deadLetter('RS_ERR_DEVICE_UNKNOWN', `${station}/${device}: device not in the station configuration`, topic, payload);
      return;
    }
    state.applyStatus(parsed.data);
  }

  function onMessage(topic: string, payload: Buffer): void {
    if (!attached) return;
    const t = parseTopic(topic);
    // The client may be shared with the agent or ingest: other topics are not ours to judge.
    if (!t || t.station !== station || !t.device) return;
    try {
      if (t.leaf === 'readings') handleReadings(topic, t.device, payload);
      else if (t.leaf === 'status') handleStatus(topic, t.device, payload);
      else if (t.leaf === 'spectrum') handleSpectrum(topic, t.device, payload);
    } catch (err) {
      log.warn({ err, topic }, 'feed handler failed; message skipped');
    }
  }

  const filters = [topics.allReadings(station), topics.allStatus(station), topics.allSpectra(station)];
  const leaveBus = engine.transitions.subscribe('mqtt-feed', publishAlarm);
  client.on('message', onMessage);
  await client.subscribeAsync(filters, { qos: 1 });

  return {
    rejected: () => ({ ...counts }),
    async detach() {
      if (!attached) return;
      attached = false;
      leaveBus();
      client.off('message', onMessage);
      if (client.connected) await client.unsubscribeAsync(filters).catch(() => undefined);
    },
  };
}
