import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { DEADLETTER_TOPIC, type DeadLetter, type StatusMessage, topics } from '../../src/core/contract.ts';
import { stopChild } from '../support/services.ts';
import { waitFor } from '../support/wait.ts';

/**
 * Issue 8 §11 and the device-status contract (§8's input), on real processes and the shared
 * mosquitto: `radscreen agent` dead-letters what it rejects (range, timestamp window, malformed)
 * with the stable code and counts it per device and code on its own /metrics; `radscreen ingest`
 * serves /metrics too. A serial device whose port does not exist is published as `error` with a
 * code and a one-sentence reason, and logged at error level, not info.
 */
const services = inject('services');
const children: ChildProcess[] = [];
afterEach(async () => {
  await Promise.all(children.splice(0).map((c) => stopChild(c, 3000)));
});

/** Starts a radscreen command; resolves with its log and the /metrics URL it printed. */
async function startCli(args: string[]): Promise<{ child: ChildProcess; log: () => string; metricsUrl: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args, '--metrics-port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  let url = '';
  await waitFor(
    () => {
      url = /metrics on (http:\/\/\S+\/metrics)/.exec(out)?.[1] ?? '';
      return url !== '';
    },
    { timeoutMs: 20_000, describe: () => out.slice(-2000) },
  );
  return { child, log: () => out, metricsUrl: url };
}

