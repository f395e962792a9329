/**
 * What the throughput benches share: waiting for a condition, publishing a pre-built stream at
 * QoS 1 with a bounded window, and mosquitto's own QoS 1 ceiling for such a stream.
 */
import mqtt, { type MqttClient } from 'mqtt';

/** Polls `probe` every `everyMs` until it holds; throws after `timeoutMs`, naming `what`. */
export async function until(probe: () => boolean | Promise<boolean>, timeoutMs: number, what: string, everyMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`bench: ${what} not reached within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Publishes `payloads` on `topic` at QoS 1, at most `inflight` awaiting their PUBACK; resolves when all are acknowledged. */
export function publishAll(client: MqttClient, topic: string, payloads: readonly string[], inflight = 1000): Promise<void> {
  let sent = 0;
  let waiting = 0;
  return new Promise<void>((resolve) => {
    const next = () => {
      while (waiting < inflight && sent < payloads.length) {
        waiting++;
        client.publish(topic, payloads[sent++] as string, { qos: 1 }, () => {
          waiting--;
          next();
        });
      }
      if (sent >= payloads.length && waiting === 0) resolve();
    };
    next();
  });
}

/**
 * mosquitto alone: the same messages published at QoS 1 (1,000 in flight) to one subscriber that
 * parses each payload and acknowledges it on receipt, as a subscriber with no durability does.
 * Messages/s from the first publish to the last receipt: what the broker can carry on this machine.
 */
export async function measureBrokerCeiling(url: string, topic: string, payloads: readonly string[]): Promise<number> {
  const sub = await mqtt.connectAsync(url, { protocolVersion: 5, clientId: 'bench-ceiling-sub' });
  const pub = await mqtt.connectAsync(url, { protocolVersion: 5, clientId: 'bench-ceiling-pub' });
  await sub.subscribeAsync(topic, { qos: 1 });
  let received = 0;
  sub.on('message', (_t, payload) => {
    JSON.parse(payload.toString());
    received++;
  });
  const start = performance.now();
  await publishAll(pub, topic, payloads);
  await until(() => received >= payloads.length, 60_000, 'broker ceiling receipts', 20);
  const seconds = (performance.now() - start) / 1000;
  await Promise.all([sub.endAsync(), pub.endAsync()]);
  return payloads.length / seconds;
}
