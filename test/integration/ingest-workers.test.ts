import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { topics } from '../../src/core/contract.ts';
import { countPoints, waitFor } from '../support/influx-query.ts';
import { stopChild } from '../support/services.ts';

/**
 * `radscreen ingest --worker n` with `ingest.share_group` (issue 4 §6), on the shared mosquitto
 * and influxd: two CLI workers split one MQTT v5 shared subscription, each with its own client id
 * and spool file, and InfluxDB ends with every reading exactly once.
 */
const services = inject('services');
const children: ChildProcess[] = [];
afterEach(async () => {
  await Promise.all(children.splice(0).map((c) => stopChild(c, 5000)));
});

describe('radscreen ingest as N workers on a shared subscription', () => {
  it('two workers split the stream; every reading is stored once; one spool file per worker', async () => {
    const dir = mkdtempSync(join(services.tmpDir, 'ingest-workers-'));
    const db = `workers_${Date.now()}`;
    const station = `w${Date.now() % 100000}`;
    const cfg = join(dir, 'radscreen.yaml');
    writeFileSync(
      cfg,
      [
        `station: { id: ${station} }`,
        `data_dir: ${join(dir, 'data')}`,
        `mqtt: { url: '${services.mqttUrl}' }`,
        `influx: { url: '${services.influxUrl}', database: ${db}, batch_size: 100, flush_interval_ms: 50 }`,
        `ingest: { share_group: ${station} }`,
        // Ingest stores only the configured devices' readings (docs/data-integrity.md "Admission").
        'devices:',
        ...[0, 1, 2, 3].map((d) => `  - { id: d${d}, profile: mightyohm-geiger, serial: { path: /dev/ttyRS${d} } }`),
        '',
      ].join('\n'),
    );
    const logs: string[] = ['', ''];
    for (const n of [1, 2]) {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'ingest', '-c', cfg, '--worker', String(n)], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout?.on('data', (c: Buffer) => (logs[n - 1] += c.toString()));
      child.stderr?.on('data', (c: Buffer) => (logs[n - 1] += c.toString()));
      children.push(child);
    }
    await waitFor(() => logs.every((l) => l.includes('ingest subscribed')), { timeoutMs: 20_000, describe: () => logs });
    expect(logs[0]).toContain(`radscreen-ingest-${station}-w1`);
    expect(logs[1]).toContain(`radscreen-ingest-${station}-w2`);
    // Without the shared filter each worker would store everything (idempotently), so check it.
    for (const l of logs) expect(l).toContain(`$share/${station}/radscreen/v1/`);

    // 40 messages of 5 readings on 4 device topics.
    const pub = await mqtt.connectAsync(services.mqttUrl, { protocolVersion: 5 });
    const t0 = Date.now() - 600_000;
    for (let m = 0; m < 40; m++) {
      const device = `d${m % 4}`;
      const readings = Array.from({ length: 5 }, (_, i) => ({
        station,
        device,
        profile: 'mightyohm-geiger',
        kind: 'dosimeter',
        ts: t0 + m * 5 + i,
        ts_source: 'agent',
        values: { cpm: i, dose_rate: i / 175 },
        quality: 'good',
        source: 'simulated',
      }));
      await pub.publishAsync(topics.readings(station, device), JSON.stringify({ v: 1, readings }), { qos: 1 });
    }
    await pub.endAsync();
    let stored = 0;
    await waitFor(
      async () => {
        stored = await countPoints(services.influxUrl, db, 'radiation');
        return stored >= 200;
      },
      { timeoutMs: 20_000, everyMs: 200, describe: () => stored },
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(await countPoints(services.influxUrl, db, 'radiation')).toBe(200);
    expect(existsSync(join(dir, 'data', 'ingest', 'spool-w1.sqlite'))).toBe(true);
    expect(existsSync(join(dir, 'data', 'ingest', 'spool-w2.sqlite'))).toBe(true);
  });
});
