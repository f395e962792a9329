import { readSync } from 'node:fs';
import type { SerialPort } from 'serialport';

/** The binding serialport detected for this OS (LinuxBinding on a station). */
export type DetectedBinding = typeof SerialPort.binding;
type PortBinding = Awaited<ReturnType<DetectedBinding['open']>>;

/** What the Linux/Darwin port bindings expose publicly (@serialport/bindings-cpp linux.d.ts). */
interface UnixPortBinding {
  fd: number | null;
  readonly isOpen: boolean;
  readonly poller: { once(event: 'readable', cb: (err: Error | null) => void): unknown };
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
 */
export function mainThreadReadBinding(base: DetectedBinding): DetectedBinding {
  return {
    ...base,
    list: () => base.list(),
    async open(options: Parameters<DetectedBinding['open']>[0]): Promise<PortBinding> {
      const port = await base.open(options as never);
      if (!isUnixPort(port)) return port;
      const readable = () => new Promise<void>((resolve, reject) => port.poller.once('readable', (err) => (err ? reject(err) : resolve())));
      port.read = async (buffer: Buffer, offset: number, length: number) => {
        for (;;) {
          if (!port.isOpen || port.fd === null) throw canceled();
          let bytesRead: number;
          try {
            bytesRead = readSync(port.fd, buffer, offset, length, null);
          } catch (e) {
            const err = e as NodeJS.ErrnoException & { disconnect?: boolean };
            if (err.code === 'EAGAIN' || err.code === 'EWOULDBLOCK' || err.code === 'EINTR') {
              await readable();
              continue;
            }
            if (err.code === 'EBADF' || err.code === 'ENXIO' || err.code === 'UNKNOWN' || err.errno === -1) err.disconnect = true;
            throw err;
          }
          if (bytesRead > 0) return { bytesRead, buffer };
          // 0 bytes (a pty whose far end went away): wait for the poller rather than spin on the loop.
          await readable();
        }
      };
      return port;
    },
  } as DetectedBinding;
}
