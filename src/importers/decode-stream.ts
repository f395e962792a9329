import { z } from 'zod';
import type { ErrorCode, Reject } from '../core/errors.ts';
import { normaliseReading } from '../core/normalise.ts';
import type { SessionContext, SessionLogger } from '../core/profile.ts';
import type { Reading, Source } from '../core/reading.ts';
import { asNormaliserProfile, type DecodeSource } from './formats.ts';
import { createJsonMessageFramer } from './json-messages.ts';

/**
 * Offline decoding shared by `radscreen decode` and `radscreen import`: bytes from a file or
 * stdin go through the profile's own session (the code path the agent uses on a live port),
 * then through normaliseReading, exactly like live readings.
 */

/** Where the readings are said to come from. */
export interface DecodeOrigin {
  station: string;
  device: string;
  source: Source;
}

/** Totals of one run. `rejected` counts decoder rejects and readings the normaliser refused. */
export interface DecodeSummary {
  accepted: number;
  rejected: number;
  rejectsByCode: Partial<Record<ErrorCode, number>>;
  bytes: number;
}

export interface DecodeStreamOptions {
  source: DecodeSource;
  input: AsyncIterable<Buffer | string>;
  origin: DecodeOrigin;
  /** Already validated with validateOptions. */
  options: Record<string, unknown>;
  /** Decode the input as one file the device stored (profile.decodeFile) instead of a live stream. */
  stored?: boolean;
  /** Readings decoded from one input chunk, in order; awaited, so a slow consumer slows the reading. */
  onReadings(readings: Reading[]): Promise<void> | void;
  onReject?(r: Reject): void;
  /** Bytes consumed so far, after each chunk. */
  onProgress?(bytes: number): void;
  log?: SessionLogger;
  /** Agent clock for readings without a device time; default: wall clock, strictly increasing (see below). */
  now?: () => number;
}

const quiet: SessionLogger = { debug() {}, info() {}, warn() {} };

/** Checks `--option` values with the profile's own schema; no schema means no options allowed. */
export function validateOptions(
  source: DecodeSource,
  raw: Record<string, unknown>,
): { ok: true; options: Record<string, unknown> } | { ok: false; problems: string[] } {
  if (!source.optionsSchema) {
    const keys = Object.keys(raw);
    return keys.length === 0
      ? { ok: true, options: {} }
      : { ok: false, problems: [`${source.id} takes no options (got ${keys.join(', ')})`] };
  }
  const parsed = source.optionsSchema.safeParse(raw);
  if (parsed.success) return { ok: true, options: parsed.data };
  return { ok: false, problems: z.prettifyError(parsed.error).split('\n') };
}

/**
 * Agent time for a file replayed in one go. Plain Date.now() would stamp many lines with the same
 * millisecond, and equal identity means the later point overwrites the earlier in InfluxDB; so
 * each call returns at least 1 ms more than the last.
 */
export function createReplayClock(wall: () => number = Date.now): () => number {
  let last = 0;
  return () => {
    last = Math.max(wall(), last + 1);
    return last;
  };
}

/** Stream parsers inside sessions emit on a later tick; this lets them. */
const settle = () => new Promise<void>((r) => setImmediate(r));

/**
 * Decodes the whole input. The session is never started: offline there is no device to poll,
 * so request/response families (gq-gmc, radpro) decode only what their sessions accept unasked.
 * A decoder that throws is a bug, and propagates.
 */
export async function decodeStream(opts: DecodeStreamOptions): Promise<DecodeSummary> {
  const summary: DecodeSummary = { accepted: 0, rejected: 0, rejectsByCode: {}, bytes: 0 };
  const profile = asNormaliserProfile(opts.source);
  let pending: Reading[] = [];
  const countReject = (r: Reject) => {
    summary.rejected++;
    summary.rejectsByCode[r.code] = (summary.rejectsByCode[r.code] ?? 0) + 1;
    opts.onReject?.(r);
  };
  const ctx: SessionContext = {
    now: opts.now ?? createReplayClock(),
    write: () => Promise.reject(new Error('decode is offline: nothing can be sent to a device')),
    emit(decoded) {
      const out = normaliseReading(decoded, { ...opts.origin, profile });
      if ('reading' in out) {
        summary.accepted++;
        pending.push(out.reading);
      } else countReject(out.reject);
    },
    reject: countReject,
    options: opts.options,
    log: opts.log ?? quiet,
  };
  if (opts.stored) return decodeStoredFile(opts, ctx, summary, countReject, () => pending.splice(0));
  const session = opts.source.createSession(ctx);
  const drain = async () => {
    if (pending.length === 0) return;
    const batch = pending;
    pending = [];
    await opts.onReadings(batch);
  };
  // Message profiles (JSON over MQTT) get whole payloads, never 64 KiB slices (json-messages.ts).
  const messages =
    (opts.source as { link?: { type?: string } }).link?.type === 'mqtt' ? createJsonMessageFramer((m) => session.push(m)) : undefined;
  try {
    for await (const chunk of opts.input) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
      if (messages) messages.write(bytes);
      else session.push(bytes);
      summary.bytes += bytes.length;
      await settle();
      await drain();
      opts.onProgress?.(summary.bytes);
    }
    // A last line without its delimiter is still a line: the framer sees the end of input.
    if (messages) messages.end();
    else session.push(Buffer.from('\n'));
    await settle();
  } finally {
    session.stop();
  }
  await settle();
  await drain();
  return summary;
}

/** The `--stored` path: the whole input is one file, decoded by the profile's decodeFile. */
async function decodeStoredFile(
  opts: DecodeStreamOptions,
  ctx: SessionContext,
  summary: DecodeSummary,
  countReject: (r: Reject) => void,
  takePending: () => Reading[],
): Promise<DecodeSummary> {
  const decodeFile = opts.source.decodeFile;
  if (!decodeFile) throw new Error(`${opts.source.id} has no stored-file decoder; decode it as a stream (without --stored)`);
  const parts: Buffer[] = [];
  for await (const chunk of opts.input) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
    parts.push(bytes);
    summary.bytes += bytes.length;
    opts.onProgress?.(summary.bytes);
  }
  const result = decodeFile(Buffer.concat(parts), opts.options);
  for (const r of result.rejects) countReject(r);
  // Hand readings on in slices, so `import` shows progress and keeps its in-flight bound.
  for (let i = 0; i < result.readings.length; i += 1000) {
    for (const r of result.readings.slice(i, i + 1000)) ctx.emit(r);
    await opts.onReadings(takePending());
  }
  return summary;
}
