import { readSync } from 'node:fs';
import type { SerialPort } from 'serialport';
import { everyInterval } from '../core/shared-interval.ts';

/** The binding serialport detected for this OS (LinuxBinding on a station). */
export type DetectedBinding = typeof SerialPort.binding;
type PortBinding = Awaited<ReturnType<DetectedBinding['open']>>;

/** What the Linux/Darwin port bindings expose publicly (@serialport/bindings-cpp linux.d.ts). */
interface UnixPortBinding {
  fd: number | null;
  readonly isOpen: boolean;
  write(buffer: Buffer): Promise<void>;
  readonly poller: { once(event: 'readable', cb: (err: Error | null) => void): unknown };
}

/** After a write, ms during which a port reads as soon as data arrives: a reply is expected. */
export const REPLY_WINDOW_MS = 1000;

/**
 * `readSync`, returning its error instead of throwing it, and without a stack trace: on the read
 * tick every idle port's read ends in EAGAIN (640 a second at 64 devices), and the stack V8
 * captures for each of those errors was a third of its cost (7.7 → 5.1 µs a read, measured on
 * this machine; docs/benchmarks.md "Fourth round"). Node offers no non-throwing read.
 */
function readNow(fd: number, buffer: Buffer, offset: number, length: number): number | NodeJS.ErrnoException {
  const traceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return readSync(fd, buffer, offset, length, null);
  } catch (e) {
    return e as NodeJS.ErrnoException;
  } finally {
    Error.stackTraceLimit = traceLimit;
  }
}

const canceled = () => Object.assign(new Error('Port is not open'), { canceled: true });
const isUnixPort = (p: unknown): p is UnixPortBinding =>
  typeof (p as UnixPortBinding).fd === 'number' && typeof (p as UnixPortBinding).poller?.once === 'function';

/**
 * The detected binding with one change: a port reads its file descriptor with a non-blocking
 * `read(2)` on the event loop once its poller says it is readable, instead of serialport's
 * `fs.read` through libuv's thread pool. bindings-cpp opens every port O_NONBLOCK, so the read
 * never blocks; serialport issues a read per chunk and one more that ends in EAGAIN, so each line
 * from an instrument cost two thread-pool round trips (a futex wake of a worker and a wake-up of
 * the loop each). Profiled in `npm run bench:agent` (docs/benchmarks.md "Edge footprint"), that
 * was the largest single item of the agent's per-reading CPU. Errors and cancellation follow
 * bindings-cpp's unixRead (same codes marked `disconnect`, `canceled` on close), so
 * @serialport/stream handles them as before. Ports of other bindings (Windows) are left as they are.
 *
 * With `readIntervalMs` > 0, a port that has nothing to read waits for the shared read tick of
 * that period (shared-interval.ts) instead of its own poller: every port is read in the same
 * event-loop turn, and the readings of all devices that arrived within one tick go through
 * decode, the outbox and MQTT together while that code is hot. At 64 devices a second that
 * halved the agent's CPU (docs/benchmarks.md "Edge footprint" → "Third round"), at the cost of up
 * to one tick of latency per reading. A port the agent wrote to within the last
 * `REPLY_WINDOW_MS` is waiting for a reply, so it reads as soon as data arrives, as it does with
 * `readIntervalMs` 0; a write also wakes a port already waiting for the tick.
 */
export function mainThreadReadBinding(base: DetectedBinding, readIntervalMs = 0): DetectedBinding {
  return {
    ...base,
    list: () => base.list(),
    async open(options: Parameters<DetectedBinding['open']>[0]): Promise<PortBinding> {
      const port = await base.open(options as never);
      if (!isUnixPort(port)) return port;
      let replyUntil = 0;
      let wakeNow: (() => void) | undefined;
      const readable = () =>
        new Promise<void>((resolve, reject) => {
          if (readIntervalMs <= 0 || performance.now() < replyUntil)
            return void port.poller.once('readable', (err) => (err ? reject(err) : resolve()));
          const wake = () => {
            stop();
            wakeNow = undefined;
            resolve();
          };
          const stop = everyInterval(readIntervalMs, wake);
          wakeNow = wake;
        });
      const write = port.write.bind(port);
      port.write = (buffer: Buffer) => {
        // Monotonic, so a wall-clock step cannot end (or stretch) the reply window.
        replyUntil = performance.now() + REPLY_WINDOW_MS;
        wakeNow?.();
        return write(buffer);
      };
      port.read = async (buffer: Buffer, offset: number, length: number) => {
        for (;;) {
          if (!port.isOpen || port.fd === null) throw canceled();
          const bytesRead = readNow(port.fd, buffer, offset, length);
          if (typeof bytesRead !== 'number') {
            const err = bytesRead as NodeJS.ErrnoException & { disconnect?: boolean };
            if (err.code === 'EAGAIN' || err.code === 'EWOULDBLOCK' || err.code === 'EINTR') {
              await readable();
              continue;
            }
            if (err.code === 'EBADF' || err.code === 'ENXIO' || err.code === 'UNKNOWN' || err.errno === -1) err.disconnect = true;
            throw err;
          }
          if (bytesRead > 0) return { bytesRead, buffer };
          // 0 bytes (a pty whose far end went away): wait (poller or tick) rather than spin on the loop.
          await readable();
        }
      };
      return port;
    },
  } as DetectedBinding;
}
