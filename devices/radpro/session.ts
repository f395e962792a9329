import { reject } from '../../src/core/errors.ts';
import type { DeviceSession, SessionContext } from '../../src/core/profile.ts';
import { decodeRadproDatalog } from './datalog.ts';
import { composeRadproReading, parseRadproNumber, parseRadproReply, parseRadproUint32, type RadproSample } from './decode.ts';

/**
 * Rad Pro's request/response loop (PROTOCOLS.md §2.2): one `GET …\r\n`, one reply line. Written
 * here on SessionContext because the shared src/agent/poll-session.ts was not committed yet when
 * this family was built; it can move onto that helper without changing behaviour.
 */

export interface RadproSessionOptions {
  /** ms between the end of one poll cycle and the start of the next. */
  pollIntervalMs: number;
  /** ms of silence after a request (or between chunks of a long reply) before RS_ERR_DEVICE_TIMEOUT. */
  timeoutMs: number;
  /** Download the datalog once at start, before polling. */
  downloadDatalog: boolean;
  /** Only datalog records from this UNIX second on (`GET datalog <start>`). */
  datalogSince?: number | undefined;
  /** Write the agent's clock to the device at start (`SET deviceTime`): the only write this session ever makes. */
  setDeviceTime: boolean;
}

/** Poll replies are short; a datalog reply is one line that can hold thousands of records. */
const MAX_REPLY_BYTES = 256;
const MAX_DATALOG_BYTES = 8 * 1024 * 1024;

type Answer = { value: string } | 'error' | 'timeout';

interface Pending {
  resolve(line: string | undefined): void;
  maxBytes: number;
  label: string;
}

export function createRadproSession(ctx: SessionContext, opts: RadproSessionOptions): DeviceSession {
  let buffer = Buffer.alloc(0);
  let pending: Pending | undefined;
  let silenceTimer: NodeJS.Timeout | undefined;
  let nextCycle: NodeJS.Timeout | undefined;
  let stopped = false;
  let started = false;

  function armSilenceTimer(): void {
    if (silenceTimer) clearTimeout(silenceTimer);
    silenceTimer = setTimeout(() => {
      const p = pending;
      if (!p) return;
      ctx.reject(reject('RS_ERR_DEVICE_TIMEOUT', `no reply to ${p.label} within ${opts.timeoutMs} ms`, buffer.subarray(0, 64)));
      finish(undefined);
    }, opts.timeoutMs);
  }

  function finish(line: string | undefined): void {
    if (silenceTimer) clearTimeout(silenceTimer);
    silenceTimer = undefined;
    const p = pending;
    pending = undefined;
    buffer = Buffer.alloc(0);
    p?.resolve(line);
  }

  /** Sends one request; resolves with the reply line, or undefined on timeout or stop. */
  function request(command: string, maxBytes = MAX_REPLY_BYTES): Promise<string | undefined> {
    if (stopped) return Promise.resolve(undefined);
    // Whatever is buffered now is a late answer to an earlier request: never read it as this reply.
    buffer = Buffer.alloc(0);
    return new Promise((resolve) => {
      pending = { resolve, maxBytes, label: command };
      armSilenceTimer();
      ctx.write(`${command}\r\n`).catch(() => {
        // A port that is gone behaves like a device that does not answer.
        if (pending?.label === command) {
          ctx.reject(reject('RS_ERR_DEVICE_TIMEOUT', `could not send ${command}: port unavailable`));
          finish(undefined);
        }
      });
    });
  }

  async function ask(command: string, maxBytes?: number): Promise<Answer> {
    const line = await request(command, maxBytes);
    if (line === undefined) return 'timeout';
    const reply = parseRadproReply(line);
    if ('reject' in reply) {
      ctx.reject(reply.reject);
      return 'error';
    }
    if (!reply.ok) {
      ctx.log.debug({ command }, 'device answered ERROR (unsupported)');
      return 'error';
    }
    return { value: reply.value };
  }

  function number(command: string, answer: Answer, parse: (v: string) => number | undefined): number | undefined {
    if (typeof answer !== 'object') return undefined;
    const n = parse(answer.value);
    if (n === undefined) ctx.reject(reject('RS_ERR_FRAME_SYNTAX', `${command}: not a number ${JSON.stringify(answer.value)}`));
    return n;
  }

  async function pollOnce(): Promise<void> {
    const rate = await ask('GET tubeRate');
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
      const answer = await ask(command);
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
    const sens = await ask('GET tubeSensitivity');
    const sensitivity = number('GET tubeSensitivity', sens, parseRadproNumber);
    const command = opts.datalogSince === undefined ? 'GET datalog' : `GET datalog ${opts.datalogSince}`;
    const line = await request(command, MAX_DATALOG_BYTES);
    if (line === undefined) return;
    const { readings, rejects } = decodeRadproDatalog(line, sensitivity !== undefined && sensitivity > 0 ? sensitivity : undefined);
    ctx.log.info({ records: readings.length, rejects: rejects.length }, 'datalog downloaded');
    for (const r of readings) ctx.emit(r);
    for (const r of rejects) ctx.reject(r);
  }

  async function begin(): Promise<void> {
    const id = await ask('GET deviceId');
    if (typeof id === 'object') ctx.log.info({ deviceId: id.value }, 'Rad Pro device');
    if (opts.setDeviceTime) await ask(`SET deviceTime ${Math.floor(ctx.now() / 1000)}`);
    if (opts.downloadDatalog) await downloadDatalog();
    await cycle();
  }

  async function cycle(): Promise<void> {
    if (stopped) return;
    await pollOnce();
    if (!stopped) nextCycle = setTimeout(() => void cycle(), opts.pollIntervalMs);
  }

  function takeLines(): void {
    for (let nl = buffer.indexOf(0x0a); nl !== -1 && pending; nl = buffer.indexOf(0x0a)) {
      let line = buffer.subarray(0, nl);
      if (line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, -1);
      buffer = buffer.subarray(nl + 1);
      finish(line.toString('latin1'));
    }
    if (!pending && buffer.length > 0) {
      ctx.reject(reject('RS_ERR_FRAME_UNKNOWN', 'bytes arrived with no request outstanding', buffer.subarray(0, 64)));
      buffer = Buffer.alloc(0);
    }
  }

  return {
    push(chunk) {
      if (stopped) return;
      buffer = Buffer.concat([buffer, chunk]);
      if (pending && buffer.length > pending.maxBytes && buffer.indexOf(0x0a) === -1) {
        ctx.reject(reject('RS_ERR_FRAME_OVERSIZE', `reply to ${pending.label} exceeded ${pending.maxBytes} bytes`, buffer.subarray(0, 64)));
        finish(undefined);
        return;
      }
      if (pending) armSilenceTimer(); // a long datalog reply keeps the request alive while it flows
      takeLines();
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
      finish(undefined);
    },
  };
}
