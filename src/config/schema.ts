import { z } from 'zod';
import { CALIBRATION_CONFIG_DEFAULTS, CalibrationConfigSchema } from '../calibration/config.ts';
import { IdSchema } from '../core/reading.ts';
import { AlarmOverridesSchema } from './alarm-schema.ts';
import { DeviceConfigSchema } from './device-schema.ts';

export { type AlarmOverrides, AlarmOverridesSchema, ZoneConfigSchema } from './alarm-schema.ts';
export { type DeviceConfig, DeviceConfigSchema, SimEventSchema, SimulateSchema } from './device-schema.ts';

/**
 * The one YAML config. Unknown keys are errors (strict objects), so a typo such as
 * `thresold_usvh` is reported instead of silently ignored.
 */

const PortSchema = z.number().int().min(0).max(65535);

/**
 * Where a process serves Prometheus `/metrics` (docs/agent.md "Metrics"). Port 0: the OS picks a
 * free port (logged). The server and the station serve /metrics on `server.port` instead.
 */
export const MetricsEndpointSchema = z.strictObject({ host: z.string().default('127.0.0.1'), port: PortSchema });
export const AGENT_METRICS_DEFAULT = { host: '127.0.0.1', port: 9471 };
/** `radscreen ingest --worker n` adds n − 1, so workers on one host do not collide. */
export const INGEST_METRICS_DEFAULT = { host: '127.0.0.1', port: 9472 };

