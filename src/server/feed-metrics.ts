import { Counter, type Registry } from 'prom-client';
import type { MqttFeed } from './mqtt-feed.ts';

/**
 * `radscreen_server_feed_rejected_total{code}`: what the server's MQTT feed refused and
 * dead-lettered (malformed payloads, RS_ERR_DEVICE_UNKNOWN, RS_ERR_DEVICE_MISMATCH…), mirrored
 * from the feed's own totals at scrape time so the hot path does no metrics work.
 */
export function registerFeedMetrics(registry: Registry, feed: Pick<MqttFeed, 'rejected'>): void {
  const seen = new Map<string, number>();
  new Counter({
    name: 'radscreen_server_feed_rejected_total',
    help: 'Readings and status payloads the server feed refused and dead-lettered, by code (docs/health-and-training-isolation.md)',
    labelNames: ['code'],
    registers: [registry],
    collect() {
      for (const [code, total] of Object.entries(feed.rejected())) {
        const delta = (total ?? 0) - (seen.get(code) ?? 0);
        if (delta > 0) this.inc({ code }, delta);
        seen.set(code, Math.max(total ?? 0, seen.get(code) ?? 0));
      }
    },
  });
}
