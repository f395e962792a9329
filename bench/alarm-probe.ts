/**
 * The alarm path of a station, inside a bench process (bench/ingest-worker.ts `--alarm-probe`):
 * its own MQTT client subscribed to a readings topic, as the server's MQTT feed is
 * (src/server/mqtt-feed.ts), each message parsed with the contract's parser and every reading run
 * through the real alarm engine (default dose-rate rule, in-memory SQLite store). In
 * `radscreen station` the feed, the engine and ingest share one event loop, so a reading's
 * latency here, from its `ts` (stamped by the publisher just before it publishes, same machine
 * clock) to the moment `evaluate` has returned, is what an alarm waits while ingest works (e.g.
 * drains a backlog). Resolution 1 ms (reading timestamps are ms).
 */
import mqtt from 'mqtt';
import { createAlarmEngine } from '../src/alarms/engine.ts';
import { parseReadingsMessage } from '../src/core/contract.ts';

export interface AlarmProbe {
  /** [publish ts, latency ms] of each reading evaluated since the last call. */
  take(): Array<[number, number]>;
  stop(): Promise<void>;
}

export async function startAlarmProbe(url: string, topic: string): Promise<AlarmProbe> {
  const engine = createAlarmEngine({ now: Date.now });
  const client = await mqtt.connectAsync(url, { protocolVersion: 4, clientId: `bench-alarm-probe-${process.pid}` });
  let seen: Array<[number, number]> = [];
  client.on('message', (_topic, payload) => {
    const parsed = parseReadingsMessage(payload);
    if (!parsed.ok) return;
    for (const reading of parsed.message.readings) {
      engine.evaluate(reading);
      seen.push([reading.ts, Date.now() - reading.ts]);
    }
  });
  await client.subscribeAsync(topic, { qos: 1 });
  return {
    take() {
      const out = seen;
      seen = [];
      return out;
    },
    async stop() {
      await client.endAsync();
      engine.close();
    },
  };
}
