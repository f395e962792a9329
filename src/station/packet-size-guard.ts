import { Duplex, Transform, type TransformCallback } from 'node:stream';
import { MAX_READINGS_PAYLOAD_BYTES } from '../core/reading-contract.ts';

/**
 * Default bound on one MQTT packet (fixed header + topic + payload), bytes: the largest readings
 * payload the contract accepts (1 MiB: the agent coalesces up to 1000 readings into one message
 * when it replays a backlog) plus 64 KiB for the topic and headers. A smaller bound would make
 * the broker cut off the agent's own backlog messages, and the agent would resend them forever.
 */
export const DEFAULT_MAX_PACKET_BYTES = MAX_READINGS_PAYLOAD_BYTES + 64 * 1024;

/** The error a too-large packet ends its connection with. */
export class PacketTooLargeError extends Error {
  readonly code = 'RS_ERR_PAYLOAD_TOO_LARGE';
  constructor(
    readonly bytes: number,
    readonly max: number,
  ) {
    super(`MQTT packet of ${bytes} bytes exceeds the broker's maximum of ${max}`);
  }
}

/**
 * Watches the MQTT framing of an inbound byte stream (MQTT 3.1.1 §2.2: one header byte, then a
 * 1–4 byte variable-length "remaining length") and fails as soon as a header announces a packet
 * larger than `maxBytes`, before the body arrives. aedes has no size bound of its own: its
 * parser would buffer a 10 MB packet whole before anything could refuse it.
 */
export function createPacketSizeGuard(maxBytes: number): Transform {
  let state: 'header' | 'length' | 'body' = 'header';
  let remaining = 0;
  let multiplier = 1;
  let lengthBytes = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      let i = 0;
      while (i < chunk.length) {
        if (state === 'header') {
          i++;
          state = 'length';
          remaining = 0;
          multiplier = 1;
          lengthBytes = 0;
        } else if (state === 'length') {
          const b = chunk[i++] as number;
          remaining += (b & 0x7f) * multiplier;
          multiplier *= 128;
          lengthBytes++;
          if (b & 0x80 && lengthBytes < 4) continue;
          const total = 1 + lengthBytes + remaining;
          if (total > maxBytes) return done(new PacketTooLargeError(total, maxBytes));
          state = remaining > 0 ? 'body' : 'header';
        } else {
          const take = Math.min(remaining, chunk.length - i);
          i += take;
          remaining -= take;
          if (remaining === 0) state = 'header';
        }
      }
      done(null, chunk);
    },
  });
}

/**
 * The socket as aedes sees it: reads pass through the guard, writes go straight to the socket.
 * A refused packet destroys the socket, so the client is gone before its body is buffered.
 */
export function guardConnection(socket: Duplex, maxBytes: number, onTooLarge: (e: PacketTooLargeError) => void): Duplex {
  const guard = createPacketSizeGuard(maxBytes);
  guard.on('error', (e) => {
    if (e instanceof PacketTooLargeError) onTooLarge(e);
    socket.destroy();
  });
  socket.pipe(guard);
  const conn = Duplex.from({ readable: guard, writable: socket });
  socket.on('close', () => conn.destroy());
  conn.on('error', () => socket.destroy());
  conn.on('close', () => socket.destroy());
  return conn;
}
