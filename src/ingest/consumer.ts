import { randomUUID } from 'node:crypto';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { catalogue } from '../../devices/index.ts';
import { DEADLETTER_TOPIC, type DeadLetter, topics } from '../core/contract.ts';
import type { ErrorCode } from '../core/errors.ts';
import type { DurableReceipts } from '../core/receipts.ts';
import type { TimestampWindow } from '../core/time-window.ts';
import { createAdmission, type KnownDevices } from './admission.ts';
import { toLines } from './line-protocol.ts';
import type { IngestLogger } from './logger.ts';
import { confirmReadings, waitForConnect } from './mqtt-session.ts';
import { ensureSchema } from './schema.ts';
import type { SpoolStats } from './spool.ts';
import { type IngestInfluxOptions, openIngestStorage, type PreparedMessage } from './storage.ts';

/**
 * The ingest: MQTT readings → validation → SQLite spool → batched InfluxDB writes.
 *
 * Durable ack: a QoS 1 message is acknowledged (PUBACK) only after its readings are committed
 * to the spool (spool.ts), so a crash of this process or an InfluxDB outage loses nothing: the
 * broker redelivers what was not acknowledged, and the spool replays what was not written.
 * Invalid payloads, points influxd refuses as bad data, and points a full spool cannot keep go to
 * DEADLETTER_TOPIC, counted by code; a filling spool or a service fault raises a service alarm.
 */

/** Retained service alarms from ingest: `radscreen/v1/service/ingest/<client id>/alarm`. */
export const serviceAlarmTopic = (clientId: string) => `radscreen/v1/service/ingest/${clientId}/alarm`;

/** What the ingest reports about itself: spool above 80 %, spool refusing points, InfluxDB fault. */
export interface ServiceAlarm {
  v: 1;
  source: string;
  kind: 'spool_high_water' | 'spool_drop' | 'influx_fault';
  active: boolean;
  code: ErrorCode;
  message: string;
  ts: number;
}

export type { IngestInfluxOptions } from './storage.ts';

export interface IngestOptions {
  mqttUrl: string;
  /** Extra mqtt.js options (credentials, TLS). protocolVersion defaults to 4 (aedes speaks 3.1.1 only). */
  mqttOptions?: Partial<IClientOptions>;
  influx: IngestInfluxOptions;
  log: IngestLogger;
  /**
   * A stable client id gives a persistent session (clean=false): the broker queues QoS 1
   * readings while this ingest is down. Without one, a random id and a clean session.
   */
  clientId?: string;
  /** Give up start-up when the broker has not accepted the connection by then (default 15 000 ms). */
  connectTimeoutMs?: number;
  /** Subscribe as `$share/<group>/…` so N workers split the stream (mosquitto, not aedes). */
  shareGroup?: string;
  /** Station mode: tell the in-process agent which readings are committed to the spool (receipts.ts). */
  receipts?: DurableReceipts;
  /**
   * The station's devices (from its config): readings of other devices are dead-lettered with
   * RS_ERR_DEVICE_UNKNOWN (rules: admission.ts), and only this station's topics are subscribed.
   * Unset (tools, tests): every station and device; the reading contract applies all the same.
   */
  known?: KnownDevices;
  /** Plausibility window for reading timestamps; default DEFAULT_TIMESTAMP_WINDOW. */
  timestampWindow?: TimestampWindow;
}

/** Counters since start. */
export interface IngestStats {
  messages: number;
  readings: number;
  /** Dead-letter records published, by error code (one per refused payload, per code per message, per refused batch). */
  deadLettered: Partial<Record<ErrorCode, number>>;
  /** Readings refused before the spool, by error code (a whole refused payload counts its readings when it could count them, else 1). */
  refused?: Partial<Record<ErrorCode, number>>;
  /** The `raw` spool and its writer: depth (`buffered`), written, retries, drops by reason. */
  writer: SpoolStats;
  /** The same for the `import` spool (replayed history, storage.ts). */
  importWriter?: SpoolStats;
  /** Service alarms raised since start, by kind. */
  alarms: Partial<Record<ServiceAlarm['kind'], number>>;
  connected: boolean;
}

