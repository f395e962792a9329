import { spawnSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, read, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { LinkState } from '../../src/transports/link.ts';
import { createSerialLink } from '../../src/transports/serial-link.ts';
import { startPtyPair } from '../../src/transports/socat.ts';
import { waitFor } from '../support/wait.ts';

/**
 * A serial link reads its port on the event loop (src/transports/main-thread-read.ts), not through
 * libuv's thread pool: serialport's own reader queued an `fs.read` per chunk there, so anything
 * else holding the pool's threads (file I/O, DNS lookups, zlib) held up every instrument's bytes,
 * and each line cost two pool round trips (docs/benchmarks.md "Edge footprint").
 *
 * Shown on a real socat pty: every pool thread is parked in a blocking read of a FIFO, then the
 * device writes a line; the link must deliver it while the pool is still parked.
 */
describe('serial link read path', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('delivers a device line while every thread of the libuv pool is busy', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'radscreen-serial-pool-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const pair = await startPtyPair(join(dir, 'agent'), join(dir, 'device'));
    cleanups.push(() => pair.stop());

    const data: Buffer[] = [];
    const states: LinkState[] = [];
    const link = createSerialLink({ path: pair.agentPath, baudRate: 9600, noDataTimeoutMs: 60_000 });
    link.open({ data: (chunk) => void data.push(chunk), state: (s) => void states.push(s) });
    cleanups.push(() => link.close());
    // Opening goes through the pool (bindings-cpp's open); only reading must not.
    await waitFor(() => states.includes('online'), { timeoutMs: 5000, describe: () => states });

    // Park more blocking reads than the pool has threads (UV_THREADPOOL_SIZE, default 4, at most 1024).
    const fifo = join(dir, 'park');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const fd = openSync(fifo, constants.O_RDWR); // O_RDWR: the open itself does not wait for a writer
    const parked = Math.max(64, Number(process.env.UV_THREADPOOL_SIZE ?? 4));
    let released = 0;
    for (let i = 0; i < parked; i++) read(fd, Buffer.alloc(1), 0, 1, null, () => void released++);
    let releasedPool = false;
    cleanups.push(() => {
      if (!releasedPool) writeSync(fd, Buffer.alloc(parked));
      return waitFor(() => released === parked, { timeoutMs: 5000 }).finally(() => closeSync(fd));
    });

    // The device end is written synchronously: no pool thread is needed on this side either.
    const device = openSync(pair.devicePath, constants.O_WRONLY | constants.O_NOCTTY);
    cleanups.push(() => closeSync(device));
    writeSync(device, 'CPS, 1, CPM, 42, uSv/hr, 0.23, SLOW\n');
    await waitFor(() => Buffer.concat(data).toString().includes('CPM, 42'), {
      timeoutMs: 5000,
      describe: () => Buffer.concat(data).toString(),
    });
    // Still parked: the line came through without the pool.
    expect(released).toBe(0);
    writeSync(fd, Buffer.alloc(parked));
    releasedPool = true;
    await waitFor(() => released === parked, { timeoutMs: 5000 });
  });
});
