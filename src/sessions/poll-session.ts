import type { Reject } from '../core/errors.ts';
import { reject } from '../core/errors.ts';
import type { SessionContext } from '../core/profile.ts';

/**
 * How the reply to one request ends. Request/response devices (GQ GMC, Rad Pro) send replies
 * with no framing of their own, so the request decides where its reply ends. That is why this
 * helper matches bytes itself instead of using a @serialport/parser-*: the frame length
 * changes from one request to the next.
 */
export type ReplySpec =
  /** The device answers nothing (mode commands): the request completes once written. */
  | { kind: 'none' }
  /** Exactly `bytes` bytes. */
  | { kind: 'length'; bytes: number }
  /** Up to and including `terminator`; more than `maxBytes` without it is RS_ERR_FRAME_OVERSIZE. */
  | { kind: 'terminator'; terminator: Buffer; maxBytes: number }
  /** Variable length with no terminator: ends after `idleMs` of silence or at `maxBytes`. */
  | { kind: 'idle'; idleMs: number; maxBytes: number };

/** What a decode callback returns: a value, or a typed reject (never a throw). */
export type PollResult<T> = { ok: true; value: T } | { ok: false; reject: Reject };

export interface PollRequest<T> {
  /** Short name for logs and reject messages, e.g. `GETCPM`. */
  label: string;
  /** Bytes written to the device; strings are sent as latin1 so every byte survives. */
  command: Buffer | string;
  reply: ReplySpec;
  /** ms from the write until the whole reply must be in; no byte at all is RS_ERR_DEVICE_TIMEOUT. */
  timeoutMs: number;
  /** Pure: the reply bytes in, a value or a reject out. Not called for `none` replies. */
  decode(reply: Buffer): PollResult<T>;
}

/** The outcome of one request; failures have already been passed to `ctx.reject`. */
export type PollOutcome<T> = PollResult<T>;

export interface PollSessionOptions {
  /** Requests waiting behind the outstanding one; more are refused with RS_ERR_QUEUE_FULL. */
  maxQueue?: number;
  /**
   * ms to hold the next request back after one timed out or came back incomplete, so a late
   * answer lands in the flush instead of being read as the next request's reply. Default 0.
   */
  quietAfterTimeoutMs?: number;
}

/**
 * A request/response conversation over one byte stream. Requests run one at a time in FIFO
 * order; bytes from `push()` belong to the outstanding request. Bytes that arrive while none
 * is outstanding go to the unsolicited handler when one is set (a streaming mode such as the
 * GQ heartbeat), and are otherwise flushed, as are bytes still buffered when the next request
 * is written: stale replies and late answers must never be read as the next reply.
 */
export interface PollSession {
  /**
   * Queues a request. Resolves (never rejects) with the decoded value, or with a reject that was
   * already reported through `ctx.reject`; a timeout does not stop the session.
   */
  request<T>(req: PollRequest<T>): Promise<PollOutcome<T>>;
  /** Bytes from the transport, in whatever chunks they arrive. */
  push(chunk: Buffer): void;
  /** Where bytes go while no request is outstanding; `undefined` flushes them. */
  setUnsolicitedHandler(handler: ((chunk: Buffer) => void) | undefined): void;
  /** Requests queued or outstanding. */
  readonly pending: number;
  /** Clears timers and settles every queued request without reporting; idempotent. */
  stop(): void;
}

interface Job {
  req: PollRequest<unknown>;
  settle(outcome: PollOutcome<unknown>): void;
}

type PollContext = Pick<SessionContext, 'write' | 'reject' | 'log'>;

