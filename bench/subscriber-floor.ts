/**
 * The least CPU any durable ingest can spend on a one-reading QoS 1 message, for `npm run
 * bench:peer`: a subscriber that parses each payload and acknowledges it only at the end of the
 * event-loop turn, as an ingest that commits before it acknowledges must, and does nothing else
 * (no validation, no spool, no InfluxDB). Two ways:
 *
 *   node bench/subscriber-floor.js mqttjs   URL FILTER COUNT CONNECTIONS
 *   node bench/subscriber-floor.js handmade URL FILTER COUNT
 *
 * - `mqttjs`: what radscreen's ingest uses (src/ingest/connections.ts): mqtt.js, MQTT 5, N
 *   connections on one shared subscription, each message's `done` held to the end of the turn.
 *   mqtt.js reads a connection's next message only after `done`, so each turn takes one message
 *   per connection and writes one PUBACK per message.
 * - `handmade`: one connection spoken by hand with mqtt-packet's parser (MQTT 3.1.1), every
 *   message of a turn taken at once and their PUBACKs written in one socket write. No library
 *   does that (mqtt.js serialises messages, see above), so this is hand-written, for this
 *   measurement only: it shows what replacing mqtt.js could save at most. No reconnect, no
 *   keep-alive, no TLS: not something to run a station on.
 *
 * Prints `ready` once subscribed and `done` once COUNT messages arrived.
 */
import net from 'node:net';
import mqtt from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { createGroupCommit } from '../src/queue/group-commit.ts';

const [mode, url, filter, countArg, connectionsArg] = process.argv.slice(2);
if ((mode !== 'mqttjs' && mode !== 'handmade') || !url || !filter || !countArg)
  throw new Error('usage: subscriber-floor.js mqttjs|handmade URL FILTER COUNT [CONNECTIONS]');
const count = Number(countArg);
let received = 0;
const failed = (err: Error) => {
  throw err;
};
const receive = (payload: Buffer) => {
  JSON.parse(payload.toString());
  if (++received === count) process.stdout.write('done\n');
};

if (mode === 'mqttjs') {
  const connections = Number(connectionsArg ?? 8);
  // The ingest's own per-turn batching (src/ingest/consumer.ts), with nothing to commit.
  const turn = createGroupCommit<undefined>(() => {}, failed, false);
  await Promise.all(
    Array.from({ length: connections }, async (_, i) => {
      const c = await mqtt.connectAsync(url, { protocolVersion: 5, clientId: `bench-floor-${i}`, properties: { receiveMaximum: 32 } });
      c.handleMessage = (packet, done) => {
        receive(packet.payload as Buffer);
        turn.hold(undefined, done);
      };
      await c.subscribeAsync(`$share/bench-floor/${filter}`, { qos: 1 });
    }),
  );
  process.stdout.write('ready\n');
} else {
  const { port, hostname } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  socket.setNoDelay(true);
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  // The same per-turn batching; its "commit" is one socket write of the turn's PUBACKs.
  const turn = createGroupCommit<number>(
    (ids) => {
      // PUBACK (MQTT 3.1.1 §3.4): 0x40, remaining length 2, packet id.
      const out = Buffer.allocUnsafe(ids.length * 4);
      for (const [k, id] of ids.entries()) out.writeUInt32BE(0x40020000 | id, k * 4);
      socket.write(out);
    },
    failed,
    false,
  );
  parser.on('packet', (p) => {
    if (p.cmd === 'connack')
      socket.write(mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: filter, qos: 1 }] }));
    else if (p.cmd === 'suback') process.stdout.write('ready\n');
    else if (p.cmd === 'publish') {
      receive(p.payload as Buffer);
      if (p.qos === 1 && p.messageId !== undefined) turn.hold(p.messageId, () => {});
    }
  });
  parser.on('error', (err) => {
    throw err;
  });
  socket.on('data', (chunk) => parser.parse(chunk));
  socket.write(
    mqttPacket.generate({
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: 4,
      clean: true,
      clientId: 'bench-floor-handmade',
      keepalive: 0,
    }),
  );
}
