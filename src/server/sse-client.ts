import type { ServerResponse } from 'node:http';

/** Bounds on one live stream; see docs/security-web.md "Live stream". */
export interface StreamLimits {
  /** Open streams at most; one more is refused with 503 RS_ERR_SSE_LIMIT. */
  maxStreams: number;
  /** Bytes queued in this process for one stream (`writableLength`) before the client is dropped. */
  bufferBytes: number;
  /** How long, ms, one stream may stay blocked (write() returned false, no 'drain' since) before it is dropped. */
  stallMs: number;
}

/** Defaults when the config does not say: 100 streams, 1 MiB, 30 s. */
export const DEFAULT_STREAM_LIMITS: StreamLimits = { maxStreams: 100, bufferBytes: 1_048_576, stallMs: 30_000 };

/** One SSE event as written on the wire. */
export function formatEvent(name: string, data: unknown): string {
  return `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** Why a client was dropped: it fell behind by bytes or stayed blocked too long. */
export type DropReason = 'buffer' | 'stall';

/**
 * One SSE response with backpressure. Every write goes through `send`; a client whose queue
 * passes `bufferBytes`, or whose socket stays blocked longer than `stallMs` (checked on each
 * send and by `checkStall`), is destroyed at once, so its queued data is freed instead of
 * growing with every event. The socket is destroyed rather than ended: ending would wait for
 * the same queue to drain, which a client that never reads never lets happen.
 */
export class SseClient {
  readonly #res: ServerResponse;
  readonly #limits: StreamLimits;
  readonly #now: () => number;
  readonly #onDrop: (reason: DropReason, queuedBytes: number) => void;
  /** Since when write() has returned false without a 'drain'; undefined while the socket keeps up. */
  #blockedSince: number | undefined;
  #closed = false;
  /** Extra queue allowed for the snapshot, so a large station's first event does not drop every client at once. */
  #slackBytes = 0;

  constructor(
    res: ServerResponse,
    opts: { limits: StreamLimits; now: () => number; onDrop: (reason: DropReason, queuedBytes: number) => void },
  ) {
    this.#res = res;
    this.#limits = opts.limits;
    this.#now = opts.now;
    this.#onDrop = opts.onDrop;
    res.on('drain', () => {
      this.#blockedSince = undefined;
    });
    res.on('close', () => {
      this.#closed = true;
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Writes a raw chunk unless the client is gone; drops the client when it is too far behind.
   * `initial` (the snapshot) raises the byte bound by its own size for the rest of the stream.
   */
  send(chunk: string, opts: { initial?: boolean } = {}): void {
    if (this.#closed) return;
    if (opts.initial) this.#slackBytes += Buffer.byteLength(chunk);
    if (!this.#res.write(chunk)) this.#blockedSince ??= this.#now();
    if (this.#res.writableLength > this.#limits.bufferBytes + this.#slackBytes) this.drop('buffer');
    else this.checkStall();
  }

  /** `event: <name>` with JSON data. */
  event(name: string, data: unknown, opts: { initial?: boolean } = {}): void {
    this.send(formatEvent(name, data), opts);
  }

  /** Drops the client when its socket has been blocked longer than `stallMs`. */
  checkStall(): void {
    if (this.#closed || this.#blockedSince === undefined) return;
    if (this.#now() - this.#blockedSince > this.#limits.stallMs) this.drop('stall');
  }

  /** Destroys the socket: frees what was queued; the client's EventSource reconnects and gets a fresh snapshot. */
  drop(reason: DropReason): void {
    if (this.#closed) return;
    const queued = this.#res.writableLength;
    this.#closed = true;
    this.#onDrop(reason, queued);
    this.#res.destroy();
  }

  /** Ends the stream for shutdown without waiting for a client that does not read. */
  close(): void {
    this.#closed = true;
    this.#res.destroy();
  }
}
