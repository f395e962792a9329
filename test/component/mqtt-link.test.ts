import { createServer, type Server } from 'node:net';
import { Aedes } from 'aedes';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import type { LinkState } from '../../src/transports/link.ts';
import { createMqttLink, publishTopicFor, resolveDeviceTopic } from '../../src/transports/mqtt-link.ts';

/** A broker on a fixed port that can be stopped and started again, as an outage. */
async function startBroker(port = 0): Promise<{ port: number; close(): Promise<void> }> {
  const broker = await Aedes.createBroker();
  const server: Server = createServer(broker.handle);
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  const actual = (server.address() as { port: number }).port;
  return {
    port: actual,
    async close() {
      await new Promise<void>((r) => broker.close(() => r()));
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('MQTT device link', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('resolves {device} and makes a publishable topic from a filter', () => {
    expect(resolveDeviceTopic('scanners/{device}/status', 'xr1')).toBe('scanners/xr1/status');
    expect(publishTopicFor('field/{device}/+', 'd1')).toBe('field/d1/d1');
  });

  it('with a persistent session, receives what the device sent while the link was closed', async () => {
    const broker = await startBroker();
    const url = `mqtt://127.0.0.1:${broker.port}`;
    cleanups.push(() => broker.close());
    const chunks: string[] = [];
    const open = async () => {
      const states: LinkState[] = [];
      const link = createMqttLink({ url, topic: 'dev/p1/json', clientId: 'radscreen-link-test-p1', persistent: true });
      link.open({ data: (c) => void chunks.push(c.toString()), state: (state) => void states.push(state) });
      await until(() => states.at(-1) === 'online', 5000, 'online');
      return link;
    };
    const first = await open();
    await first.close();
    const dev = await mqtt.connectAsync(url, { protocolVersion: 4 });
    await dev.publishAsync('dev/p1/json', '{"while":"down"}', { qos: 1 });
    await dev.endAsync();
    const second = await open();
    cleanups.push(() => second.close());
    await until(() => chunks.length >= 1, 5000, 'the queued message');
    expect(chunks).toEqual(['{"while":"down"}']);
  });

  it('delivers each message as one data() call, goes offline with the broker and back online', async () => {
    let broker = await startBroker();
    const url = `mqtt://127.0.0.1:${broker.port}`;
    const states: { state: LinkState; detail: Record<string, unknown> }[] = [];
    const chunks: string[] = [];
    const link = createMqttLink({ url, topic: 'dev/+/json', backoff: { initialMs: 100, maxMs: 300 } });
    link.open({ data: (c) => void chunks.push(c.toString()), state: (state, detail) => void states.push({ state, detail }) });
    cleanups.push(async () => {
      await link.close();
      await broker.close();
    });
    await until(() => states.at(-1)?.state === 'online', 5000, 'online');
    expect(states[0]).toMatchObject({ state: 'connecting', detail: { url, topic: 'dev/+/json' } });

    const dev = await mqtt.connectAsync(url, { protocolVersion: 4 });
    const big = JSON.stringify({ pad: 'x'.repeat(100_000) });
    await dev.publishAsync('dev/a/json', '{\n"a": 1\n}', { qos: 1 });
    await dev.publishAsync('dev/b/json', big, { qos: 1 });
    await dev.publishAsync('other/topic', 'not for us', { qos: 1 });
    await dev.endAsync();
    await until(() => chunks.length >= 2, 5000, 'two messages');
    expect(chunks).toEqual(['{\n"a": 1\n}', big]);

    await expect(link.write(Buffer.from('x'))).rejects.toThrow(/read-only/);

    await broker.close();
    await until(() => states.some((s) => s.state === 'offline'), 5000, 'offline');
    broker = await startBroker(broker.port);
    const n = states.length;
    await until(() => states.slice(n).some((s) => s.state === 'online'), 10_000, 'online again');
  });

  it('publishes writes to the command topic when one is configured', async () => {
    const broker = await startBroker();
    const url = `mqtt://127.0.0.1:${broker.port}`;
    const watcher = await mqtt.connectAsync(url, { protocolVersion: 4 });
    const seen: string[] = [];
    watcher.on('message', (_t, p) => void seen.push(p.toString()));
    await watcher.subscribeAsync('dev/cmd', { qos: 1 });
    let online = false;
    const link = createMqttLink({ url, topic: 'dev/data', commandTopic: 'dev/cmd' });
    link.open({
      data: () => {},
      state: (s) => {
        online = s === 'online';
      },
    });
    cleanups.push(async () => {
      await link.close();
      await watcher.endAsync();
      await broker.close();
    });
    await until(() => online, 5000, 'online');
    await link.write(Buffer.from('reset'));
    await until(() => seen.length === 1, 5000, 'command');
    expect(seen).toEqual(['reset']);
  });
});
