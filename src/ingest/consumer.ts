import { randomUUID } from 'node:crypto';
import type { IClientOptions } from 'mqtt';
import { catalogue } from '../../devices/index.ts';
import { DEADLETTER_TOPIC, type DeadLetter, topics } from '../core/contract.ts';
import type { ErrorCode } from '../core/errors.ts';
import type { DurableReceipts } from '../core/receipts.ts';
import type { TimestampWindow } from '../core/time-window.ts';
import { createGroupCommit } from '../queue/group-commit.ts';
import { createAdmission, type KnownDevices } from './admission.ts';
import { type IngestConnections, openIngestConnections } from './connections.ts';
import { toLines } from './line-protocol.ts';
import type { IngestLogger } from './logger.ts';
import { confirmReadings } from './mqtt-session.ts';
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
  /**
   * MQTT connections of this ingest (default 1). More than 1 needs a broker with shared
   * subscriptions (`$share/<shareGroup or client id>/…`): messages held by all connections in one
   * event-loop turn share one spool commit (connections.ts), which the one-per-message path needs.
   */
  connections?: number;
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
  if (opts.connections !== undefined && (!Number.isInteger(opts.connections) || opts.connections < 1 || opts.connections > 64))
    throw new Error(`ingest connections must be an integer from 1 to 64, got ${opts.connections}`);
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
  let conns: IngestConnections | undefined;

  const publishDeadLetter = (code: ErrorCode, reason: string, topic: string, payload: Buffer) => {
    deadLettered[code] = (deadLettered[code] ?? 0) + 1;
    const dl: DeadLetter = { v: 1, code, reason: reason.slice(0, 2000), topic, ts: Date.now(), payload_b64: payload.toString('base64') };
    conns?.primary.publish(DEADLETTER_TOPIC, JSON.stringify(dl), { qos: 1 }, (err) => {
      if (err) log.warn({ code, topic, err: err.message }, 'dead-letter publish failed');
    });
  };

  const clientId = opts.clientId ?? `radscreen-ingest-${randomUUID().slice(0, 8)}`;
  const alarms: IngestStats['alarms'] = {};
  const raiseAlarm = (kind: ServiceAlarm['kind'], active: boolean, code: ErrorCode, message: string) => {
    if (active) alarms[kind] = (alarms[kind] ?? 0) + 1;
    (active ? log.error : log.info).call(log, { alarm: kind, code, active }, message);
    const alarm: ServiceAlarm = { v: 1, source: clientId, kind, active, code, message, ts: Date.now() };
    conns?.primary.publish(serviceAlarmTopic(clientId), JSON.stringify(alarm), { qos: 1, retain: true }, () => {});
  };
  const storage = openIngestStorage(influx, log, { deadLetter: publishDeadLetter, alarm: raiseAlarm }, opts.receipts);

  const persistent = opts.clientId !== undefined;
  const connections = opts.connections ?? 1;

  // Durable ack: each message is committed to the spool first and only then acknowledged
  // (connections.ts); a message held across a failed commit gets no PUBACK and is redelivered.
  let accepting = true;
  const group = createGroupCommit<PreparedMessage>(
    (items) => storage.store(items),
    // Only a closed spool gets here (during stop): leave the messages unacknowledged for redelivery.
    (err, count) => log.warn({ messages: count, err: err.message }, 'readings not accepted; the broker will redeliver'),
    connections === 1,
  );
  const onMessage = (topic: string, payload: Buffer, done: (err?: Error) => void) => {
    // Stopping: no PUBACK, so the broker redelivers the message to the next session.
    if (!accepting) return done(new Error('ingest stopping'));
    group.hold(prepare(topic, payload), done);
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
  // Several connections must split the stream, not each get all of it: a shared subscription.
  const shareGroup = opts.shareGroup ?? (connections > 1 ? clientId : undefined);
  const filter = shareGroup ? `$share/${shareGroup}/${readingsFilter}` : readingsFilter;
  try {
    conns = await openIngestConnections({
      url: opts.mqttUrl,
      mqttOptions: opts.mqttOptions ?? {},
      clientId,
      persistent,
      count: connections,
      filter,
      connectTimeoutMs: opts.connectTimeoutMs ?? 15_000,
      log,
      onMessage,
    });
  } catch (err) {
    await storage.close(0);
    throw err;
  }
  const c = conns;
  log.info({ url: opts.mqttUrl, clientId, filter, connections }, 'ingest subscribed');

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      accepting = false;
      await c.unsubscribe();
      const unwritten = await storage.close();
      if (unwritten.raw + unwritten.import > 0)
        log.warn({ points: unwritten, spool: influx.spool_path ?? ':memory:' }, 'ingest stopped with points still spooled');
      await c.end();
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
        connected: c.connected(),
      };
    },
  };
}
