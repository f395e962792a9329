import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import type { LinkState } from '../../src/transports/link.ts';
import { createMqttLink } from '../../src/transports/mqtt-link.ts';
import { type MosquittoHandle, startMosquitto } from '../support/services.ts';
import { waitFor } from '../support/wait.ts';

/**
 * Issue 8 §3: the MQTT device link's reconnect delay grows ×1.5 during an outage and is back at
 * its initial value after a successful reconnect. A private mosquitto is stopped and started
 * twice; the delays are read from the link's own `connecting` reports (one per attempt).
 */
const services = inject('services');

describe('MQTT device link reconnect backoff (real mosquitto)', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  it('backs off during an outage and starts again from the initial delay after reconnecting', async () => {
    const mosq: MosquittoHandle = await startMosquitto(mkdtempSync(join(services.tmpDir, 'backoff-')));
    cleanups.push(() => mosq.stop());
    const events: { state: LinkState; at: number; detail: Record<string, unknown> }[] = [];
    const initialMs = 100;
    const link = createMqttLink({ url: mosq.url, topic: 'dev/backoff', backoff: { initialMs, maxMs: 3000 } });
    link.open({ data: () => {}, state: (state, detail) => void events.push({ state, at: Date.now(), detail }) });
    cleanups.push(() => link.close());
    const since = (i: number, state: LinkState) => events.slice(i).filter((e) => e.state === state);
    await waitFor(() => since(0, 'online').length === 1, { timeoutMs: 10_000, describe: () => events });

    // Outage 1: long enough for seven attempts.
    let mark = events.length;
    await mosq.stop();
    await waitFor(() => since(mark, 'connecting').length >= 7, { timeoutMs: 15_000, describe: () => events.slice(mark) });
    const attempts = since(mark, 'connecting').map((e) => e.at);
    const gaps = attempts.slice(1).map((t, i) => t - (attempts[i] as number));
    process.stdout.write(`backoff outage 1: gaps between attempts ${gaps.join(', ')} ms\n`);
    // ×1.5 per attempt: the sixth gap is about 1.5^5 ≈ 7.6 times the first; a fixed period is 1×.
    expect((gaps[5] as number) / (gaps[0] as number)).toBeGreaterThan(3);
    await mosq.restart();
    mark = events.length;
    await waitFor(() => since(mark, 'online').length === 1, { timeoutMs: 15_000, describe: () => events.slice(mark) });

    // Outage 2: the first attempt comes after the initial delay again, not the backed-off one.
    mark = events.length;
    await mosq.stop();
    await waitFor(() => since(mark, 'connecting').length >= 1, { timeoutMs: 15_000, describe: () => events.slice(mark) });
    const offline = since(mark, 'offline')[0];
    const firstAttempt = since(mark, 'connecting')[0];
    expect(offline?.detail.retry_in_ms).toBe(initialMs);
    const delay = (firstAttempt?.at ?? 0) - (offline?.at ?? 0);
    process.stdout.write(`backoff outage 2: first attempt ${delay} ms after the connection was lost\n`);
    // The backed-off delay would be ≥ 1.5 s here; the initial one is 100 ms (plus timer slack).
    expect(delay).toBeLessThan(1000);
    await mosq.restart();
    mark = events.length;
    await waitFor(() => since(mark, 'online').length === 1, { timeoutMs: 15_000, describe: () => events.slice(mark) });
  });
});
