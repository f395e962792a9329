import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogue } from '../../devices/index.ts';
import { simulators } from '../../simulators/index.ts';
import { type Agent, startAgent } from '../../src/agent/agent.ts';
import { type SimulatedLinks, startSimulatedLinks } from '../../src/agent/simulated-links.ts';
import { parseConfig } from '../../src/config/load.ts';
import { type ReadingsMessage, type StatusMessage, topics } from '../../src/core/contract.ts';
import { parseSpectrumMessage, type SpectrumMessage } from '../../src/spectra/contract.ts';
import type { EmbeddedBroker } from '../../src/station/embedded-broker.ts';
import { asServer, startTestBroker } from '../support/mqtt-identities.ts';
import { waitFor } from '../support/wait.ts';

/**
 * Every simulated family through the agent on socat ptys: poll devices (GMC, Rad Pro) are
 * polled, stream devices stream; pulling a device's cable (socat gone) marks it offline, and
 * it reads again within 5 s of coming back, without spinning the CPU while it is gone.
 */
const families = ['gq-gmc', 'radpro', 'safecast-bgeigie', 'mightyohm-geiger', 'xray-parcel-scanner', 'radiacode'].filter((id) =>
  catalogue.has(id),
);

describe('agent ↔ simulators on socat ptys', () => {
  const dir = mkdtempSync(join(tmpdir(), 'radscreen-agent-pty-'));
  let broker: EmbeddedBroker;
  let sub: MqttClient;
  let sims: SimulatedLinks;
  let agent: Agent;
  const readings = new Map<string, ReadingsMessage['readings']>();
  const statuses = new Map<string, StatusMessage[]>();
  const spectra: (SpectrumMessage | string)[] = [];

  const count = (id: string) => readings.get(id)?.length ?? 0;

  beforeAll(async () => {
    broker = await startTestBroker(dir);
    const url = broker.url;
    sub = await mqtt.connectAsync(url, { protocolVersion: 4, ...asServer(dir, 'pty') });
    sub.on('message', (topic, payload) => {
      if (topic.endsWith('/spectrum')) {
        const parsed = parseSpectrumMessage(payload);
        spectra.push(parsed.ok ? parsed.message : `${parsed.code}: ${parsed.reason}`);
        return;
      }
      const body = JSON.parse(payload.toString());
      const device = topic.split('/')[3] as string;
      if (topic.endsWith('/readings')) readings.set(device, [...(readings.get(device) ?? []), ...(body as ReadingsMessage).readings]);
      if (topic.endsWith('/status')) statuses.set(device, [...(statuses.get(device) ?? []), body as StatusMessage]);
    });
    await sub.subscribeAsync([topics.allReadings('pty'), topics.allStatus('pty'), topics.allSpectra('pty')], { qos: 1 });

    const config = parseConfig(
      `station: { id: pty }\ndata_dir: ${dir}\ndevices:\n${families
        .map(
          (f) =>
            `  - { id: ${f}, profile: ${f}, no_data_timeout_s: 3, simulate: { tick_ms: 100, seed: 9 }${f === 'radiacode' ? ', options: { spectrum_interval_s: 1 }' : ''} }`,
        )
        .join('\n')}\n`,
      { catalogue, env: {} },
    );
    sims = await startSimulatedLinks({ devices: config.devices, catalogue, simulators, dataDir: dir, log: pino({ level: 'silent' }) });
    agent = startAgent({ config, catalogue, mqttUrl: url, log: pino({ level: 'silent' }), links: sims.links, coalesceMs: 10 });
  });

  afterAll(async () => {
    await agent?.stop();
    await sims?.stop();
    await sub?.endAsync();
    await broker?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it.each(families)('%s: readings arrive through the real serialport, with no rejects', async (id) => {
    expect(sims.mode).toBe('pty');
    await waitFor(() => count(id) >= 3, { timeoutMs: 15_000, describe: () => `3 readings from ${id}` });
    const r = readings.get(id)?.[0];
    expect(r).toMatchObject({ station: 'pty', device: id, profile: id, source: 'simulated' });
    expect(agent.stats().find((s) => s.device === id)?.rejected).toEqual({});
  });

  it.runIf(families.includes('radiacode'))(
    'radiacode: its spectra arrive on its own spectrum topic, valid under the contract',
    async () => {
      await waitFor(() => spectra.length >= 2, { timeoutMs: 15_000, describe: () => '2 spectra from radiacode' });
      const [first, second] = spectra as SpectrumMessage[];
      expect(spectra.filter((s) => typeof s === 'string')).toEqual([]);
      expect(first).toMatchObject({
        v: 1,
        station: 'pty',
        device: 'radiacode',
        spectrum: { device: 'radiacode', channels: 1024, model: 'RadiaCode-102' },
      });
      // A running total: the second read has at least the live time and counts of the first.
      expect(second?.spectrum.live_time_s).toBeGreaterThanOrEqual(first?.spectrum.live_time_s as number);
      const total = (s: SpectrumMessage | undefined) => (s?.spectrum.counts ?? []).reduce((a, b) => a + b, 0);
      expect(total(first)).toBeGreaterThan(0);
      expect(total(second)).toBeGreaterThanOrEqual(total(first));
    },
  );

  it.each(families)('%s: a pulled cable goes offline, idles, and reads again within 5 s of its return', async (id) => {
    await sims.unplug(id);
    const seen = () => statuses.get(id) ?? [];
    await waitFor(() => seen().some((s) => s.state === 'offline' && s.detail.code === 'RS_ERR_PORT_LOST'), {
      timeoutMs: 5_000,
      describe: () => `${id} offline`,
    });
    const cpuBefore = process.cpuUsage();
    const wallBefore = performance.now();
    await new Promise((r) => setTimeout(r, 1000));
    const cpuMs = (process.cpuUsage(cpuBefore).user + process.cpuUsage(cpuBefore).system) / 1000;
    // A reader spinning on a dead pty burns ~80 % of a core (docs/runtime-facts.md §3); idle is a few %.
    expect(cpuMs / (performance.now() - wallBefore)).toBeLessThan(0.3);

    const before = count(id);
    await sims.replug(id);
    const back = Date.now();
    await waitFor(() => count(id) > before, { timeoutMs: 5_000 + 1_000, describe: () => `${id} readings after replug` });
    expect(Date.now() - back).toBeLessThan(5_000 + 1_000);
    expect(agent.stats().find((s) => s.device === id)?.state).toBe('online');
  });
});
