import { DelimiterParser } from '@serialport/parser-delimiter';
import type { Reject } from '../core/errors.ts';
import { reject } from '../core/errors.ts';
import type { DeviceSession, SessionContext } from '../core/profile.ts';
import type { DecodedReading } from '../core/reading.ts';

/** What a line decoder says about one line: readings, nothing (a banner), or a reject. */
export type LineResult = { readings: DecodedReading[] } | { ignored: string } | { reject: Reject };

export interface LineSessionOptions {
  /** Byte sequence that ends a line; a trailing `\r` is stripped too, since firmware sends CRLF. */
  delimiter?: string;
  /** Longest line accepted; longer garbage is rejected as RS_ERR_FRAME_OVERSIZE and dropped. */
  maxLineBytes?: number;
  /** Pure: one line (latin1, so every byte survives) in, a result out. */
  decodeLine(line: string, raw: Buffer): LineResult;
  onStart?(): void;
  onStop?(): void;
}

/**
 * A session for devices that stream text lines. Framing is @serialport/parser-delimiter on
 * Buffers, not the readline parser's UTF-8 strings, which mangle non-ASCII bytes.
 */
export function createLineSession(ctx: SessionContext, opts: LineSessionOptions): DeviceSession {
  const delimiter = Buffer.from(opts.delimiter ?? '\n', 'latin1');
  const maxLineBytes = opts.maxLineBytes ?? 512;
  let parser = newParser();
  let pending = 0;
  let stopped = false;

  function newParser(): DelimiterParser {
    const p = new DelimiterParser({ delimiter });
    p.on('data', (frame: Buffer) => handleFrame(frame));
    return p;
  }

  function handleFrame(frame: Buffer): void {
    const raw = frame.length > 0 && frame[frame.length - 1] === 0x0d ? frame.subarray(0, -1) : frame;
    if (raw.length === 0) return;
    if (raw.length > maxLineBytes) {
      ctx.reject(reject('RS_ERR_FRAME_OVERSIZE', `no line end within ${maxLineBytes} bytes`, raw.subarray(0, 64)));
      return;
    }
    const result = opts.decodeLine(raw.toString('latin1'), raw);
    if ('readings' in result) for (const r of result.readings) ctx.emit(r);
    else if ('reject' in result) ctx.reject(result.reject);
    else ctx.log.debug({ line: result.ignored }, 'ignored line');
  }

  return {
    push(chunk) {
      if (stopped) return;
      parser.write(chunk);
      const last = chunk.lastIndexOf(delimiter);
      pending = last === -1 ? pending + chunk.length : chunk.length - last - delimiter.length;
      if (pending > maxLineBytes) {
        // Retire the parser: ending it flushes the overlong remainder as one frame, which
        // handleFrame rejects, after any good lines still queued in it. The next bytes start clean.
        parser.end();
        parser = newParser();
        pending = 0;
      }
    },
    start() {
      opts.onStart?.();
    },
    stop() {
      if (stopped) return;
      stopped = true;
      opts.onStop?.();
      parser.destroy();
    },
  };
}
