import mqtt from 'mqtt';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { topics } from '../../src/core/contract.ts';
import { openIngestConnections, RECEIVE_MAXIMUM } from '../../src/ingest/connections.ts';
import { startIngest } from '../../src/ingest/consumer.ts';
import { silentLogger } from '../../src/ingest/logger.ts';
import { countPoints, waitFor } from '../support/influx-query.ts';

/**
 * `ingest.connections` (src/ingest/connections.ts) on the shared real mosquitto and influxd: the
 * connections split one shared subscription (each message is handled once, by one of them), and
 * a burst of one-reading messages is stored completely. The zero-loss side under SIGKILL is in
 * test/integration/fault-suite.test.ts.
 */
const services = inject('services');
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('ingest with several MQTT connections', () => {
  it('four connections share the stream: 400 one-reading messages handled once each and all stored', async () => {
    const station = `conn${Date.now() % 100000}`;
    const database = `connections_${process.pid}_${Date.now()}`;
    const ingest = await startIngest({
      mqttUrl: services.mqttUrl,
      influx: { url: services.influxUrl, database, retention: '30d', batch_size: 500, flush_interval_ms: 50 },
      log: silentLogger,
      known: { station, devices: [{ id: 'g1', profile: 'mightyohm-geiger' }] },
      connections: 4,
    });
    cleanups.push(() => ingest.stop());
    const pub = await mqtt.connectAsync(services.mqttUrl, { protocolVersion: 5 });
    cleanups.push(() => pub.endAsync());
    const t0 = Date.now() - 60_000;
    await Promise.all(
      Array.from({ length: 400 }, (_, i) =>
        pub.publishAsync(
          topics.readings(station, 'g1'),
          JSON.stringify({
            v: 1,
            readings: [
              {
                station,
                device: 'g1',
                profile: 'mightyohm-geiger',
                kind: 'dosimeter',
                ts: t0 + i,
                ts_source: 'agent',
                values: { cpm: i % 50, dose_rate: (i % 50) / 175 },
                quality: 'good',
                source: 'simulated',
              },
            ],
          }),
          { qos: 1 },
        ),
      ),
    );
    await waitFor(() => ingest.stats().writer.written >= 400, { timeoutMs: 20_000, describe: () => ingest.stats() });
    // Without the shared subscription every connection would receive all 400 (1,600 handled).
    await new Promise((r) => setTimeout(r, 300));
    expect(ingest.stats().messages).toBe(400);
    expect(ingest.stats().connected).toBe(true);
    expect(await countPoints(services.influxUrl, database, 'radiation')).toBe(400);
  });

  it('refuses a connection count outside 1..64 before connecting', async () => {
    await expect(
      startIngest({
        mqttUrl: services.mqttUrl,
        influx: { url: services.influxUrl, database: 'unused', retention: '30d', batch_size: 500, flush_interval_ms: 50 },
        log: silentLogger,
        connections: 0,
      }),
    ).rejects.toThrow(/connections must be an integer from 1 to 64/);
  });

  it(`MQTT 5: the broker sends a connection at most ${RECEIVE_MAXIMUM} unacknowledged messages, however many are queued`, async () => {
    const topic = `radscreen/v1/rm${Date.now() % 100000}/d1/readings`;
    const held: Array<() => void> = [];
    const conns = await openIngestConnections({
      url: services.mqttUrl,
      mqttOptions: { protocolVersion: 5 },
      clientId: `rm-${process.pid}-${Date.now()}`,
      persistent: false,
      count: 1,
      filter: topic,
      connectTimeoutMs: 10_000,
      log: silentLogger,
      // Never acknowledged while the test counts: the broker may only fill the window.
      onMessage: (_t, _p, done) => void held.push(() => done()),
    });
    cleanups.push(() => conns.end());
    // Every message is the same size on the wire (MQTT 5 PUBLISH, QoS 1, no properties, 4-byte
    // payload): 1 type byte, 1 length byte, topic (2 + length), packet id 2, properties length 1, payload 4.
    const publishSize = 1 + 1 + 2 + Buffer.byteLength(topic) + 2 + 1 + 4;
    let received = 0;
    conns.primary.stream.on('data', (chunk: Buffer) => (received += chunk.length));
    const count = () => received / publishSize;
    let publishes = 0;
    const refresh = () => (publishes = count());
    const pub = await mqtt.connectAsync(services.mqttUrl, { protocolVersion: 5 });
    cleanups.push(() => pub.endAsync());
    await Promise.all(Array.from({ length: 200 }, (_, i) => pub.publishAsync(topic, `m${String(i).padStart(3, '0')}`, { qos: 1 })));
    await waitFor(() => refresh() >= RECEIVE_MAXIMUM, { timeoutMs: 10_000, describe: () => publishes });
    await new Promise((r) => setTimeout(r, 500)); // a broker ignoring the window would send the other 168 now
    expect(count()).toBe(RECEIVE_MAXIMUM);
    for (const ack of held.splice(0)) ack(); // acknowledging one lets the next one in
    await waitFor(() => refresh() > RECEIVE_MAXIMUM, { timeoutMs: 10_000, describe: () => publishes });
  });
});
