import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import type { DeviceLink, LinkHandlers } from './link.ts';
import { nextBackoff } from './link.ts';

export interface MqttLinkOptions {
  /** Broker URL, e.g. `mqtt://127.0.0.1:1883`. */
  url: string;
  /** Topic filter the device publishes on (`+`/`#` allowed); subscribed at QoS 1. */
  topic: string;
  /** Where `write()` publishes (QoS 1). Unset: the link is read-only and `write()` rejects. */
  commandTopic?: string;
  username?: string | undefined;
  password?: string | undefined;
  /** Identity, TLS and limits from src/security/mqtt-client-options.ts (they win over username/password). */
  mqttOptions?: Partial<IClientOptions>;
  /** Defaults to `radscreen-link-<topic>-<pid>`; brokers drop an older client with the same id. */
  clientId?: string;
  /**
   * Keep a persistent session (clean: false) under a stable `clientId`, so the broker queues
   * the device's QoS 1 messages while the agent is down instead of dropping them.
   */
  persistent?: boolean;
  /** Reconnect delays, ×1.5 from `initialMs` to `maxMs` (default 500 ms … 30 s). */
  backoff?: { initialMs: number; maxMs: number };
}

/** `{device}` in a profile's topic pattern becomes the configured device id. */
export function resolveDeviceTopic(pattern: string, deviceId: string): string {
  return pattern.replaceAll('{device}', deviceId);
}

/**
 * A concrete topic a simulator can publish on: wildcards in a filter stand for the device id
 * (`scanners/+/status` → `scanners/xr1/status`), since a publish topic may not contain them.
 */
export function publishTopicFor(filter: string, deviceId: string): string {
  return resolveDeviceTopic(filter, deviceId)
    .split('/')
    .map((level) => (level === '+' || level === '#' ? deviceId : level))
    .join('/');
}

/**
 * A device that speaks MQTT itself, as a DeviceLink. **Each MQTT message is delivered as exactly
 * one `data(chunk)` call**, never split or merged: JSON sessions (src/sessions/message-session.ts)
 * rely on message boundaries being frames, so they need no delimiter and a payload may contain
 * newlines. The broker connection is the link: `online` once subscribed, `offline` when the
 * connection drops, `error` for refused connections or a refused subscription.
 *
 * Acknowledgement (docs/agent.md "When the PUBACK goes out"): a QoS 1 message is PUBACKed only
 * after the promise `data()` returned has resolved, i.e. after its readings are committed to the
 * outbox. A crash before that leaves the message with the broker, which re-sends it to the
 * persistent session. Messages a resumed session receives right after CONNACK, before our SUBACK,
 * are delivered like any other.
 *
 * Reconnects are scheduled here, not by mqtt.js: its `reconnectPeriod` is read once when its
 * interval timer is armed, so a backed-off value set in a `close` handler both failed to grow
 * during an outage and stayed in force after the next successful connection. We run mqtt.js
 * with `reconnectPeriod: 0` and call `reconnect()` after our own ×1.5 delay, reset to
 * `initialMs` once a connection is back online.
 */
