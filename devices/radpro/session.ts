import { reject } from '../../src/core/errors.ts';
import type { DeviceSession, SessionContext } from '../../src/core/profile.ts';
import { createPollSession, type PollResult } from '../../src/sessions/poll-session.ts';
import { decodeRadproDatalog } from './datalog.ts';
import { composeRadproReading, parseRadproNumber, parseRadproReply, parseRadproUint32, type RadproSample } from './decode.ts';

/**
 * Rad Pro's polling loop (docs/protocols.md §2.2): one `GET …\r\n`, one reply line, on the shared
 * request/response helper src/sessions/poll-session.ts (FIFO, deadlines, stale-byte flushing).
 */

export interface RadproSessionOptions {
  /** ms between the end of one poll cycle and the start of the next. */
  pollIntervalMs: number;
  /** ms from a request until its whole reply line must be in, else RS_ERR_DEVICE_TIMEOUT. */
  timeoutMs: number;
  /** Download the datalog once at start, before polling. */
  downloadDatalog: boolean;
  /** Only datalog records from this UNIX second on (`GET datalog <start>`). */
  datalogSince?: number | undefined;
  /** ms allowed for the whole datalog reply (thousands of records at 115200 baud take a while). */
  datalogTimeoutMs: number;
  /** Write the agent's clock to the device at start (`SET deviceTime`): the only write this session ever makes. */
  setDeviceTime: boolean;
}

/** Poll replies are short; a datalog reply is one line that can hold thousands of records. */
const MAX_REPLY_BYTES = 256;
const MAX_DATALOG_BYTES = 8 * 1024 * 1024;
const LF = Buffer.from('\n');

/** A reply's value; 'error' = ERROR (unsupported) or a malformed reply; 'timeout' = no reply at all. */
type Answer = { value: string } | 'error' | 'timeout';

/** One reply line: `OK <value>` → the value, `ERROR` → null, anything else a reject. */
function decodeReplyLine(reply: Buffer): PollResult<string | null> {
  const line = reply.toString('latin1').replace(/\r?\n$/, '');
  const parsed = parseRadproReply(line);
  if ('reject' in parsed) return { ok: false, reject: parsed.reject };
  return { ok: true, value: parsed.ok ? parsed.value : null };
}

export function createRadproSession(ctx: SessionContext, opts: RadproSessionOptions): DeviceSession {
  const poll = createPollSession(ctx);
  let nextCycle: NodeJS.Timeout | undefined;
  let stopped = false;
  let started = false;

  /** Sends one request; failures were already reported to ctx.reject by the poll session. */
  async function request(command: string, maxBytes = MAX_REPLY_BYTES, timeoutMs = opts.timeoutMs): Promise<Answer> {
    const outcome = await poll.request({
      label: command,
      command: `${command}\r\n`,
      reply: { kind: 'terminator', terminator: LF, maxBytes },
      timeoutMs,
      decode: decodeReplyLine,
    });
    if (!outcome.ok) return outcome.reject.code === 'RS_ERR_DEVICE_TIMEOUT' ? 'timeout' : 'error';
    if (outcome.value === null) {
      ctx.log.debug({ command }, 'device answered ERROR (unsupported)');
      return 'error';
    }
    return { value: outcome.value };
  }

  function number(command: string, answer: Answer, parse: (v: string) => number | undefined): number | undefined {
    if (typeof answer !== 'object') return undefined;
    const n = parse(answer.value);
    if (n === undefined) ctx.reject(reject('RS_ERR_FRAME_SYNTAX', `${command}: not a number ${JSON.stringify(answer.value)}`));
    return n;
  }

  async function pollOnce(): Promise<void> {
    const rate = await request('GET tubeRate');
    if (rate === 'timeout') return;
    const tubeRate = number('GET tubeRate', rate, parseRadproNumber);
    if (tubeRate === undefined) return;
    const sample: RadproSample = { tubeRate };
    for (const [command, key, parse] of [
      ['GET tubePulseCount', 'pulseCount', parseRadproUint32],
      ['GET deviceTime', 'deviceTime', parseRadproUint32],
      ['GET deviceBatteryVoltage', 'batteryVoltage', parseRadproNumber],
      ['GET tubeSensitivity', 'sensitivity', parseRadproNumber],
    ] as const) {
      const answer = await request(command);
      if (answer === 'timeout') return; // the device went quiet: no half reading
      sample[key] = number(command, answer, parse);
    }
    if (sample.sensitivity !== undefined && !(sample.sensitivity > 0)) {
      ctx.reject(reject('RS_ERR_FRAME_RANGE', `tube sensitivity ${sample.sensitivity} is not positive`));
      sample.sensitivity = undefined;
    }
    const result = composeRadproReading(sample, ctx.now());
    if ('readings' in result) for (const r of result.readings) ctx.emit(r);
    else if ('reject' in result) ctx.reject(result.reject);
  }

  async function downloadDatalog(): Promise<void> {
    const sens = await request('GET tubeSensitivity');
    const sensitivity = number('GET tubeSensitivity', sens, parseRadproNumber);
    const command = opts.datalogSince === undefined ? 'GET datalog' : `GET datalog ${opts.datalogSince}`;
    const answer = await request(command, MAX_DATALOG_BYTES, opts.datalogTimeoutMs);
    if (typeof answer !== 'object') return;
    const { readings, rejects } = decodeRadproDatalog(
      `OK ${answer.value}`,
      sensitivity !== undefined && sensitivity > 0 ? sensitivity : undefined,
    );
    ctx.log.info({ records: readings.length, rejects: rejects.length }, 'datalog downloaded');
    for (const r of readings) ctx.emit(r);
    for (const r of rejects) ctx.reject(r);
  }

  async function begin(): Promise<void> {
    const id = await request('GET deviceId');
    if (typeof id === 'object') ctx.log.info({ deviceId: id.value }, 'Rad Pro device');
    if (opts.setDeviceTime) await request(`SET deviceTime ${Math.floor(ctx.now() / 1000)}`);
    if (opts.downloadDatalog) await downloadDatalog();
    await cycle();
  }

  async function cycle(): Promise<void> {
    if (stopped) return;
    await pollOnce();
    if (!stopped) nextCycle = setTimeout(() => void cycle(), opts.pollIntervalMs);
  }

  return {
    push(chunk) {
      poll.push(chunk);
    },
    start() {
      if (started || stopped) return;
      started = true;
      void begin();
    },
    stop() {
      if (stopped) return;
      stopped = true;
      if (nextCycle) clearTimeout(nextCycle);
      poll.stop();
    },
  };
}
