import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { AlarmTransition } from '../../alarms/types.ts';
import type { Reading } from '../../core/reading.ts';
import type { DeviceView } from '../live-state.ts';
import { type DropReason, formatEvent, SseClient, type StreamLimits } from '../sse-client.ts';
import type { ServerDeps } from './deps.ts';

/** How long EventSource waits before reconnecting after the stream drops (ms). */
const RETRY_MS = 2000;
/**
 * Readings are coalesced per client: within this window only each device's latest reading is
 * sent. A console needs no more than 10 updates a second per tile, and at 5,000 readings/s
 * sending every one to every client was what delayed alarm events (bench:alarms p99 ~100 ms
 * against ~17 ms without). Alarm, status and snapshot events are never delayed.
 */
const READING_WINDOW_MS = 100;

/** What the stream plugin needs besides the common deps. */
export interface StreamRouteOptions extends ServerDeps {
  limits: StreamLimits;
  /** Where the stream counters go (the process's one registry). */
  registry: Registry;
}

function streamMetrics(registry: Registry, open: () => number) {
  const dropped =
    (registry.getSingleMetric('radscreen_sse_dropped_total') as Counter<'code'> | undefined) ??
    new Counter({
      name: 'radscreen_sse_dropped_total',
      help: 'Live-stream clients dropped for falling behind (RS_ERR_SSE_SLOW_CLIENT) or refused at the cap (RS_ERR_SSE_LIMIT)',
      labelNames: ['code'],
      registers: [registry],
    });
  if (!registry.getSingleMetric('radscreen_sse_streams'))
    new Gauge({
      name: 'radscreen_sse_streams',
      help: 'Open live-stream (SSE) connections',
      registers: [registry],
      collect() {
        this.set(open());
      },
    });
  return dropped;
}

/**
 * `GET /api/stream`: server-sent events. On connect it sends one `snapshot` event (station,
 * devices, alarms), then `alarm` and `status` events as they happen, `reading` events at most
 * one per device per 100 ms (the latest), and a comment line every `heartbeatMs` so idle
 * proxies keep the stream open. The snapshot closes the gap between a console's initial fetch
 * and a reconnect.
 *
 * Bounded: at most `limits.maxStreams` streams (then 503 RS_ERR_SSE_LIMIT); a client that
 * falls behind by `limits.bufferBytes` or stays blocked `limits.stallMs` is dropped
 * (RS_ERR_SSE_SLOW_CLIENT, counted) and reconnects to a fresh snapshot. Streams are destroyed,
 * not drained, when the server closes, so no client can hold shutdown up.
 */
export const streamRoutes: FastifyPluginAsyncZod<StreamRouteOptions> = async (app, { state, heartbeatMs, limits, registry, now }) => {
  const open = new Set<SseClient>();
  const dropped = streamMetrics(registry, () => open.size);

  app.addHook('preClose', async () => {
    for (const client of open) client.close();
    open.clear();
  });

  app.get('/api/stream', async (req, reply) => {
    if (open.size >= limits.maxStreams) {
      dropped.inc({ code: 'RS_ERR_SSE_LIMIT' });
      return (
        reply
          .code(503)
          .header('retry-after', String(Math.ceil(RETRY_MS / 1000)))
          // A refused client must not keep a connection (and its buffers) open either.
          .header('connection', 'close')
          .send({
            statusCode: 503,
            code: 'RS_ERR_SSE_LIMIT',
            error: 'Service Unavailable',
            message: `${limits.maxStreams} live streams are open; retry later`,
          })
      );
    }
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      // nginx would otherwise buffer the stream.
      'x-accel-buffering': 'no',
    });
    const client = new SseClient(res, {
      limits,
      now,
      onDrop: (reason: DropReason, queuedBytes) => {
        dropped.inc({ code: 'RS_ERR_SSE_SLOW_CLIENT' });
        req.log.debug({ code: 'RS_ERR_SSE_SLOW_CLIENT', reason, queuedBytes }, 'slow SSE client dropped');
      },
    });
    open.add(client);

    const pending = new Map<string, Reading>();
    let flushTimer: NodeJS.Timeout | undefined;
    const flush = () => {
      flushTimer = undefined;
      // One write per window, not one per device: 100 clients × 50 devices would be 50,000 writes/s.
      let chunk = '';
      for (const r of pending.values()) chunk += formatEvent('reading', r);
      pending.clear();
      client.send(chunk);
    };
    const onReading = (r: Reading) => {
      pending.set(r.device, r);
      flushTimer ??= setTimeout(flush, READING_WINDOW_MS);
    };
    const onStatus = (d: DeviceView) => client.event('status', d);
    const onAlarm = (t: AlarmTransition) => client.event('alarm', t);
    const onRemoved = (id: string) => {
      pending.delete(id);
      client.event('device_removed', { id });
    };
    // The heartbeat also catches a client that stalled while nothing else was being sent.
    const heartbeat = setInterval(
      () => {
        client.checkStall();
        client.send(': heartbeat\n\n');
      },
      Math.min(heartbeatMs, limits.stallMs),
    );
    heartbeat.unref();

    let cleaned = false;
    const cleanUp = () => {
      if (cleaned) return;
      cleaned = true;
      clearInterval(heartbeat);
      clearTimeout(flushTimer);
      state.off('reading', onReading);
      state.off('status', onStatus);
      state.off('alarm', onAlarm);
      state.off('removed', onRemoved);
      open.delete(client);
      req.log.debug({ clients: open.size }, 'SSE client gone');
    };
    req.raw.on('close', cleanUp);
    res.on('close', cleanUp);
    res.on('error', cleanUp);

    client.send(`retry: ${RETRY_MS}\n\n`);
    client.event('snapshot', { station: state.station, devices: state.devices(), alarms: state.alarms({ limit: 100 }) }, { initial: true });
    if (client.closed) return cleanUp();
    state.on('reading', onReading);
    state.on('status', onStatus);
    state.on('alarm', onAlarm);
    state.on('removed', onRemoved);
  });
};
