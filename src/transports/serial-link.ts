import { existsSync } from 'node:fs';
import { SerialPort, SerialPortMock } from 'serialport';
import { everyInterval } from '../core/shared-interval.ts';
import type { DeviceLink, LinkHandlers } from './link.ts';
import { nextBackoff } from './link.ts';
import { mainThreadReadBinding } from './main-thread-read.ts';

/** One binding per read interval (main-thread-read.ts); most agents use a single one. */
const bindings = new Map<number, ReturnType<typeof mainThreadReadBinding>>();
function bindingFor(readIntervalMs: number): ReturnType<typeof mainThreadReadBinding> {
  let b = bindings.get(readIntervalMs);
  if (!b) {
    b = mainThreadReadBinding(SerialPort.binding, readIntervalMs);
    bindings.set(readIntervalMs, b);
  }
  return b;
}
/**
 * Read buffer per port. serialport's default (64 KiB) is held per open port; an instrument at
 * 9600 baud sends under 1 KiB a second and the stream drains it each turn, so 4 KiB is ample.
 */
const READ_BUFFER_BYTES = 4096;

export interface SerialLinkOptions {
  /** A fixed device path, or a resolver asked at every (re)connect: USB adapters re-enumerate. */
  path: string | (() => Promise<string>);
  baudRate: number;
  dataBits?: 5 | 6 | 7 | 8;
  parity?: 'none' | 'even' | 'odd';
  stopBits?: 1 | 2;
  /**
   * No byte for this long means the port is lost. A pty whose far end closed raises no error
   * and makes the reader spin (docs/runtime-facts.md §3), so silence and a vanished path are the only
   * signals we get.
   */
  noDataTimeoutMs: number;
  backoff?: { initialMs: number; maxMs: number };
  /**
   * ms: a port with nothing to read waits for the agent's shared read tick of this period, so all
   * ports are read and their readings handled together (`agent.serial_read_interval_ms`,
   * main-thread-read.ts). 0 or unset: read as soon as data arrives.
   */
  readIntervalMs?: number;
  /** Component tests use serialport's mock binding (SerialPortMock); the OS binding otherwise. */
  mockBinding?: boolean;
}

type Port = SerialPort | SerialPortMock;

/** A serial port that reopens itself with backoff and reports every state change. */
export function createSerialLink(opts: SerialLinkOptions): DeviceLink {
  const backoffOpts = opts.backoff ?? { initialMs: 500, maxMs: 30_000 };
  let handlers: LinkHandlers | undefined;
  let port: Port | undefined;
  let stopWatchdog: (() => void) | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let backoff = 0;
  let attempt = 0;
  let lastDataAt = 0;
  let closed = false;
  let path = typeof opts.path === 'string' ? opts.path : '';
  const portDetail = () => ({ path, baud_rate: opts.baudRate, attempt });

  async function connect(): Promise<void> {
    if (closed || !handlers) return;
    attempt += 1;
    handlers.state('connecting', portDetail());
    if (typeof opts.path !== 'string') {
      try {
        path = await opts.path();
      } catch (e) {
        return scheduleRetry('error', 'RS_ERR_PORT_OPEN', (e as Error).message);
      }
    }
    const settings = {
      path,
      baudRate: opts.baudRate,
      dataBits: opts.dataBits ?? 8,
      parity: opts.parity ?? 'none',
      stopBits: opts.stopBits ?? 1,
      autoOpen: false,
    } as const;
    // serialport's SerialPort takes its binding from the options over the detected one.
    const p: Port = opts.mockBinding
      ? new SerialPortMock(settings)
      : new SerialPort({ ...settings, binding: bindingFor(opts.readIntervalMs ?? 0), highWaterMark: READ_BUFFER_BYTES } as typeof settings);
    port = p;
    p.on('data', (chunk: Buffer) => {
      lastDataAt = performance.now();
      backoff = 0; // a port that delivers data is healthy: start the next outage from the shortest delay
      handlers?.data(chunk);
    });
    p.on('error', (err: Error) => lose(p, 'RS_ERR_PORT_LOST', err.message));
    p.on('close', () => lose(p, 'RS_ERR_PORT_LOST', 'port closed'));
    p.open((err) => {
      if (err) return lose(p, 'RS_ERR_PORT_OPEN', err.message);
      if (closed) return void p.close(() => {});
      lastDataAt = performance.now();
      handlers?.state('online', portDetail());
      // On the shared timer of its period: one wake-up for every port's watchdog (shared-interval.ts).
      stopWatchdog = everyInterval(Math.max(50, Math.min(1000, opts.noDataTimeoutMs / 4)), () => {
        // Monotonic: a wall clock stepped forward (NTP at boot on a board without RTC) would
        // otherwise look like minutes of silence and drop every healthy port at once.
        const silentMs = Math.round(performance.now() - lastDataAt);
        if (!existsSync(path)) lose(p, 'RS_ERR_PORT_LOST', 'device path vanished');
        else if (silentMs > opts.noDataTimeoutMs) lose(p, 'RS_ERR_PORT_LOST', `no data for ${silentMs} ms`);
      });
    });
  }

  /** Idempotent per port: the port may report error and close twice for one loss. */
  function lose(p: Port, code: string, message: string): void {
    if (p !== port) return;
    port = undefined;
    stopWatchdog?.();
    stopWatchdog = undefined;
    p.removeAllListeners('data');
    p.on('error', () => {}); // late errors from a port we already gave up on
    if (p.isOpen) p.close(() => {});
    // A port that was open and went away is a device gone offline (cable, power, socat);
    // a port that will not open is an error a technician must look at.
    scheduleRetry(code === 'RS_ERR_PORT_LOST' ? 'offline' : 'error', code, message);
  }

  function scheduleRetry(state: 'offline' | 'error', code: string, message: string): void {
    if (closed) return;
    backoff = nextBackoff(backoff, backoffOpts);
    // One sentence for the tile and the alarm: which port (path, or the USB ids asked for) and why.
    const which = path ? `serial port ${path}` : `the serial port selected by USB id`;
    const reason =
      state === 'error'
        ? `${which} could not be opened: ${message}; retrying in ${backoff} ms`
        : `${which} was lost: ${message}; reopening in ${backoff} ms`;
    handlers?.state(state, { ...portDetail(), code, error: message, reason, retry_in_ms: backoff });
    retryTimer = setTimeout(() => void connect(), backoff);
  }

  return {
    description: `serial ${typeof opts.path === 'string' ? opts.path : 'by USB id'} @ ${opts.baudRate}`,
    open(h) {
      handlers = h;
      void connect();
    },
    write(bytes) {
      const p = port;
      if (!p?.isOpen) return Promise.reject(new Error(`${path || 'serial port'} is not open`));
      return new Promise((resolve, reject) => {
        p.write(bytes, (err) => (err ? reject(err) : p.drain((e) => (e ? reject(e) : resolve()))));
      });
    },
    async close() {
      closed = true;
      if (retryTimer) clearTimeout(retryTimer);
      stopWatchdog?.();
      const p = port;
      port = undefined;
      if (p?.isOpen) await new Promise<void>((resolve) => p.close(() => resolve()));
      handlers?.state('offline', {
        ...portDetail(),
        code: 'RS_ERR_AGENT_DOWN',
        reason: `serial port ${path || '(by USB id)'} was closed by the agent`,
      });
    },
  };
}
