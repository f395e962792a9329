import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createPacketSizeGuard, guardConnection, PacketTooLargeError } from '../../src/station/packet-size-guard.ts';

/** Feeds `bytes` to a fresh guard in chunks of `size`; resolves with what passed or the error. */
async function feed(bytes: Buffer, max: number, size: number): Promise<{ out: Buffer; err?: Error }> {
  const guard = createPacketSizeGuard(max);
  const chunks: Buffer[] = [];
  guard.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Error | undefined>((resolve) => {
    guard.on('error', (e) => resolve(e));
    guard.on('finish', () => resolve(undefined));
  });
  for (let i = 0; i < bytes.length; i += size) if (!guard.write(bytes.subarray(i, i + size))) break;
  guard.end();
  const err = await done;
  return { out: Buffer.concat(chunks), ...(err ? { err } : {}) };
}

/** MQTT 3.1.1 §2.2.3: the remaining length, 7 bits a byte, low group first, high bit = more. */
function remainingLength(n: number): Buffer {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
}
const packet = (header: number, body: Buffer) => Buffer.concat([Buffer.from([header]), remainingLength(body.length), body]);
const TOPIC = Buffer.from('radscreen/v1/s/d/readings');
/** A QoS 0 PUBLISH (0x30): topic length, topic, payload. */
const publish = (payloadBytes: number) =>
  packet(0x30, Buffer.concat([Buffer.from([TOPIC.length >> 8, TOPIC.length & 0xff]), TOPIC, Buffer.alloc(payloadBytes, 0x61)]));
const pingreq = () => packet(0xc0, Buffer.alloc(0));
const disconnect = () => packet(0xe0, Buffer.alloc(0));

const stream = Buffer.concat([
  pingreq(),
  publish(10),
  publish(200), // a 2-byte remaining length
  publish(20_000), // a 3-byte remaining length
  disconnect(),
]);

describe('MQTT packet size guard', () => {
  it.each([1, 2, 3, 7, 128, 65_536])('passes packets within the bound through unchanged, in chunks of %i bytes', async (size) => {
    const { out, err } = await feed(stream, 32 * 1024, size);
    expect(err).toBeUndefined();
    expect(out.equals(stream)).toBe(true);
  });

  it.each([1, 2, 3, 4096])('fails on the header of an oversized packet split into %i-byte chunks, before its body', async (size) => {
    const big = publish(40_000);
    const { out, err } = await feed(Buffer.concat([publish(10), big]), 32 * 1024, size);
    expect(err).toBeInstanceOf(PacketTooLargeError);
    expect((err as PacketTooLargeError).bytes).toBe(big.length);
    // Nothing of the big packet's body got through, at most the chunk holding its header.
    expect(out.length).toBeLessThan(publish(10).length + Math.max(size, 4) + 1);
  });

  it('a connection behind the guard is destroyed on an oversized packet, and reported once', async () => {
    const socket = new PassThrough();
    const reports: number[] = [];
    const conn = guardConnection(socket, 1024, (e) => reports.push(e.bytes));
    conn.on('error', () => {});
    socket.write(publish(5000));
    await new Promise((r) => socket.once('close', r));
    expect(reports).toEqual([publish(5000).length]);
    expect(socket.destroyed).toBe(true);
  });
});
