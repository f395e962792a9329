import { reject } from '../../src/core/errors.ts';
import type { SessionContext } from '../../src/core/profile.ts';
import type { PollSession } from '../../src/sessions/poll-session.ts';
import { decodeCps } from './decode.ts';
import type { ModelInfo } from './models.ts';

/** One sample a second; silence this long means the stream is lost (§1.5: > ~2 s) (ms). */
export const HEARTBEAT_SILENCE_MS = 3000;

/**
 * Samples have no framing, only a byte count. Bytes of one sample arrive together, so a partial
 * sample still waiting this long after its first byte is a lost byte: drop it and realign (ms).
 */
export const HEARTBEAT_REALIGN_MS = 500;

/** The device's CPM is the count of the last 60 s: the same window over heartbeat CPS. */
export const CPM_WINDOW = 60;

export interface HeartbeatOptions {
  model: ModelInfo;
  toDoseRate(cpm: number): number;
  timeoutMs: number;
  /** Wait after `<HEARTBEAT0>>` before restarting, for a sample already in flight (ms). */
  drainMs: number;
}

/**
 * Sends `<HEARTBEAT1>>` (a mode command, sent only because the config asked for heartbeat mode)
 * and turns the stream into readings: `cps` every second, `cpm` as the sum of the last 60 s
 * (scaled up, and `suspect`, until 60 samples are in) and `dose_rate` from it. A silent stream is
 * a timeout reject and is restarted with HEARTBEAT0, a drain and HEARTBEAT1. Returns a stop
 * function that also sends `<HEARTBEAT0>>`, leaving the unit as it was found.
 */
export function startHeartbeat(ctx: SessionContext, poll: PollSession, opts: HeartbeatOptions): () => void {
  const width = opts.model.countBytes;
  const window: number[] = [];
  let partial = Buffer.alloc(0);
  let partialSince = 0;
  let lastSampleAt = ctx.now();
  let restarting = false;
  let stopped = false;

  const command = (label: string) =>
    poll.request({
      label,
      command: `<${label}>>`,
      reply: { kind: 'none' },
      timeoutMs: opts.timeoutMs,
      decode: () => ({ ok: true, value: undefined }),
    });

  function onBytes(chunk: Buffer): void {
    const now = ctx.now();
    if (partial.length > 0 && now - partialSince > HEARTBEAT_REALIGN_MS) {
      ctx.reject(reject('RS_ERR_FRAME_TRUNCATED', `heartbeat sample cut short after ${partial.length} bytes; realigned`, partial));
      partial = Buffer.alloc(0);
    }
    if (partial.length === 0) partialSince = now;
    let data = Buffer.concat([partial, chunk]);
    while (data.length >= width) {
      const sample = decodeCps(data.subarray(0, width), opts.model);
      data = data.subarray(width);
      partialSince = now;
      if (!sample.ok) {
        ctx.reject(sample.reject);
        continue;
      }
      lastSampleAt = now;
      window.push(sample.value);
      if (window.length > CPM_WINDOW) window.shift();
      const sum = window.reduce((a, b) => a + b, 0);
      const cpm = Math.round((sum * CPM_WINDOW) / window.length);
      ctx.emit({
        ts: now,
        ts_source: 'agent',
        values: { cps: sample.value, cpm, dose_rate: opts.toDoseRate(cpm) },
        quality: window.length < CPM_WINDOW ? 'suspect' : 'good',
      });
    }
    partial = Buffer.from(data);
  }

  async function restart(): Promise<void> {
    restarting = true;
    poll.setUnsolicitedHandler(undefined);
    await command('HEARTBEAT0');
    await new Promise((resolve) => setTimeout(resolve, opts.drainMs));
    if (stopped) return;
    partial = Buffer.alloc(0);
    poll.setUnsolicitedHandler(onBytes);
    await command('HEARTBEAT1');
    lastSampleAt = ctx.now();
    restarting = false;
  }

  const watchdog = setInterval(() => {
    const silent = ctx.now() - lastSampleAt;
    if (stopped || restarting || silent <= HEARTBEAT_SILENCE_MS) return;
    ctx.reject(reject('RS_ERR_DEVICE_TIMEOUT', `no heartbeat for ${Math.round(silent)} ms; restarting the stream`));
    restart().catch((err: unknown) => ctx.log.warn({ err: String(err) }, 'heartbeat restart failed'));
  }, 1000);

  poll.setUnsolicitedHandler(onBytes);
  command('HEARTBEAT1').then(() => {
    lastSampleAt = ctx.now();
  });

  return () => {
    if (stopped) return;
    stopped = true;
    clearInterval(watchdog);
    poll.setUnsolicitedHandler(undefined);
    ctx.write('<HEARTBEAT0>>').catch(() => {});
  };
}
