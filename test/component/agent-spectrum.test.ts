import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogue as builtIn } from '../../devices/index.ts';
import { type Agent, startAgent } from '../../src/agent/agent.ts';
import { parseConfig } from '../../src/config/load.ts';
import { DEADLETTER_TOPIC, type DeadLetter, DeadLetterSchema, topics } from '../../src/core/contract.ts';
import type { DeviceProfile, SessionSpectrum } from '../../src/core/profile.ts';
import { parseSpectrumMessage, type SpectrumMessage } from '../../src/spectra/contract.ts';
import type { EmbeddedBroker } from '../../src/station/embedded-broker.ts';
import type { DeviceLink } from '../../src/transports/link.ts';
import { asServer, startTestBroker } from '../support/mqtt-identities.ts';
import { waitFor } from '../support/wait.ts';

/**
 * The agent's side of SessionContext.spectrum: a valid spectrum is completed (device, class) and
 * published on the device's spectrum topic; an invalid one is counted and dead-lettered with
 * RS_ERR_SPECTRUM_INVALID under the spectrum topic, never published. A session of a stand-in
 * family emits both, on an in-memory link.
 */
const good: SessionSpectrum = {
  channels: 16,
  counts: new Array(16).fill(7),
  calibration: [0, 30],
  live_time_s: 12,
  model: 'Test-1',
  ts: Date.now() - 12_000,
};
const bad: SessionSpectrum = { ...good, counts: good.counts.slice(2) };

const radiacode = builtIn.get('radiacode') as DeviceProfile;
const stand: DeviceProfile = {
  ...radiacode,
  id: 'test-spectrometer',
  optionsSchema: undefined,
  createSession: (ctx) => ({
    push() {},
    start() {
      ctx.spectrum?.(bad);
      ctx.spectrum?.(good);
    },
    stop() {},
  }),
};
const catalogue = new Map<string, DeviceProfile>([...builtIn, [stand.id, stand]]);
const link: DeviceLink = {
  description: 'in-memory',
  open: (h) => h.state('online', {}),
  write: async () => {},
  close: async () => {},
};

describe('agent: spectra from a session', () => {
  const dir = mkdtempSync(join(tmpdir(), 'radscreen-agent-spectrum-'));
  let broker: EmbeddedBroker;
  let watcher: MqttClient;
  let agent: Agent;
  const spectra: SpectrumMessage[] = [];
  const letters: DeadLetter[] = [];

  beforeAll(async () => {
    broker = await startTestBroker(dir);
    watcher = await mqtt.connectAsync(broker.url, { protocolVersion: 4, ...asServer(dir, 'sp') });
    watcher.on('message', (topic, payload) => {
      if (topic === DEADLETTER_TOPIC) letters.push(DeadLetterSchema.parse(JSON.parse(payload.toString())));
      else {
        const parsed = parseSpectrumMessage(payload);
        if (parsed.ok) spectra.push(parsed.message);
      }
    });
    await watcher.subscribeAsync([DEADLETTER_TOPIC, topics.allSpectra('sp')], { qos: 1 });
    const config = parseConfig(
      `station: { id: sp }\ndata_dir: ${dir}\ndevices:\n  - { id: s1, profile: test-spectrometer, serial: { path: /dev/null } }\n`,
      {
        catalogue,
        env: {},
      },
    );
    agent = startAgent({ config, catalogue, mqttUrl: broker.url, log: pino({ level: 'silent' }), links: new Map([['s1', link]]) });
  });

  afterAll(async () => {
    await agent?.stop();
    await watcher?.endAsync();
    await broker?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('publishes the valid one, completed, and dead-letters the invalid one under the spectrum topic', async () => {
    await waitFor(() => spectra.length >= 1 && letters.length >= 1, { timeoutMs: 10_000, describe: () => ({ spectra, letters }) });
    expect(spectra).toHaveLength(1);
    expect(spectra[0]).toMatchObject({ station: 'sp', device: 's1', spectrum: { ...good, device: 's1', measurement_class: 'Foreground' } });
    expect(letters[0]).toMatchObject({ code: 'RS_ERR_SPECTRUM_INVALID', topic: topics.spectrum('sp', 's1') });
    expect(letters[0]?.reason).toMatch(/counts/);
    expect(agent.stats().find((s) => s.device === 's1')?.rejected).toEqual({ RS_ERR_SPECTRUM_INVALID: 1 });
  });
});