/** Creates a poll session on a `SessionContext`; see {@link PollSession}. */
export function createPollSession(ctx: PollContext, opts: PollSessionOptions = {}): PollSession {
  const maxQueue = opts.maxQueue ?? 32;
  const quietMs = opts.quietAfterTimeoutMs ?? 0;
  let holdoff: NodeJS.Timeout | undefined;
  const queue: Job[] = [];
  let current: Job | undefined;
  let buffer = Buffer.alloc(0);
  let deadline: NodeJS.Timeout | undefined;
  let idle: NodeJS.Timeout | undefined;
  let unsolicited: ((chunk: Buffer) => void) | undefined;
  let stopped = false;

  function clearTimers(): void {
    if (deadline) clearTimeout(deadline);
    if (idle) clearTimeout(idle);
    deadline = undefined;
    idle = undefined;
  }

  function flush(why: string): void {
    if (buffer.length === 0) return;
    ctx.log.debug({ bytes: buffer.length, hex: buffer.subarray(0, 64).toString('hex'), why }, 'flushed stray bytes');
    buffer = Buffer.alloc(0);
  }

  function finish(job: Job, outcome: PollOutcome<unknown>, late = false): void {
    if (current !== job) return;
    clearTimers();
    current = undefined;
    if (!outcome.ok) ctx.reject(outcome.reject);
    job.settle(outcome);
    if (late && quietMs > 0) {
      holdoff = setTimeout(() => {
        holdoff = undefined;
        next();
      }, quietMs);
      return;
    }
    next();
  }

  function complete(job: Job, reply: Buffer): void {
    let outcome: PollOutcome<unknown>;
    try {
      outcome = job.req.decode(reply);
    } catch (err) {
      // A decoder bug must not wedge the queue: count it like any malformed frame.
      outcome = { ok: false, reject: reject('RS_ERR_FRAME_SYNTAX', `${job.req.label}: decoder threw: ${String(err)}`, reply) };
    }
    finish(job, outcome);
  }

  function onDeadline(job: Job): void {
    const got = buffer;
    buffer = Buffer.alloc(0);
    if (got.length === 0) {
      finish(
        job,
        { ok: false, reject: reject('RS_ERR_DEVICE_TIMEOUT', `${job.req.label}: no reply within ${job.req.timeoutMs} ms`) },
        true,
      );
    } else if (job.req.reply.kind === 'idle') {
      complete(job, got);
    } else {
      finish(
        job,
        {
          ok: false,
          reject: reject('RS_ERR_FRAME_TRUNCATED', `${job.req.label}: reply incomplete after ${job.req.timeoutMs} ms`, got),
        },
        true,
      );
    }
  }

  /** Checks whether the buffer now holds the outstanding reply; extra bytes are flushed. */
  function match(): void {
    const job = current;
    if (!job) return;
    const spec = job.req.reply;
    let end = -1;
    if (spec.kind === 'length') {
      if (buffer.length >= spec.bytes) end = spec.bytes;
    } else if (spec.kind === 'terminator') {
      const at = buffer.indexOf(spec.terminator);
      if (at !== -1) end = at + spec.terminator.length;
      else if (buffer.length > spec.maxBytes) {
        const raw = buffer.subarray(0, 64);
        buffer = Buffer.alloc(0);
        finish(job, {
          ok: false,
          reject: reject('RS_ERR_FRAME_OVERSIZE', `${job.req.label}: no terminator within ${spec.maxBytes} bytes`, raw),
        });
        return;
      }
    } else if (spec.kind === 'idle') {
      if (buffer.length >= spec.maxBytes) end = spec.maxBytes;
      else if (buffer.length > 0) {
        if (idle) clearTimeout(idle);
        idle = setTimeout(() => {
          const got = buffer;
          buffer = Buffer.alloc(0);
          complete(job, got);
        }, spec.idleMs);
      }
    }
    if (end === -1) return;
    const reply = buffer.subarray(0, end);
    buffer = buffer.subarray(end);
    flush(`extra bytes after the ${job.req.label} reply`);
    complete(job, reply);
  }

  function next(): void {
    if (stopped || current || holdoff) return;
    const job = queue.shift();
    if (!job) return;
    current = job;
    flush(`before ${job.req.label}`);
    const bytes = typeof job.req.command === 'string' ? Buffer.from(job.req.command, 'latin1') : job.req.command;
    if (job.req.reply.kind !== 'none') deadline = setTimeout(() => onDeadline(job), job.req.timeoutMs);
    ctx.write(bytes).then(
      () => {
        if (job.req.reply.kind === 'none') finish(job, { ok: true, value: undefined });
      },
      (err: unknown) => {
        // The port is gone or refused the write: to the caller that is a device that did not answer.
        finish(job, { ok: false, reject: reject('RS_ERR_DEVICE_TIMEOUT', `${job.req.label}: write failed: ${String(err)}`) });
      },
    );
  }

  return {
    request<T>(req: PollRequest<T>): Promise<PollOutcome<T>> {
      if (stopped) return Promise.resolve({ ok: false, reject: reject('RS_ERR_DEVICE_TIMEOUT', `${req.label}: session stopped`) });
      if (queue.length >= maxQueue) {
        const r = reject('RS_ERR_QUEUE_FULL', `${req.label}: ${maxQueue} requests already queued`);
        ctx.reject(r);
        return Promise.resolve({ ok: false, reject: r });
      }
      return new Promise((resolve) => {
        queue.push({ req: req as PollRequest<unknown>, settle: resolve as (o: PollOutcome<unknown>) => void });
        next();
      });
    },
    push(chunk) {
      if (stopped || chunk.length === 0) return;
      // A `none` request expects nothing back, so what arrives meanwhile is unsolicited too.
      if (!current || current.req.reply.kind === 'none') {
        if (unsolicited) unsolicited(chunk);
        else {
          buffer = Buffer.concat([buffer, chunk]);
          flush('no request outstanding');
        }
        return;
      }
      buffer = Buffer.concat([buffer, chunk]);
      match();
    },
    setUnsolicitedHandler(handler) {
      unsolicited = handler;
    },
    get pending() {
      return queue.length + (current ? 1 : 0);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      clearTimers();
      if (holdoff) clearTimeout(holdoff);
      const settled = reject('RS_ERR_DEVICE_TIMEOUT', 'session stopped');
      const jobs = current ? [current, ...queue] : [...queue];
      current = undefined;
      queue.length = 0;
      buffer = Buffer.alloc(0);
      for (const job of jobs) job.settle({ ok: false, reject: settled });
    },
  };
}
