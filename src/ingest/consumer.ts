import { randomUUID } from 'node:crypto';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { DEADLETTER_TOPIC, type DeadLetter, parseReadingsMessage, topics } from '../core/contract.ts';
import type { ErrorCode } from '../core/errors.ts';
import { createInfluxWriter, type InfluxWriterStats } from './influx-writer.ts';
import { toLines } from './line-protocol.ts';
import type { IngestLogger } from './logger.ts';
import { ensureSchema } from './schema.ts';

/**
 * The ingest: MQTT readings → validation → batched InfluxDB writes.
 *
 * Backpressure: a QoS 1 message is acknowledged (PUBACK) only after its readings are in the
 * writer's buffer, so while InfluxDB is down and the buffer is full the broker holds the rest.
 * Invalid payloads and points influxd refuses as bad data go to DEADLETTER_TOPIC, counted by code.
 */

/** InfluxDB settings, as in the config's `influx` section. Durations in ms; retention like `30d`. */
export interface IngestInfluxOptions {
  url: string;
  database: string;
  username?: string;
  password?: string;
  retention: string;
  batch_size: number;
  flush_interval_ms: number;
}

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
}

/** Counters since start. */
export interface IngestStats {
  messages: number;
  readings: number;
  /** Dead-lettered payloads and batches by error code. */
  deadLettered: Partial<Record<ErrorCode, number>>;
  writer: InfluxWriterStats;
  connected: boolean;
}

export interface IngestHandle {
  /** Unsubscribes, flushes the writer (up to 10 s) and disconnects. Idempotent. */
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

  const writer = createInfluxWriter({
    url: influx.url,
    database: influx.database,
    ...(influx.username !== undefined ? { username: influx.username } : {}),
    ...(influx.password !== undefined ? { password: influx.password } : {}),
    batchSize: influx.batch_size,
    flushIntervalMs: influx.flush_interval_ms,
    onDrop: (lines, info) => {
      log.warn({ code: info.code, reason: info.reason, points: lines.length, err: info.message }, 'influxdb refused points');
      publishDeadLetter(info.code, `${info.reason}: ${info.message}`, `influx:${influx.database}`, Buffer.from(lines.join('\n')));
    },
    onFault: (fault) => {
      if (fault) log.error({ code: fault.code, err: fault.message }, 'influxdb service fault: points kept, retrying slowly');
      else log.info({}, 'influxdb service fault cleared');
    },
  });

  const clientId = opts.clientId ?? `radscreen-ingest-${randomUUID().slice(0, 8)}`;
  client = mqtt.connect(opts.mqttUrl, {
    protocolVersion: 4,
    clean: opts.clientId === undefined,
    reconnectPeriod: 1000,
    ...opts.mqttOptions,
    clientId,
  });
  const c = client;

  // handleMessage runs one message at a time and mqtt.js sends the PUBACK only after `done`.
  c.handleMessage = (packet, done) => {
    void consume(packet.topic, Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload)).then(
      () => done(),
      (err: Error) => {
        // Only a closed writer gets here (during stop): leave the message unacknowledged for redelivery.
        log.warn({ topic: packet.topic, err: err.message }, 'reading not accepted');
      },
    );
  };

  async function consume(topic: string, payload: Buffer): Promise<void> {
    messages++;
    const parsed = parseReadingsMessage(payload);
    if (!parsed.ok) {
      log.debug(
        { topic, code: parsed.code, reason: parsed.reason, hex: payload.subarray(0, 64).toString('hex') },
        'invalid readings payload',
      );
      publishDeadLetter(parsed.code, parsed.reason, topic, payload);
      return;
    }
    readings += parsed.message.readings.length;
    await writer.write(toLines(parsed.message.readings));
  }

  const filter = opts.shareGroup ? `$share/${opts.shareGroup}/${topics.allReadings()}` : topics.allReadings();
  c.on('error', (err) => log.warn({ err: err.message }, 'ingest MQTT error'));
  try {
    await waitForConnect(c, opts.mqttUrl, opts.connectTimeoutMs ?? 15_000);
    // Resolve only after SUBACK, so a reading published right after start-up is not missed.
    await c.subscribeAsync(filter, { qos: 1 });
  } catch (err) {
    c.end(true);
    await writer.close(0);
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
      await c.unsubscribeAsync(filter).catch(() => undefined);
      const unwritten = await writer.close();
      if (unwritten > 0) log.error({ points: unwritten }, 'ingest stopped with points not yet in InfluxDB');
      await c.endAsync();
    })();
    return stopping;
  };

  return {
    stop,
    stats: () => ({ messages, readings, deadLettered: { ...deadLettered }, writer: writer.stats(), connected: c.connected }),
  };
}

/** mqtt.js retries refused connections silently, so start-up needs its own deadline. */
function waitForConnect(c: MqttClient, url: string, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error(`ingest could not connect to ${url} within ${timeoutMs} ms`)), timeoutMs);
    const onConnect = () => finish();
    const onError = (err: Error) => finish(new Error(`ingest could not connect to ${url}: ${err.message}`));
    function finish(err?: Error) {
      clearTimeout(timer);
      c.off('connect', onConnect);
      c.off('error', onError);
      if (err) reject(err);
      else resolve();
    }
    c.once('connect', onConnect);
    c.once('error', onError);
  });
}
