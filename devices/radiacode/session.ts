import { reject } from '../../src/core/errors.ts';
import type { DeviceSession, SessionContext } from '../../src/core/profile.ts';
import { decodeDataBuf } from './databuf.ts';
import {
  COMMAND,
  EXCHANGE_ARGS,
  encodeRequest,
  firmwareSupported,
  isReject,
  MAX_BODY_BYTES,
  parseResponseBody,
  parseVersion,
  parseVirtualString,
  readStringArgs,
  seqByte,
  specFormatVersion,
  VS,
} from './protocol.ts';
import { decodeEnergyCalibration, decodeSpectrum, type RadiacodeSpectrum } from './spectrum.ts';

export interface RadiacodeSessionOptions {
  /** ms between DATA_BUF reads (the device logs RealTimeData about once a second). */
  pollIntervalMs: number;
  /** ms between spectrum reads; 0 reads none. */
  spectrumIntervalMs: number;
  /** ms from a request until its whole reply must be in. */
  timeoutMs: number;
  /** Every spectrum read, decoded (the canonical reading carries only its summary). */
  onSpectrum?: (spectrum: RadiacodeSpectrum, receivedAt: number) => void;
}

/**
 * The RadiaCode conversation over a byte stream: one request at a time, each reply a `u32 LE
 * length` + body whose header must echo the request's command and sequence byte.
 *
 * Hand-written framing, not src/sessions/poll-session.ts: that helper knows replies of fixed
 * length, by terminator or by silence, and a length-prefixed reply is none of these; no
 * @serialport/parser-* reads a bare length prefix either (parser-packet-length needs a start byte).
 *
 * Read-only like every family: the session never sets the clock, the time base, alarms or
 * calibration (the public library's SET_TIME and DEVICE_TIME writes are left out). SET_EXCHANGE is
 * sent first, as the public library does (what it sets is not publicly documented).
 */
