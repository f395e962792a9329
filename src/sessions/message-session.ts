import type { Reject } from '../core/errors.ts';
import { reject } from '../core/errors.ts';
import type { DeviceSession, SessionContext } from '../core/profile.ts';
import type { DecodedReading } from '../core/reading.ts';

/** What a message decoder says about one payload: readings, nothing (logged), or a reject. */
export type MessageResult = { readings: DecodedReading[] } | { ignored: string } | { reject: Reject };

export interface MessageSessionOptions {
  /** Payloads longer than this are rejected unread (RS_ERR_FRAME_OVERSIZE); default 64 KiB. */
  maxBytes?: number;
  /** Pure: one whole payload and the agent's receive time (ms since the epoch) in, a result out. */
  decodeMessage(payload: Buffer, receivedAt: number): MessageResult;
}

/**
 * A session for devices whose transport delivers whole messages (MQTT): every `push` is one
 * payload, so there is no framer. This relies on the MQTT link's contract of one `data()` call
 * per message (src/transports/mqtt-link.ts); on a byte stream it would be wrong.
 */
export function createMessageSession(ctx: SessionContext, opts: MessageSessionOptions): DeviceSession {
  const maxBytes = opts.maxBytes ?? 65_536;
  let stopped = false;
  return {
    push(payload) {
      if (stopped) return;
      if (payload.length > maxBytes) {
        ctx.reject(reject('RS_ERR_FRAME_OVERSIZE', `payload of ${payload.length} bytes exceeds ${maxBytes}`, payload.subarray(0, 64)));
        return;
      }
      const result = opts.decodeMessage(payload, ctx.now());
      if ('readings' in result) for (const r of result.readings) ctx.emit(r);
      else if ('reject' in result) ctx.reject(result.reject);
      else ctx.log.debug({ reason: result.ignored }, 'ignored message');
    },
    stop() {
      stopped = true;
    },
  };
}

/**
 * Parses a JSON device payload, or says why not (RS_ERR_PAYLOAD_JSON, with the first 256 bytes
 * kept for the hex dump). Every JSON profile starts here, so they reject alike.
 */
export function parseJsonPayload(payload: Buffer): { body: unknown } | { reject: Reject } {
  try {
    return { body: JSON.parse(payload.toString('utf8')) };
  } catch {
    return { reject: reject('RS_ERR_PAYLOAD_JSON', 'payload is not JSON', payload.subarray(0, 256)) };
  }
}