export function createMqttLink(opts: MqttLinkOptions): DeviceLink {
  const backoffOpts = opts.backoff ?? { initialMs: 500, maxMs: 30_000 };
  let handlers: LinkHandlers | undefined;
  let client: MqttClient | undefined;
  let closed = false;
  let backoff = 0;
  let attempt = 0;
  let online = false;
  let retryTimer: NodeJS.Timeout | undefined;
  const redeliveries = createRedeliveryFilter();
  // Passwords never go into a status detail: it is published retained for everyone to read.
  const detail = (extra: Record<string, unknown> = {}) => ({ link: 'mqtt', url: opts.url, topic: opts.topic, attempt, ...extra });

  function report(state: 'connecting' | 'online' | 'offline' | 'error', extra?: Record<string, unknown>): void {
    if (!closed) handlers?.state(state, detail(extra));
  }

  /** Arms the next attempt (once per lost connection or failed attempt) and says how long it waits. */
  function scheduleRetry(c: MqttClient): number {
    if (retryTimer) return backoff;
    backoff = nextBackoff(backoff, backoffOpts);
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      if (closed) return;
      attempt += 1;
      report('connecting');
      // Keep the stores: a command published but not yet acknowledged is re-sent, not dropped.
      c.reconnect({ incomingStore: c.incomingStore, outgoingStore: c.outgoingStore });
    }, backoff);
    return backoff;
  }

  function connect(h: LinkHandlers): void {
    handlers = h;
    attempt = 1;
    report('connecting');
    const c = mqtt.connect(opts.url, {
      protocolVersion: 4,
      clean: !opts.persistent,
      clientId: opts.clientId ?? `radscreen-link-${opts.topic.replace(/[^A-Za-z0-9_-]/g, '_')}-${process.pid}`.slice(0, 64),
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      ...(opts.username !== undefined ? { username: opts.username } : {}),
      ...(opts.password !== undefined ? { password: opts.password } : {}),
      ...opts.mqttOptions,
    });
    client = c;
    c.on('connect', () => {
      c.subscribe(opts.topic, { qos: 1 }, (err, granted) => {
        if (closed) return;
        const refused = granted?.some((g) => g.qos === 128);
        if (err || refused) {
          const error = err?.message ?? 'broker refused the subscription';
          return report('error', {
            code: 'RS_ERR_MQTT_FORBIDDEN',
            error,
            reason: `broker ${opts.url} refused the subscription to ${opts.topic}: ${error}`,
          });
        }
        online = true;
        backoff = 0;
        report('online');
      });
    });
    // mqtt.js sends the PUBACK when `done` is called (handlers/publish.ts) and handles the next
    // packet only after that, so messages are taken one at a time, each after the last committed.
    c.handleMessage = (packet, done) => {
      // Closing: no PUBACK, the broker keeps the message for the next session.
      if (closed || !handlers) return;
      const payload = packet.payload as Buffer;
      if (packet.dup && redeliveries.seen(packet.messageId, payload)) return done();
      let committed: void | Promise<void>;
      try {
        // Its packet id and DUP flag let the agent recognise, across its own restart, the one
        // message it committed but could not PUBACK (src/agent/source-mark.ts).
        const info = packet.qos > 0 && packet.messageId !== undefined ? { messageId: packet.messageId, dup: packet.dup } : undefined;
        committed = handlers.data(payload, info);
      } catch (err) {
        return done(err as Error);
      }
      if (!committed) {
        redeliveries.remember(packet.messageId, payload);
        return done();
      }
      committed.then(
        () => {
          redeliveries.remember(packet.messageId, payload);
          done();
        },
        // Not committed: no PUBACK. mqtt.js moves on; the broker re-sends on the next session.
        (err: Error) => done(err),
      );
    };
    c.on('close', () => {
      if (closed) return;
      const wait = scheduleRetry(c);
      const was = online;
      online = false;
      if (was)
        report('offline', {
          code: 'RS_ERR_PORT_LOST',
          error: 'broker connection closed',
          reason: `lost the connection to MQTT broker ${opts.url} (topic ${opts.topic}); reconnecting in ${wait} ms`,
          retry_in_ms: wait,
        });
    });
    c.on('error', (err) => {
      online = false;
      // mqtt.js names a CONNACK refusal in the message ("Connection refused: Not authorized").
      const code = /not authori[sz]ed|bad user ?name or password/i.test(err.message) ? 'RS_ERR_MQTT_AUTH' : 'RS_ERR_PORT_OPEN';
      const retry = backoff || backoffOpts.initialMs;
      const reason = `could not connect to MQTT broker ${opts.url} for topic ${opts.topic}: ${err.message}; retrying`;
      report('error', { code, error: err.message, reason, retry_in_ms: retry });
    });
  }

  return {
    description: `mqtt ${opts.url} ${opts.topic}`,
    open(h) {
      connect(h);
    },
    write(bytes) {
      if (!opts.commandTopic) return Promise.reject(new Error(`mqtt link ${opts.topic} is read-only (no command topic)`));
      const c = client;
      if (!c?.connected) return Promise.reject(new Error(`mqtt broker ${opts.url} is not connected`));
      return c.publishAsync(opts.commandTopic, bytes, { qos: 1 }).then(() => undefined);
    },
    async close() {
      if (closed) return;
      closed = true;
      online = false;
      clearTimeout(retryTimer);
      const c = client;
      client = undefined;
      await c?.endAsync().catch(() => {});
      handlers?.state('offline', detail({ code: 'RS_ERR_AGENT_DOWN', reason: `the agent closed its subscription to ${opts.topic}` }));
    },
  };
}

/** Messages remembered per link: more than a broker keeps in flight to one client by default. */
const REDELIVERY_MEMORY = 2048;

/**
 * A broker re-sends a QoS 1 message whose PUBACK it did not get (DUP flag, same packet id), e.g.
 * when it went down between our commit and our PUBACK. For a device without its own clock the
 * agent would stamp the copy with a new receive time, i.e. a second reading. So the link
 * remembers what it committed by packet id and acknowledges an identical re-delivery without
 * handing it on again. In memory: it covers broker restarts and reconnects; an agent killed in
 * the microseconds between commit and PUBACK can still see one copy (docs/data-integrity.md).
 */
function createRedeliveryFilter() {
  const committed = new Map<number, Buffer>();
  return {
    remember(messageId: number | undefined, payload: Buffer): void {
      if (messageId === undefined) return;
      committed.delete(messageId);
      committed.set(messageId, payload);
      if (committed.size > REDELIVERY_MEMORY) committed.delete(committed.keys().next().value as number);
    },
    seen(messageId: number | undefined, payload: Buffer): boolean {
      return messageId !== undefined && committed.get(messageId)?.equals(payload) === true;
    },
  };
}
