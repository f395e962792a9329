import { closeSync, constants, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { DeviceLink, LinkState } from '../../src/transports/link.ts';
import { createSerialLink } from '../../src/transports/serial-link.ts';
import { startPtyPair } from '../../src/transports/socat.ts';
import { waitFor } from '../support/wait.ts';

/**
 * `agent.serial_read_interval_ms` (src/transports/main-thread-read.ts): ports with nothing to read
 * wait for one shared read tick, so the lines of several instruments that arrived within a tick
 * are handled in the same event-loop turn (docs/benchmarks.md "Edge footprint" → "Third round").
 * A port the agent has just written to reads its reply at once. Real serialport on socat ptys.
 */
describe('serial read tick', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  /** A socat pair, a link on its agent end (online), and the device end open for writing. */
  async function device(dir: string, name: string, readIntervalMs: number, onData: (chunk: Buffer) => void) {
    const pair = await startPtyPair(join(dir, `${name}.agent`), join(dir, `${name}.device`));
    cleanups.push(() => pair.stop());
    const states: LinkState[] = [];
    const link: DeviceLink = createSerialLink({ path: pair.agentPath, baudRate: 9600, noDataTimeoutMs: 60_000, readIntervalMs });
    link.open({ data: (chunk) => onData(chunk), state: (s) => void states.push(s) });
    cleanups.push(() => link.close());
    await waitFor(() => states.includes('online'), { timeoutMs: 5000, describe: () => states });
    const fd = openSync(pair.devicePath, constants.O_RDWR | constants.O_NOCTTY | constants.O_NONBLOCK);
    cleanups.push(() => closeSync(fd));
    return { link, fd };
  }

  function tempDir(): string {
    const dir = mkdtempSync(join(tmpdir(), 'radscreen-read-tick-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
  }

  it('hands lines that arrived on different ports 60 ms apart to the agent in one turn', async () => {
    const dir = tempDir();
    // Which event-loop turn each line was handed over in: a turn ends when its setImmediate runs.
    let turn = 0;
    let turnOpen = false;
    const seen: { port: string; turn: number }[] = [];
    const record = (port: string) => () => {
      if (!turnOpen) {
        turnOpen = true;
        setImmediate(() => {
          turnOpen = false;
          turn++;
        });
      }
      seen.push({ port, turn });
    };
    const a = await device(dir, 'a', 400, record('a'));
    const b = await device(dir, 'b', 400, record('b'));
    for (let round = 0; round < 3; round++) {
      seen.length = 0;
      writeSync(a.fd, 'CPS, 1, CPM, 42, uSv/hr, 0.23, SLOW\n');
      await sleep(60);
      writeSync(b.fd, 'CPS, 1, CPM, 43, uSv/hr, 0.24, SLOW\n');
      await waitFor(() => seen.some((s) => s.port === 'a') && seen.some((s) => s.port === 'b'), {
        timeoutMs: 5000,
        describe: () => seen,
      });
      // Read as they arrived (interval 0, or a poller per port), a's turn ends 60 ms before b's line.
      // A 60 ms gap may straddle a tick edge now and then; three rounds in a row cannot all do so.
      if (new Set(seen.map((s) => s.turn)).size === 1) return;
    }
    throw new Error(`the two ports' lines were never handed over in one turn: ${JSON.stringify(seen)}`);
  });

  it('registers one shared tick for all idle ports, none with interval 0', async () => {
    const dir = tempDir();
    const { sharedIntervals } = await import('../../src/core/shared-interval.ts');
    await device(dir, 'c', 333, () => {});
    await device(dir, 'd', 333, () => {});
    await device(dir, 'e', 0, () => {});
    // Between ticks every idle port with the interval waits on the tick of that period (the timer is
    // re-armed after each tick, so look a few times).
    await waitFor(() => sharedIntervals().get(333) === 2, { timeoutMs: 3000, describe: () => [...sharedIntervals()] });
    expect(sharedIntervals().get(333)).toBe(2);
  });

  /**
   * `rounds` request/reply exchanges on a port with a 1 s tick, each after the previous reply
   * window has closed; the device end replies in two chunks (the port waits again after the
   * first). `during` runs between the write and the reply and returns its undo. Returns each
   * exchange's ms from write to whole reply.
   */
  async function replyLatencies(name: string, rounds: number, during: () => () => void = () => () => {}): Promise<number[]> {
    const received: string[] = [];
    const { link, fd } = await device(tempDir(), name, 1000, (chunk) => void received.push(chunk.toString()));
    const text = () => received.join('');
    const latencies: number[] = [];
    for (let i = 0; i < rounds; i++) {
      // Idle long enough for the 1 s reply window of the previous request to close.
      await sleep(i === 0 ? 0 : 1100);
      const sent = performance.now();
      await link.write(Buffer.from(`<GETCPM${i}>>`));
      const undo = during();
      try {
        await waitFor(() => readAvailable(fd, Buffer.alloc(64)) > 0, { timeoutMs: 2000 });
        writeSync(fd, 'REP');
        await waitFor(() => text().endsWith('REP'), { timeoutMs: 3000, describe: () => received });
        writeSync(fd, `LY${i}\n`);
        await waitFor(() => text().includes(`REPLY${i}`), { timeoutMs: 3000, describe: () => received });
      } finally {
        undo();
      }
      latencies.push(Math.round(performance.now() - sent));
    }
    return latencies;
  }

  it('reads a reply at once after the agent writes, even with a 1 s tick', async () => {
    const latencies = await replyLatencies('f', 5);
    // Waiting for the tick, each reply would take 0–1000 ms (uniformly): five under 300 ms by
    // chance is 0.3⁵ ≈ 0.2 %. Read as it arrives, each takes a few ms.
    expect(Math.max(...latencies), String(latencies)).toBeLessThan(300);
  });

  it('keeps the reply window when the wall clock steps forward after a write', async () => {
    const realNow = Date.now;
    // NTP steps the clock an hour forward while the instrument is answering.
    const latencies = await replyLatencies('g', 3, () => {
      const step = vi.spyOn(Date, 'now').mockImplementation(() => realNow() + 3_600_000);
      return () => step.mockRestore();
    });
    // A window kept on the wall clock closes at the step, and the reply's rest waits for the 1 s tick.
    expect(Math.max(...latencies), String(latencies)).toBeLessThan(300);
  });
});

/** A non-blocking read of whatever the device end has received; 0 when nothing yet. */
function readAvailable(fd: number, buf: Buffer): number {
  try {
    return readSync(fd, buf, 0, buf.length, null);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EAGAIN') return 0;
    throw e;
  }
}