export interface IngestHandle {
  /** Unsubscribes, flushes the spool (up to 10 s; the rest stays on disk) and disconnects. Idempotent. */
  stop(): Promise<void>;
  stats(): IngestStats;
}

/**
 * Creates the schema, then connects and consumes.
 * @throws when the schema cannot be created (influxd unreachable or refusing) or the first MQTT connect fails.
 */
export async function startIngest(opts: IngestOptions): Promise<IngestHandle> {
  const { log, influx } = opts;
  await ensureSchema(influx, log);

  const deadLettered: IngestStats['deadLettered'] = {};
  const refusedByCode: Partial<Record<ErrorCode, number>> = {};
  const admit = createAdmission({
    catalogue,
    ...(opts.known ? { known: opts.known } : {}),
    ...(opts.timestampWindow ? { window: opts.timestampWindow } : {}),
  });
  let messages = 0;
  let readings = 0;
  let client: MqttClient | undefined;

  const publishDeadLetter = (code: ErrorCode, reason: string, topic: string, payload: Buffer) => {
    deadLettered[code] = (deadLettered[code] ?? 0) + 1;
    const dl: DeadLetter = { v: 1, code, reason: reason.slice(0, 2000), topic, ts: Date.now(), payload_b64: payload.toString('base64') };
    client?.publish(DEADLETTER_TOPIC, JSON.stringify(dl), { qos: 1 }, (err) => {
      if (err) log.warn({ code, topic, err: err.message }, 'dead-letter publish failed');
    });
  };

  const clientId = opts.clientId ?? `radscreen-ingest-${randomUUID().slice(0, 8)}`;
  const alarms: IngestStats['alarms'] = {};
  const raiseAlarm = (kind: ServiceAlarm['kind'], active: boolean, code: ErrorCode, message: string) => {
    if (active) alarms[kind] = (alarms[kind] ?? 0) + 1;
    (active ? log.error : log.info).call(log, { alarm: kind, code, active }, message);
    const alarm: ServiceAlarm = { v: 1, source: clientId, kind, active, code, message, ts: Date.now() };
    client?.publish(serviceAlarmTopic(clientId), JSON.stringify(alarm), { qos: 1, retain: true }, () => {});
  };
  const storage = openIngestStorage(influx, log, { deadLetter: publishDeadLetter, alarm: raiseAlarm }, opts.receipts);

  const persistent = opts.clientId !== undefined;
  const v5 = opts.mqttOptions?.protocolVersion === 5;
  client = mqtt.connect(opts.mqttUrl, {
    protocolVersion: 4,
    clean: !persistent,
    reconnectPeriod: 1000,
    ...opts.mqttOptions,
    // MQTT 5 ends a session at disconnect unless it has an expiry: keep ours a week.
    ...(v5 && persistent ? { properties: { sessionExpiryInterval: 7 * 86_400, ...opts.mqttOptions?.properties } } : {}),
    clientId,
  });
  const c = client;

  // Durable ack through mqtt.js's supported hook: it sends a QoS 1 message's PUBACK when
  // `handleMessage` calls `done()`, and calling `done(err)` moves on without one
  // (mqtt/src/lib/handlers/publish.ts). So each message is committed to the spool first and
  // only then acknowledged; mqtt.js handles the next packet only after `done`, which keeps the
  // PUBACKs in arrival order and ties each one to the connection the message came on. The cost
  // is one spool transaction per message (docs/benchmarks.md "Durable ack without private APIs").
  let accepting = true;
  c.handleMessage = (packet, done) => {
    // Stopping: no PUBACK, so the broker redelivers the message to the next session.
    if (!accepting) return done(new Error('ingest stopping'));
    const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
    const prepared = prepare(packet.topic, payload);
    try {
      if (prepared) storage.store([prepared]);
    } catch (err) {
      // Only a closed spool gets here (during stop): leave the message unacknowledged for redelivery.
      log.warn({ topic: packet.topic, err: (err as Error).message }, 'reading not accepted; the broker will redeliver');
      return done(err as Error);
    }
    done();
  };

  /** Admits and converts one message; what it refuses is dead-lettered here. Undefined when nothing is left to store. */
  function prepare(topic: string, payload: Buffer): PreparedMessage | undefined {
    messages++;
    const admission = admit(topic, payload);
    if (!admission.ok) {
      refusedByCode[admission.code] = (refusedByCode[admission.code] ?? 0) + 1;
      log.debug(
        { topic, code: admission.code, reason: admission.reason, bytes: payload.length, hex: payload.subarray(0, 64).toString('hex') },
        'invalid readings payload',
      );
      // An oversized payload is not echoed whole: the dead letter keeps its first 4 KiB.
      publishDeadLetter(
        admission.code,
        admission.reason,
        topic,
        admission.code === 'RS_ERR_PAYLOAD_TOO_LARGE' ? payload.subarray(0, 4096) : payload,
      );
      return undefined;
    }
    readings += admission.received;
    for (const g of admission.refused) {
      refusedByCode[g.code] = (refusedByCode[g.code] ?? 0) + g.items.length;
      log.debug({ topic, code: g.code, reason: g.reason, readings: g.items.length }, 'readings refused');
      const reason = g.items.length > 1 ? `${g.reason} (and ${g.items.length - 1} more readings with this code)` : g.reason;
      publishDeadLetter(g.code, reason, topic, Buffer.from(JSON.stringify({ v: 1, readings: g.items })));
      // A refused reading is settled (it is in the dead letter): the agent need not keep it.
      if (opts.receipts && g.parsed.length > 0) confirmReadings(opts.receipts, g.parsed, g.parsed.length);
    }
    if (admission.accepted.length === 0) return undefined;
    // Replayed history goes to its own retention policy (storage.ts); everything else to `raw`.
    const live = admission.accepted.filter((r) => r.source !== 'replay');
    const replayed = live.length === admission.accepted.length ? [] : admission.accepted.filter((r) => r.source === 'replay');
    return { topic, lines: toLines(live), readings: live, importLines: toLines(replayed), importReadings: replayed };
  }

  const readingsFilter = topics.allReadings(opts.known?.station ?? '+');
  const filter = opts.shareGroup ? `$share/${opts.shareGroup}/${readingsFilter}` : readingsFilter;
  c.on('error', (err) => log.warn({ err: err.message }, 'ingest MQTT error'));
  try {
    await waitForConnect(c, opts.mqttUrl, opts.connectTimeoutMs ?? 15_000);
    // Resolve only after SUBACK, so a reading published right after start-up is not missed.
    await c.subscribeAsync(filter, { qos: 1 });
  } catch (err) {
    c.end(true);
    await storage.close(0);
    throw err;
  }
  log.info({ url: opts.mqttUrl, clientId, filter }, 'ingest subscribed');
  c.on('connect', (ack) => {
    log.info({ url: opts.mqttUrl, clientId, sessionPresent: ack.sessionPresent }, 'ingest reconnected to MQTT');
    // Resubscribing is harmless and covers a broker that lost our session.
    if (!ack.sessionPresent)
      c.subscribe(filter, { qos: 1 }, (err) => err && log.error({ filter, err: err.message }, 'ingest resubscribe failed'));
  });

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      accepting = false;
      // A persistent session keeps its subscription so the broker queues for us while we are down.
      if (opts.clientId === undefined) await c.unsubscribeAsync(filter).catch(() => undefined);
      const unwritten = await storage.close();
      if (unwritten.raw + unwritten.import > 0)
        log.warn({ points: unwritten, spool: influx.spool_path ?? ':memory:' }, 'ingest stopped with points still spooled');
      await c.endAsync();
    })();
    return stopping;
  };

  return {
    stop,
    stats: () => {
      const spools = storage.stats();
      return {
        messages,
        readings,
        deadLettered: { ...deadLettered },
        refused: { ...refusedByCode },
        writer: spools.raw,
        importWriter: spools.import,
        alarms: { ...alarms },
        connected: c.connected,
      };
    },
  };
}