export function createRadiacodeSession(ctx: SessionContext, opts: RadiacodeSessionOptions): DeviceSession {
  let n = 0;
  let buffer = Buffer.alloc(0);
  let current: { command: number; seq: number; label: string; settle(payload: Buffer | undefined): void } | undefined;
  let deadline: NodeJS.Timeout | undefined;
  let nextCycle: NodeJS.Timeout | undefined;
  let stopped = false;
  let started = false;
  let format = 0;
  let model: string | undefined;
  let lastSpectrumAt = Number.NEGATIVE_INFINITY;

  function settle(payload: Buffer | undefined): void {
    const job = current;
    if (!job) return;
    if (deadline) clearTimeout(deadline);
    deadline = undefined;
    current = undefined;
    buffer = Buffer.alloc(0);
    job.settle(payload);
  }

  /** Sends one request; resolves with the reply payload, or undefined after reporting why not. */
  function request(command: number, label: string, args?: Buffer): Promise<Buffer | undefined> {
    if (stopped) return Promise.resolve(undefined);
    const seq = seqByte(n++);
    return new Promise((resolve) => {
      current = { command, seq, label, settle: resolve };
      buffer = Buffer.alloc(0);
      deadline = setTimeout(() => {
        ctx.reject(
          buffer.length === 0
            ? reject('RS_ERR_DEVICE_TIMEOUT', `${label}: no reply within ${opts.timeoutMs} ms`)
            : reject('RS_ERR_FRAME_TRUNCATED', `${label}: reply incomplete after ${opts.timeoutMs} ms`, buffer.subarray(0, 64)),
        );
        settle(undefined);
      }, opts.timeoutMs);
      ctx.write(encodeRequest(command, seq, args)).catch(() => undefined); // a lost port shows as a timeout
    });
  }

  function onBytes(): void {
    const job = current;
    if (!job || buffer.length < 4) return;
    const length = buffer.readUInt32LE(0);
    if (length < 4 || length > MAX_BODY_BYTES) {
      ctx.reject(
        reject('RS_ERR_FRAME_OVERSIZE', `${job.label}: frame length ${length} outside 4…${MAX_BODY_BYTES}`, buffer.subarray(0, 64)),
      );
      settle(undefined);
      return;
    }
    if (buffer.length < 4 + length) return;
    if (buffer.length > 4 + length) ctx.log.debug({ bytes: buffer.length - 4 - length }, 'flushed bytes after a reply');
    const parsed = parseResponseBody(buffer.subarray(4, 4 + length));
    if (isReject(parsed)) ctx.reject(parsed);
    else if (parsed.command !== job.command || parsed.seq !== job.seq) {
      ctx.reject(
        reject(
          'RS_ERR_FRAME_UNKNOWN',
          `${job.label}: reply echoes command 0x${parsed.command.toString(16)} seq 0x${parsed.seq.toString(16)}, expected 0x${job.command.toString(16)} seq 0x${job.seq.toString(16)}`,
          buffer.subarray(0, 16),
        ),
      );
    } else {
      settle(Buffer.from(parsed.payload));
      return;
    }
    settle(undefined);
  }

  async function readString(id: number, label: string): Promise<Buffer | undefined> {
    const payload = await request(COMMAND.RD_VIRT_STRING, label, readStringArgs(id));
    if (!payload) return undefined;
    const data = parseVirtualString(id, payload);
    if (isReject(data)) {
      ctx.reject(data);
      return undefined;
    }
    return data;
  }

  async function begin(): Promise<boolean> {
    if (!(await request(COMMAND.SET_EXCHANGE, 'SET_EXCHANGE', EXCHANGE_ARGS))) return false;
    const versionPayload = await request(COMMAND.GET_VERSION, 'GET_VERSION');
    const version = versionPayload ? parseVersion(versionPayload) : undefined;
    if (isReject(version)) ctx.reject(version);
    else if (version && !firmwareSupported(version))
      // Not refused: the records this session reads may still decode, and what does not is rejected per frame.
      ctx.log.warn(
        { firmware: `${version.target.major}.${version.target.minor}` },
        'RadiaCode firmware older than 4.8: the public protocol notes do not cover it; update the device firmware',
      );
    const serial = await readString(VS.SERIAL_NUMBER, 'SERIAL_NUMBER');
    const config = await readString(VS.CONFIGURATION, 'CONFIGURATION');
    if (config) {
      format = specFormatVersion(config);
      model = /DeviceModel=([^\r\n]+)/.exec(config.toString('latin1'))?.[1];
    }
    const calib = await readString(VS.ENERGY_CALIB, 'ENERGY_CALIB');
    const calibration = calib ? decodeEnergyCalibration(calib) : undefined;
    if (isReject(calibration)) ctx.reject(calibration);
    const firmware = version && !isReject(version) ? `${version.target.major}.${version.target.minor}` : undefined;
    ctx.log.info({ serial: serial?.toString('latin1'), firmware, specFormatVersion: format, calibration }, 'RadiaCode connected');
    return true;
  }

  async function pollOnce(): Promise<void> {
    const data = await readString(VS.DATA_BUF, 'DATA_BUF');
    if (data) {
      const { readings, rejects } = decodeDataBuf(data, ctx.now());
      for (const r of readings) ctx.emit(r);
      for (const r of rejects) ctx.reject(r);
    }
    const now = ctx.now();
    if (opts.spectrumIntervalMs <= 0 || now - lastSpectrumAt < opts.spectrumIntervalMs) return;
    lastSpectrumAt = now;
    const raw = await readString(VS.SPECTRUM, 'SPECTRUM');
    if (!raw) return;
    const spectrum = decodeSpectrum(raw, format);
    if (isReject(spectrum)) {
      ctx.reject(spectrum);
      return;
    }
    const total = spectrum.counts.reduce((a, b) => a + b, 0);
    ctx.emit({
      ts: ctx.now(),
      ts_source: 'agent',
      quality: 'good',
      values: { spectrum_counts: total, spectrum_live_time: spectrum.live_time_s, spectrum_channels: spectrum.channels },
    });
    opts.onSpectrum?.(spectrum, ctx.now());
    // The device's running total since its last reset; it began live_time_s before this read.
    // Right after a reset there is nothing measured yet (live time 0): not a spectrum to send.
    if (spectrum.live_time_s > 0)
      ctx.spectrum?.({
        channels: spectrum.channels,
        counts: spectrum.counts,
        calibration: spectrum.calibration,
        live_time_s: spectrum.live_time_s,
        model: model ?? 'RadiaCode',
        ts: Math.max(0, Math.round(ctx.now() - spectrum.live_time_s * 1000)),
      });
  }

  async function cycle(connected: boolean): Promise<void> {
    if (stopped) return;
    const ok = connected || (await begin());
    if (ok) await pollOnce();
    if (!stopped) nextCycle = setTimeout(() => void cycle(ok), opts.pollIntervalMs);
  }

  return {
    push(chunk) {
      if (stopped) return;
      if (!current) {
        // Nothing asked: a late reply or noise. Dropped, but logged, so it is not silent.
        ctx.log.debug({ bytes: chunk.length, hex: chunk.subarray(0, 32).toString('hex') }, 'stray bytes (no request outstanding)');
        return;
      }
      buffer = Buffer.concat([buffer, chunk]);
      onBytes();
    },
    start() {
      if (started || stopped) return;
      started = true;
      void cycle(false);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      if (nextCycle) clearTimeout(nextCycle);
      settle(undefined);
    },
  };
}