/** The value of one sample line, e.g. `name{a="b"} 3`, or undefined. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    const inside = line.slice(name.length + 1, line.indexOf('}'));
    if (want.every((w) => inside.split(',').includes(w))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe('agent rejects, dead letters, device status and /metrics on real processes', () => {
  it('dead-letters bad readings with their code, counts them on /metrics, and says why a port will not open', async () => {
    const dir = mkdtempSync(join(services.tmpDir, 'agent-dl-'));
    const station = `dl${Date.now() % 1_000_000}`;
    const cfg = join(dir, 'radscreen.yaml');
    const deviceTopic = `dev/${station}/j1`;
    const missingPath = join(dir, 'no-such-tty');
    writeFileSync(
      cfg,
      [
        `station: { id: ${station} }`,
        `data_dir: ${join(dir, 'data')}`,
        `mqtt: { url: '${services.mqttUrl}' }`,
        'time_window: { future_s: 60, past_s: 86400 }',
        'devices:',
        '  - id: j1',
        '    profile: mqtt-json',
        `    mqtt: { topic: '${deviceTopic}' }`,
        '    options: { fields: { counts: { path: n, unit: counts } }, timestamp: { path: t, format: ms } }',
        '  - id: s1',
        '    profile: mightyohm-geiger',
        `    serial: { path: '${missingPath}' }`,
        '',
      ].join('\n'),
    );
    const letters: DeadLetter[] = [];
    const statuses: StatusMessage[] = [];
    const watcher = await mqtt.connectAsync(services.mqttUrl, { protocolVersion: 4 });
    watcher.on('message', (topic, payload) => {
      const body = JSON.parse(payload.toString());
      if (topic === DEADLETTER_TOPIC) letters.push(body as DeadLetter);
      else statuses.push(body as StatusMessage);
    });
    await watcher.subscribeAsync([DEADLETTER_TOPIC, topics.status(station, 's1')], { qos: 1 });

    const agent = await startCli(['agent', '-c', cfg]);
    await waitFor(() => /"device":"j1".*"msg":"device online"/.test(agent.log()), {
      timeoutMs: 20_000,
      describe: () => agent.log().slice(-2000),
    });

    const dev = await mqtt.connectAsync(services.mqttUrl, { protocolVersion: 4 });
    const now = Date.now();
    const bad = [
      { payload: JSON.stringify({ n: -5, t: now }), code: 'RS_ERR_FRAME_RANGE' },
      { payload: JSON.stringify({ n: 7, t: now + 86_400_000 }), code: 'RS_ERR_TS_FUTURE' },
      { payload: JSON.stringify({ n: 8, t: now - 40 * 86_400_000 }), code: 'RS_ERR_TS_PAST' },
      { payload: '{"n": 9, "t": ', code: 'RS_ERR_PAYLOAD_JSON' },
    ];
    for (const b of bad) await dev.publishAsync(deviceTopic, b.payload, { qos: 1 });
    await dev.publishAsync(deviceTopic, JSON.stringify({ n: 10, t: now }), { qos: 1 });
    await dev.endAsync();

    const ours = () => letters.filter((l) => l.topic === topics.readings(station, 'j1'));
    await waitFor(() => ours().length >= bad.length, { timeoutMs: 10_000, describe: () => letters });
    expect(ours().map((l) => l.code)).toEqual(bad.map((b) => b.code));
    // The letter carries what was refused: the device's bytes, or the decoded reading for a timestamp reject.
    expect(Buffer.from(ours()[0]?.payload_b64 ?? '', 'base64').toString()).toBe(bad[0]?.payload);
    expect(JSON.parse(Buffer.from(ours()[1]?.payload_b64 ?? '', 'base64').toString())).toMatchObject({
      device: 'j1',
      ts: now + 86_400_000,
    });
    expect(ours()[1]?.reason).toMatch(/ahead of this clock/);

    // /metrics of the agent process: rejects per device and code, dead letters, outbox depth.
    let text = '';
    await waitFor(
      async () => {
        text = await (await fetch(agent.metricsUrl)).text();
        return sample(text, 'radscreen_agent_readings_accepted_total', { device: 'j1' }) === 1;
      },
      { timeoutMs: 10_000, describe: () => text.slice(0, 3000) },
    );
    for (const b of bad) expect(sample(text, 'radscreen_agent_rejects_total', { device: 'j1', code: b.code })).toBe(1);
    expect(sample(text, 'radscreen_agent_deadletters_total', { device: 'j1', outcome: 'sent' })).toBe(bad.length);
    expect(sample(text, 'radscreen_agent_outbox_depth_readings', { device: 'j1' })).toBeDefined();
    expect(text).toContain('radscreen_process_resident_memory_bytes');

    // The serial device that cannot open: error, with its code and a reason naming the path.
    await waitFor(() => statuses.some((s) => s.state === 'error'), { timeoutMs: 10_000, describe: () => statuses });
    const err = statuses.find((s) => s.state === 'error') as StatusMessage;
    expect(err.detail.code).toBe('RS_ERR_PORT_OPEN');
    expect(String(err.detail.reason)).toContain(missingPath);
    const lines = agent
      .log()
      .split('\n')
      .filter((l) => l.includes('"device":"s1"') && l.includes('device error'));
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect((JSON.parse(l) as { level: number }).level).toBeGreaterThanOrEqual(40);
    expect(sample(text, 'radscreen_agent_device_online', { device: 's1' })).toBe(0);
    await watcher.endAsync();
  });

  it('radscreen ingest serves /metrics with its spool figures', async () => {
    const dir = mkdtempSync(join(services.tmpDir, 'ingest-metrics-'));
    const cfg = join(dir, 'radscreen.yaml');
    writeFileSync(
      cfg,
      [
        `station: { id: im${Date.now() % 1_000_000} }`,
        `data_dir: ${join(dir, 'data')}`,
        `mqtt: { url: '${services.mqttUrl}' }`,
        `influx: { url: '${services.influxUrl}', database: im_${Date.now()} }`,
        '',
      ].join('\n'),
    );
    const ingest = await startCli(['ingest', '-c', cfg]);
    const res = await fetch(ingest.metricsUrl);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/^radscreen_ingest_spool_depth_points \d+$/m);
    expect(text).toContain('radscreen_ingest_points_written_total');
    expect((await fetch(ingest.metricsUrl.replace('/metrics', '/other'))).status).toBe(404);
  });
});