export const ConfigSchema = z
  .strictObject({
    station: z.strictObject({
      id: IdSchema,
      name: z.string().default('Screening station'),
    }),
    data_dir: z.string().default('./data'),
    /**
     * The parcel record (docs/spectroscopy.md §11): the scanner's light barrier opens a parcel,
     * the `chute` devices (count-rate meters and spectrometers beside the belt) measure it.
     * Without this section the server keeps no parcel records.
     */
    parcels: z
      .strictObject({
        chute: z.array(z.string().min(1)).min(1),
        /** σ above background from which a parcel is not clear. */
        significance: z.number().positive().default(4),
        /** Most seconds a parcel's close waits for the spectrum that covers its exit. */
        settle_s: z.number().min(0).max(60).default(5),
      })
      .optional(),
    mqtt: z
      .strictObject({
        /** External broker; unset means the station embeds an aedes broker. */
        url: z.url().optional(),
        username: z.string().optional(),
        password: z.string().optional(),
        embedded: z
          .strictObject({
            host: z.string().default('127.0.0.1'),
            port: PortSchema.default(1883),
            /** An extra MQTT-over-TLS listener (mqtts://); PEM files. docs/security-mqtt.md. */
            tls: z
              .strictObject({
                host: z.string().optional(),
                port: PortSchema.default(8883),
                cert_file: z.string().min(1),
                key_file: z.string().min(1),
              })
              .optional(),
          })
          .default({ host: '127.0.0.1', port: 1883 }),
        /** Identity secret shared by every radscreen process of the station; default `<data_dir>/mqtt-credentials.json` (created 0600 at first start). */
        credentials_file: z.string().min(1).optional(),
        /** Largest MQTT packet, bytes (default 1 MiB readings payload + 64 KiB): the embedded broker closes a connection sending more; v5 clients announce it (docs/security-mqtt.md). */
        max_packet_bytes: z.number().int().min(1024).max(268_435_455).default(1_114_112),
        /** TLS for `mqtts://` brokers: CA to trust (PEM), and a client certificate/key if the broker asks for one. */
        tls: z
          .strictObject({
            ca_file: z.string().min(1).optional(),
            cert_file: z.string().min(1).optional(),
            key_file: z.string().min(1).optional(),
            reject_unauthorized: z.boolean().default(true),
          })
          .optional(),
        /** Most QoS 1 publishes awaiting PUBACK; mqtt.js silently loses callbacks past 65,535. */
        max_inflight: z.number().int().min(1).max(60_000).default(1000),
        /** MQTT protocol of `radscreen ingest` (4 = 3.1.1, 5); default 5 with `ingest.share_group`, else 4. The embedded aedes speaks 4 only. */
        protocol_version: z.union([z.literal(4), z.literal(5)]).optional(),
      })
      .default({ embedded: { host: '127.0.0.1', port: 1883 }, max_inflight: 1000, max_packet_bytes: 1_114_112 }),
    influx: z
      .strictObject({
        url: z.url().optional(),
        database: z.string().default('radscreen'),
        username: z.string().optional(),
        password: z.string().optional(),
        retention: z
          .string()
          .regex(/^\d+[hdw]$|^INF$/, 'a duration such as 30d, 12w or INF')
          .default('30d'),
        batch_size: z.number().int().min(1).max(50_000).default(5000),
        flush_interval_ms: z.number().int().min(10).max(60_000).default(1000),
        /** With no url: start a private influxd when installed (auto), or store nothing (never). */
        managed: z.enum(['auto', 'never']).default('auto'),
        /** HTTP port of the private influxd (loopback). Unset: 8086 when free, else any free port (logged). Set: that port or a clear error. */
        managed_port: z.number().int().min(1).max(65_535).optional(),
        /** Ingest spool file (SQLite). Unset: `<data_dir>/ingest-spool.sqlite` in a station, `<data_dir>/ingest/spool[-w<n>].sqlite` for `radscreen ingest [--worker n]`. */
        spool_path: z.string().optional(),
        /** Spool bounds: rows (points) and age in hours; above 80 % a service alarm is raised. */
        spool_max_rows: z.number().int().min(1000).default(5_000_000),
        spool_max_age_h: z.number().positive().default(168),
        /** How long the 1-minute rollups (retention policy `rollup_1m`, filled by continuous queries) are kept. */
        rollup_retention: z
          .string()
          .regex(/^\d+[hdw]$|^INF$/, 'a duration such as 52w or INF')
          .default('52w'),
        /** Backlog (spooled during an outage) drains at most this fast, points/s; live points go first. */
        backlog_rate_per_s: z.number().int().min(100).default(50_000),
        /**
         * Duration of the `import` retention policy (replayed history, `radscreen import`) when it is
         * created; an existing one is never altered (docs/data-integrity.md "Retention policies").
         */
        import_retention: z
          .string()
          .regex(/^\d+[hdw]$|^INF$/, 'a duration such as 520w or INF')
          .default('INF'),
      })
      .default({
        database: 'radscreen',
        retention: '30d',
        batch_size: 5000,
        flush_interval_ms: 1000,
        managed: 'auto',
        spool_max_rows: 5_000_000,
        spool_max_age_h: 168,
        rollup_retention: '52w',
        backlog_rate_per_s: 50_000,
        import_retention: 'INF',
      }),
    /** Agent outbox (`<data_dir>/outbox.sqlite`, a queue per device in one file; src/agent/outbox-file.ts) and coalescing. */
    agent: z
      .strictObject({
        /** Readings ready within this window go out as one MQTT message, ms. */
        coalesce_ms: z.number().int().min(0).max(10_000).default(50),
        /**
         * Serial ports with nothing to read wait for a shared tick of this period, ms, so all
         * devices' readings are handled together (and committed together: src/agent/outbox-file.ts),
         * which is most of what the agent saves at 64 devices; adds up to one tick of latency. A port
         * written to within the last second reads replies at once. 0: every port reads as soon as
         * data arrives (docs/agent.md "Read tick").
         */
        serial_read_interval_ms: z.number().int().min(0).max(1000).default(250),
        outbox_max_rows: z.number().int().min(1000).default(1_000_000),
        outbox_max_age_h: z.number().positive().default(168),
        /** Backlog left by a restart or an outage is published at most this fast, readings/s. */
        backlog_rate_per_s: z.number().int().min(10).default(5000),
        /** `radscreen agent` serves /metrics here (also `--metrics-port`). */
        metrics: MetricsEndpointSchema.default(AGENT_METRICS_DEFAULT),
      })
      .default({
        coalesce_ms: 50,
        serial_read_interval_ms: 250,
        outbox_max_rows: 1_000_000,
        outbox_max_age_h: 168,
        backlog_rate_per_s: 5000,
        metrics: AGENT_METRICS_DEFAULT,
      }),
    /** `radscreen ingest` as N workers (README "Scaling ingest"). */
    ingest: z
      .strictObject({
        /**
         * Subscribe as `$share/<share_group>/…` so workers split the stream: needs mosquitto or an
         * MQTT v5 cluster (`mqtt.url`); the embedded aedes broker has no shared subscriptions.
         */
        share_group: z
          .string()
          .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only')
          .optional(),
        /**
         * MQTT connections per ingest worker (default 1). More split the stream by a shared
         * subscription and share one spool commit per event-loop turn (src/ingest/connections.ts):
         * ~1.6× the one-reading-per-message throughput at 8 (docs/benchmarks.md). Needs `mqtt.url`.
         */
        connections: z.number().int().min(1).max(64).default(1),
        /** `radscreen ingest` serves /metrics here (also `--metrics-port`). */
        metrics: MetricsEndpointSchema.default(INGEST_METRICS_DEFAULT),
      })
      .default({ connections: 1, metrics: INGEST_METRICS_DEFAULT }),
    /**
     * Plausibility window for device timestamps, s (src/core/time-window.ts): a reading stamped
     * further ahead of or behind the receiving clock is rejected (RS_ERR_TS_FUTURE / _PAST).
     */
    time_window: z
      .strictObject({ future_s: z.number().positive().default(300), past_s: z.number().positive().default(2_592_000) })
      .default({ future_s: 300, past_s: 2_592_000 }),
    server: z
      .strictObject({
        host: z.string().default('127.0.0.1'),
        port: PortSchema.default(8080),
        /** Open `/api/stream` connections at most; one more gets 503 RS_ERR_SSE_LIMIT (docs/security-web.md). */
        max_streams: z.number().int().min(1).default(100),
        /** Bytes one stream may have queued unsent before its client is dropped (RS_ERR_SSE_SLOW_CLIENT). */
        stream_buffer_bytes: z.number().int().min(4096).default(1_048_576),
        /** Seconds one stream may stay blocked (socket full, no drain) before its client is dropped. */
        stream_stall_s: z.number().positive().default(30),
        /** HTTPS for the console and API: PEM file paths. Unset: plain HTTP (station LAN only). */
        tls: z.strictObject({ cert: z.string().min(1), key: z.string().min(1) }).optional(),
      })
      .default({ host: '127.0.0.1', port: 8080, max_streams: 100, stream_buffer_bytes: 1_048_576, stream_stall_s: 30 }),
    alarms: z
      .strictObject({
        dose_rate_usvh: z.number().positive().default(1.0),
        deadband_usvh: z.number().nonnegative().default(0.2),
        /** How long a silence mutes an alarm, s (IMO: 30). */
        silence_s: z.number().positive().default(30),
        /** Longest shelve an operator may set, h. */
        max_shelve_h: z.number().positive().default(8),
        /** Flood: more than `count` alarms within `window_min` per station. */
        flood: z
          .strictObject({ count: z.number().int().min(1).default(10), window_min: z.number().positive().default(10) })
          .default({ count: 10, window_min: 10 }),
        /** Rule settings for every device; `profiles.<id>` and `devices.<id>` override them in that order. */
        defaults: AlarmOverridesSchema.default({}),
        profiles: z.record(z.string(), AlarmOverridesSchema).default({}),
        devices: z.record(z.string(), AlarmOverridesSchema).default({}),
      })
      .default({
        dose_rate_usvh: 1.0,
        deadband_usvh: 0.2,
        silence_s: 30,
        max_shelve_h: 8,
        flood: { count: 10, window_min: 10 },
        defaults: {},
        profiles: {},
        devices: {},
      }),
    devices: z.array(DeviceConfigSchema).default([]),
    /** Console accounts: password rules and session lifetimes (docs/accounts.md). */
    accounts: z
      .strictObject({
        /** Minimum length of a chosen password; NIST SP 800-63B: at least 8, 15 when the password is the only factor. */
        password_min_length: z.number().int().min(8).max(64).default(12),
        /** A session with no authenticated request for this long ends, min (NIST SP 800-63B AAL2: 30). */
        session_idle_min: z
          .number()
          .positive()
          .max(24 * 60)
          .default(30),
        /** A session ends this long after login whatever the activity, h (one shift; AAL2: 12). */
        session_max_h: z
          .number()
          .positive()
          .max(7 * 24)
          .default(12),
      })
      .default({ password_min_length: 12, session_idle_min: 30, session_max_h: 12 }),
    /** Calibration signing key and plausible factor ranges (docs/calibration-trust.md). */
    calibration: CalibrationConfigSchema.default(CALIBRATION_CONFIG_DEFAULTS),
  })
  .superRefine((cfg, ctx) => {
    const seen = new Set<string>();
    cfg.devices.forEach((d, i) => {
      if (seen.has(d.id)) ctx.addIssue({ code: 'custom', path: ['devices', i, 'id'], message: `duplicate device id '${d.id}'` });
      seen.add(d.id);
      if ([d.serial, d.simulate, d.mqtt].filter(Boolean).length !== 1)
        ctx.addIssue({ code: 'custom', path: ['devices', i], message: 'give exactly one of `serial`, `simulate` or `mqtt`' });
    });
    for (const [i, id] of (cfg.parcels?.chute ?? []).entries())
      if (!seen.has(id))
        ctx.addIssue({ code: 'custom', path: ['parcels', 'chute', i], message: `'${id}' is not a device of this station` });
    // The embedded aedes broker (MQTT 3.1.1, no $share) serves the single-process station only.
    if (cfg.ingest.share_group && !cfg.mqtt.url)
      ctx.addIssue({
        code: 'custom',
        path: ['ingest', 'share_group'],
        message:
          'shared subscriptions need an external MQTT v5 broker (mqtt.url: mosquitto, EMQX, HiveMQ…); the embedded aedes broker is for the single-process station only',
      });
    if (cfg.ingest.connections > 1 && !cfg.mqtt.url)
      ctx.addIssue({
        code: 'custom',
        path: ['ingest', 'connections'],
        message:
          'several ingest connections split the stream by a shared subscription: they need an external broker (mqtt.url: mosquitto, EMQX, HiveMQ…); the embedded aedes broker has none',
      });
  });

export type Config = z.infer<typeof ConfigSchema>;
