import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SerialPortMock } from 'serialport';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { sharedIntervals } from '../../src/core/shared-interval.ts';
import type { LinkState } from '../../src/transports/link.ts';
import { createSerialLink } from '../../src/transports/serial-link.ts';
import { waitFor } from '../support/wait.ts';

// The binding serialport's SerialPortMock opens through (its CommonJS instance, not an ESM copy).
const MockBinding = SerialPortMock.binding;

/**
 * The serial link's failure paths on serialport's mock binding (no socat, no pty): a port that
 * will not open reports `error` with RS_ERR_PORT_OPEN and retries with delays growing ×1.5; an
 * open but silent port, and a port whose device path vanished, are lost by the watchdog.
 *
 * The watchdog also checks that the device path exists (a pty's far end closing raises no error),
 * so each mock port is created at the path of a real temporary file.
 */
interface Event {
  state: LinkState;
  detail: Record<string, unknown>;
}

describe('serial link on the mock binding', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
    MockBinding.reset();
  });

  function rig(noDataTimeoutMs: number) {
    const dir = mkdtempSync(join(tmpdir(), 'radscreen-serial-mock-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'ttyMOCK0');
    const events: Event[] = [];
    const data: Buffer[] = [];
    const link = createSerialLink({ path, baudRate: 9600, noDataTimeoutMs, backoff: { initialMs: 20, maxMs: 1000 }, mockBinding: true });
    link.open({ data: (chunk) => void data.push(chunk), state: (state, detail) => void events.push({ state, detail }) });
    cleanups.push(() => link.close());
    return { path, events, data, link, count: (s: LinkState) => events.filter((e) => e.state === s).length };
  }

  it('keeps a port that is sending online when the wall clock steps an hour forward', async () => {
    const l = rig(4000);
    writeFileSync(l.path, '');
    MockBinding.createPort(l.path, { echo: true });
    await waitFor(() => l.count('online') === 1, { timeoutMs: 5000 });
    // The device's last line, received before the step (echoed by the mock port).
    const before = l.data.length;
    await l.link.write(Buffer.from('CPS, 1\n'));
    await waitFor(() => l.data.length > before, { timeoutMs: 2000 });
    const realNow = Date.now;
    // NTP setting the clock of a board without RTC: silence measured on the wall clock would be an hour.
    const step = vi.spyOn(Date, 'now').mockImplementation(() => realNow() + 3_600_000);
    try {
      // 1.3 s without data, under the 4 s timeout, spans at least one watchdog run (every 1 s).
      await new Promise((r) => setTimeout(r, 1300));
    } finally {
      step.mockRestore();
    }
    expect(l.events.filter((e) => e.state === 'offline')).toEqual([]);
  });

  it('runs the watchdogs of all open ports on one shared timer, and frees it when they close', async () => {
    const links = [rig(4000), rig(4000)];
    for (const l of links) {
      writeFileSync(l.path, '');
      MockBinding.createPort(l.path, { echo: true });
    }
    await waitFor(() => links.every((l) => l.count('online') === 1), { timeoutMs: 5000 });
    // One timer for the period min(1000, 4000 / 4) ms, two jobs on it: one wake-up for both ports.
    expect(sharedIntervals().get(1000)).toBe(2);
    for (const l of links) await l.link.close();
    expect(sharedIntervals().has(1000)).toBe(false);
  });

  it('reports RS_ERR_PORT_OPEN while the port will not open, backing off ×1.5, then comes online', async () => {
    const { path, events, count } = rig(5000);
    await waitFor(() => count('error') >= 4, { timeoutMs: 5000, describe: () => events });
    const errors = events.filter((e) => e.state === 'error');
    for (const e of errors) expect(e.detail).toMatchObject({ code: 'RS_ERR_PORT_OPEN', path });
    expect(errors[0]?.detail.reason).toContain('could not be opened');
    // The delays the link announces: 20, 30, 45, 68 ms (×1.5, rounded).
    expect(errors.slice(0, 4).map((e) => e.detail.retry_in_ms)).toEqual([20, 30, 45, 68]);

    writeFileSync(path, '');
    MockBinding.createPort(path, { echo: true });
    await waitFor(() => count('online') === 1, { timeoutMs: 5000, describe: () => events.slice(-3) });
    expect(events.at(-1)).toMatchObject({ state: 'online', detail: { path, baud_rate: 9600 } });
  });

  it('delivers bytes while they flow and loses a port that falls silent (watchdog)', async () => {
    const { path, events, data, link, count } = rig(300);
    writeFileSync(path, '');
    MockBinding.createPort(path, { echo: true });
    await waitFor(() => count('online') === 1, { timeoutMs: 5000, describe: () => events });
    await link.write(Buffer.from('<GETCPM>>'));
    await waitFor(() => Buffer.concat(data).toString() === '<GETCPM>>', { timeoutMs: 2000, describe: () => data.map(String) });

    await waitFor(() => count('offline') >= 1, { timeoutMs: 5000, describe: () => events });
    const lost = events.find((e) => e.state === 'offline');
    expect(lost?.detail).toMatchObject({ code: 'RS_ERR_PORT_LOST', path, retry_in_ms: 20 });
    expect(String(lost?.detail.error)).toMatch(/^no data for \d+ ms$/);
    // It reopens by itself: the mock port still exists.
    await waitFor(() => count('online') === 2, { timeoutMs: 5000, describe: () => events.slice(-3) });
  });

  it('loses a port whose device path vanished, then reports open errors until it is back', async () => {
    const { path, events, count } = rig(60_000);
    writeFileSync(path, '');
    MockBinding.createPort(path, { echo: true });
    await waitFor(() => count('online') === 1, { timeoutMs: 5000, describe: () => events });
    rmSync(path);
    MockBinding.reset(); // the adapter is unplugged: the port is gone as well as its path
    await waitFor(() => count('offline') >= 1, { timeoutMs: 5000, describe: () => events });
    expect(events.find((e) => e.state === 'offline')?.detail).toMatchObject({ code: 'RS_ERR_PORT_LOST', error: 'device path vanished' });
    await waitFor(() => count('error') >= 2, { timeoutMs: 5000, describe: () => events.slice(-3) });
    const retries = events.filter((e) => e.state === 'error' || e.state === 'offline').map((e) => e.detail.retry_in_ms);
    expect(retries.slice(0, 3)).toEqual([20, 30, 45]);
  });
});
