import type { MqttClient } from 'mqtt';
import { pointTimeUs, type Reading } from '../core/reading.ts';
import type { DurableReceipts } from '../core/receipts.ts';

/** Helpers of the ingest's MQTT session (consumer.ts). */

/** Confirms the first `count` readings to the agent by point identity (µs), one call per run of the same station/device. */
export function confirmReadings(receipts: DurableReceipts, rs: readonly Reading[], count: number): void {
  let from = 0;
  for (let i = 1; i <= count; i++) {
    const a = rs[from] as Reading;
    const b = rs[i];
    if (i < count && b && b.station === a.station && b.device === a.device) continue;
    receipts.confirm(a.station, a.device, rs.slice(from, i).map(pointTimeUs));
    from = i;
  }
}

/** mqtt.js retries refused connections silently, so start-up needs its own deadline. */
export function waitForConnect(c: MqttClient, url: string, timeoutMs: number): Promise<void> {
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
