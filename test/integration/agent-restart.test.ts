import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { type ReadingsMessage, topics } from '../../src/core/contract.ts';
import { stopChild } from '../support/services.ts';
import { waitFor } from '../support/wait.ts';

/**
 * Issue 8 §1: a `radscreen agent` PROCESS killed with SIGKILL while two MQTT devices publish
 * numbered QoS 1 readings from persistent sessions, on the shared mosquitto (persistence on).
 * One device has its own clock, one is stamped by the agent. Every reading the broker
 * acknowledged to the device must reach the readings topic, and all copies of one reading
 * (the outbox re-sends what was not acknowledged) carry one point identity (ts, seq), distinct
 * from every other reading's: InfluxDB then holds each exactly once.
 */
const services = inject('services');
const children: ChildProcess[] = [];
afterEach(async () => {
  await Promise.all(children.splice(0).map((c) => stopChild(c, 3000)));
});

const DEVICES = ['clk', 'agt'] as const;

describe('agent SIGKILL with a persistent MQTT device session', () => {
  it('loses nothing the broker acknowledged and keeps one identity per reading', async () => {
    const dir = mkdtempSync(join(services.tmpDir, 'agent-restart-'));
    const station = `ar${Date.now() % 1_000_000}`;
    const cfg = join(dir, 'radscreen.yaml');
    const topicOf = (d: string) => `dev/${station}/${d}`;
    writeFileSync(
      cfg,
      [
        `station: { id: ${station} }`,
        `data_dir: ${join(dir, 'data')}`,
        `mqtt: { url: '${services.mqttUrl}' }`,
        'agent: { coalesce_ms: 20 }',
        'devices:',
        '  - id: clk',
        '    profile: mqtt-json',
        `    mqtt: { topic: '${topicOf('clk')}' }`,
        '    options: { fields: { counts: { path: n, unit: counts } }, timestamp: { path: t, format: ms } }',
        '  - id: agt',
        '    profile: mqtt-json',
        `    mqtt: { topic: '${topicOf('agt')}' }`,
        '    options: { fields: { counts: { path: n, unit: counts } } }',
        '',
      ].join('\n'),
    );

    // What reached the readings topic: per device, number → the identities its copies carried.
    const seen = new Map<string, Map<number, string[]>>(DEVICES.map((d) => [d, new Map()]));
    const watcher = await mqtt.connectAsync(services.mqttUrl, { protocolVersion: 4 });
    watcher.on('message', (_topic, payload) => {
      for (const r of (JSON.parse(payload.toString()) as ReadingsMessage).readings) {
        const byNumber = seen.get(r.device) as Map<number, string[]>;
        const n = r.values.counts as number;
        byNumber.set(n, [...(byNumber.get(n) ?? []), `${r.ts}:${r.seq ?? 0}`]);
      }
    });
    await watcher.subscribeAsync(topics.allReadings(station), { qos: 1 });

    let log = '';
    const startAgent = async () => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'agent', '-c', cfg], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, RADSCREEN_LOG_LEVEL: 'info' },
      });
      children.push(child);
      let out = '';
      child.stdout?.on('data', (c: Buffer) => {
        out += c.toString();
        log += c.toString();
      });
      child.stderr?.on('data', (c: Buffer) => (log += c.toString()));
      await waitFor(() => (out.match(/"msg":"device online"/g) ?? []).length >= DEVICES.length, {
        timeoutMs: 20_000,
        describe: () => log.slice(-2000),
      });
      return child;
    };

    // The agent's persistent sessions must exist before the devices publish: the broker keeps
    // messages only for sessions it knows.
    const first = await startAgent();
    // The devices: persistent sessions, QoS 1, numbered readings; `acked` holds what the broker took.
    const acked = new Map<string, number[]>(DEVICES.map((d) => [d, []]));
    const device = await mqtt.connectAsync(services.mqttUrl, { protocolVersion: 4, clean: false, clientId: `dev-${station}` });
    const t0 = Date.now();
    let next = 0;
    let sending = true;
    const sender = (async () => {
      while (sending) {
        // 6 numbers every 10 ms per device: about 600 readings/s per device.
        for (let k = 0; k < 6; k++) {
          const n = next++;
          for (const d of DEVICES) {
            const body = d === 'clk' ? { n, t: t0 + n } : { n };
            device.publish(topicOf(d), JSON.stringify(body), { qos: 1 }, (err) => {
              if (!err) acked.get(d)?.push(n);
            });
          }
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    })();

    await waitFor(() => [...seen.values()].every((m) => m.size > 200), { timeoutMs: 20_000, describe: () => log.slice(-2000) });
    first.kill('SIGKILL');
    await new Promise<void>((r) => (first.exitCode !== null || first.signalCode !== null ? r() : first.once('exit', () => r())));
    const atKill = next;
    // The devices go on publishing into the broker's queue for the agent's persistent sessions.
    await waitFor(() => next >= atKill + 1500, { timeoutMs: 20_000 });
    await startAgent();
    await waitFor(() => next >= atKill + 3000, { timeoutMs: 20_000 });
    sending = false;
    await sender;
    await waitFor(() => DEVICES.every((d) => (acked.get(d)?.length ?? 0) === next), { timeoutMs: 10_000, describe: () => next });
    await device.endAsync();

    const missing = (d: string) => (acked.get(d) ?? []).filter((n) => !seen.get(d)?.has(n));
    await waitFor(() => DEVICES.every((d) => missing(d).length === 0), {
      timeoutMs: 30_000,
      everyMs: 200,
      describe: () => DEVICES.map((d) => `${d}: ${missing(d).length} missing, first ${missing(d).slice(0, 5).join(',')}`),
    });
    await watcher.endAsync();

    for (const d of DEVICES) {
      const byNumber = seen.get(d) as Map<number, string[]>;
      const copies = [...byNumber.values()].reduce((a, ids) => a + ids.length, 0);
      process.stdout.write(`agent-restart ${d}: ${next} readings acknowledged by the broker, ${copies - byNumber.size} re-sent copies\n`);
      // One identity per reading, whatever the number of copies …
      const split = [...byNumber].filter(([, ids]) => new Set(ids).size !== 1);
      expect(split.slice(0, 5)).toEqual([]);
      // … and no two readings share one (they would overwrite each other in InfluxDB).
      const identities = new Set([...byNumber.values()].map((ids) => ids[0]));
      expect(identities.size).toBe(byNumber.size);
      expect(byNumber.size).toBe(next);
    }
  });
});
