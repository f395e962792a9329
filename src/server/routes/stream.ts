import type { ServerResponse } from 'node:http';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { AlarmTransition } from '../../alarms/types.ts';
import type { Reading } from '../../core/reading.ts';
import type { DeviceView } from '../live-state.ts';
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

function writeEvent(res: ServerResponse, event: string, data: unknown): void {
  res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

/**
 * `GET /api/stream`: server-sent events. On connect it sends one `snapshot` event (station,
 * devices, alarms), then `alarm` and `status` events as they happen, `reading` events at most
 * one per device per 100 ms (the latest), and a comment
 * line every `heartbeatMs` so idle proxies keep the stream open. The snapshot closes the gap
 * between a console's initial fetch and a reconnect. Listeners are removed when the client
 * goes away, and open streams are ended before the server closes.
 */
export const streamRoutes: FastifyPluginAsyncZod<ServerDeps> = async (app, { state, heartbeatMs }) => {
  const open = new Set<ServerResponse>();

  app.addHook('preClose', async () => {
    for (const res of open) res.end();
  });

  app.get('/api/stream', async (req, reply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      // nginx would otherwise buffer the stream.
      'x-accel-buffering': 'no',
    });
    res.write(`retry: ${RETRY_MS}\n\n`);
    writeEvent(res, 'snapshot', { station: state.station, devices: state.devices(), alarms: state.alarms({ limit: 100 }) });

    const pending = new Map<string, Reading>();
    let flushTimer: NodeJS.Timeout | undefined;
    const flush = () => {
      flushTimer = undefined;
      for (const r of pending.values()) writeEvent(res, 'reading', r);
      pending.clear();
    };
    const onReading = (r: Reading) => {
      pending.set(r.device, r);
      flushTimer ??= setTimeout(flush, READING_WINDOW_MS);
    };
    const onStatus = (d: DeviceView) => writeEvent(res, 'status', d);
    const onAlarm = (t: AlarmTransition) => writeEvent(res, 'alarm', t);
    const onRemoved = (id: string) => {
      pending.delete(id);
      writeEvent(res, 'device_removed', { id });
    };
    state.on('reading', onReading);
    state.on('status', onStatus);
    state.on('alarm', onAlarm);
    state.on('removed', onRemoved);
    const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), heartbeatMs);
    heartbeat.unref();
    open.add(res);

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
      open.delete(res);
      req.log.debug({ clients: open.size }, 'SSE client gone');
    };
    req.raw.on('close', cleanUp);
    res.on('close', cleanUp);
    res.on('error', cleanUp);
  });
};
