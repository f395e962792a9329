import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { catalogue } from '../../devices/index.ts';
import { followCalibration } from '../../src/agent/calibration.ts';
import { signCalibration } from '../../src/calibration/signing.ts';
import { type CalibrationMessage, topics } from '../../src/core/contract.ts';
import type { DeviceProfile } from '../../src/core/profile.ts';
import type { EmbeddedBroker } from '../../src/station/embedded-broker.ts';
import { asAgent, asServer, startTestBroker } from '../support/mqtt-identities.ts';
import { waitFor } from '../support/wait.ts';

/** The agent keeps the calibration in force on disk, for restarts when nobody re-sends it. */
describe('calibration kept by the agent', () => {
  const dir = mkdtempSync(join(tmpdir(), 'radscreen-cal-'));
  const cachePath = join(dir, 'calibration', 'g1.json');
  const profile = catalogue.get('mightyohm-geiger') as DeviceProfile;
  const quiet = { info() {}, warn() {} };
  const key = randomBytes(32);
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function agentClient(broker: EmbeddedBroker, as: 'agent' | 'server' = 'agent'): Promise<MqttClient> {
    const login = as === 'server' ? asServer(dir, 's1') : asAgent(dir, 's1', 'g1');
    const c = await mqtt.connectAsync(broker.url, { protocolVersion: 4, ...login });
    cleanups.push(() => c.endAsync());
    return c;
  }

  it('applies the last good calibration after a restart when the broker no longer has it', async () => {
    const message: CalibrationMessage = signCalibration(
      {
        v: 1,
        station: 's1',
        device: 'g1',
        calibration_id: 'cal-20261129-abc123',
        seq: 1,
        kind: 'sensitivity',
        factor: 160,
        calibrated_at: Date.now() - 1000,
        due: '2027-11-29',
      },
      key,
    );
    const first = await startTestBroker(dir);
    const follow = (client: MqttClient) =>
      followCalibration({ client, station: 's1', device: 'g1', profile, key, log: quiet, onInvalid: () => {}, cachePath });
    const current = follow(await agentClient(first));
    const server = await agentClient(first, 'server');
    await server.publishAsync(topics.calibration('s1', 'g1'), JSON.stringify(message), { qos: 1, retain: true });
    await waitFor(() => current()?.calibration_id === message.calibration_id, { timeoutMs: 5000 });
    expect(JSON.parse(readFileSync(cachePath, 'utf8')).calibration_id).toBe(message.calibration_id);
    for (const c of cleanups.splice(0).reverse()) await c();
    await first.close();

    // A new broker knows nothing retained; the restarted agent still has the calibration.
    const second = await startTestBroker(dir);
    cleanups.push(() => second.close());
    const afterRestart = follow(await agentClient(second));
    expect(afterRestart()).toMatchObject({ calibration_id: message.calibration_id, factor: 160 });
  });

  it('ignores a corrupt local copy and waits for the server', async () => {
    rmSync(dir, { recursive: true, force: true });
    const broker = await startTestBroker(dir);
    cleanups.push(() => broker.close());
    mkdirSync(join(dir, 'calibration'), { recursive: true });
    writeFileSync(cachePath, '{ half a calib');
    const warnings: string[] = [];
    const current = followCalibration({
      client: await agentClient(broker),
      station: 's1',
      device: 'g1',
      profile,
      key,
      log: { info() {}, warn: (_o, m) => void warnings.push(m ?? '') },
      onInvalid: () => {},
      cachePath,
    });
    expect(current()).toBeUndefined();
    expect(warnings).toEqual(['cached calibration unreadable; waiting for the server']);
  });

  it('does not trust a forged local copy at restart (today: a 1e9 factor survived a restart)', async () => {
    rmSync(dir, { recursive: true, force: true });
    const broker = await startTestBroker(dir);
    cleanups.push(() => broker.close());
    mkdirSync(join(dir, 'calibration'), { recursive: true });
    const forged = { v: 1, station: 's1', device: 'g1', calibration_id: 'cal-x', seq: 7, kind: 'sensitivity', factor: 1e9 } as const;
    const base = { ...forged, calibrated_at: Date.now(), due: '2099-01-01' } as const;
    const copies = [
      JSON.stringify(base),
      JSON.stringify(signCalibration({ ...base, factor: 100 }, randomBytes(32))),
      JSON.stringify({ ...signCalibration({ ...base, factor: 100 }, key), factor: 101 }),
    ];
    for (const copy of copies) {
      writeFileSync(cachePath, copy);
      const refused: string[] = [];
      const warnings: string[] = [];
      const current = followCalibration({
        client: await agentClient(broker),
        station: 's1',
        device: 'g1',
        profile,
        key,
        log: { info() {}, warn: (_o, m) => void warnings.push(m ?? '') },
        onInvalid: (code) => void refused.push(code),
        cachePath,
      });
      expect(current()).toBeUndefined();
      expect(refused).toEqual(['RS_ERR_CALIBRATION_UNTRUSTED']);
      expect(warnings).toContain('cached calibration not trusted; waiting for the server');
    }
  });

  it('keeps only a verified calibration on disk, 0600', async () => {
    rmSync(dir, { recursive: true, force: true });
    const broker = await startTestBroker(dir);
    cleanups.push(() => broker.close());
    const refused: string[] = [];
    const current = followCalibration({
      client: await agentClient(broker),
      station: 's1',
      device: 'g1',
      profile,
      key,
      log: quiet,
      onInvalid: (code) => void refused.push(code),
      cachePath,
    });
    // Even the server identity (the only one the broker lets publish here) needs a valid signature.
    const publisher = await agentClient(broker, 'server');
    const base = { v: 1, station: 's1', device: 'g1', kind: 'sensitivity', calibrated_at: Date.now(), due: '2099-01-01' } as const;
    await publisher.publishAsync(topics.calibration('s1', 'g1'), JSON.stringify({ ...base, calibration_id: 'cal-forged', factor: 1e9 }), {
      qos: 1,
    });
    await waitFor(() => refused.length === 1, { timeoutMs: 5000 });
    expect(existsSync(cachePath)).toBe(false);
    const good = signCalibration({ ...base, calibration_id: 'cal-good', seq: 3, factor: 120 }, key);
    await publisher.publishAsync(topics.calibration('s1', 'g1'), JSON.stringify(good), { qos: 1 });
    await waitFor(() => current()?.calibration_id === 'cal-good', { timeoutMs: 5000 });
    expect(statSync(cachePath).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(cachePath, 'utf8'))).toEqual(good);
  });

  it('an agent started before the server wrote its key refuses calibrations until the key appears', async () => {
    rmSync(dir, { recursive: true, force: true });
    const broker = await startTestBroker(dir);
    cleanups.push(() => broker.close());
    let available: Buffer | undefined;
    const refused: string[] = [];
    const current = followCalibration({
      client: await agentClient(broker),
      station: 's1',
      device: 'g1',
      profile,
      key: () => available,
      log: quiet,
      onInvalid: (code) => void refused.push(code),
    });
    const publisher = await agentClient(broker, 'server');
    const base = { v: 1, station: 's1', device: 'g1', kind: 'sensitivity', calibrated_at: Date.now(), due: '2099-01-01' } as const;
    const first = signCalibration({ ...base, calibration_id: 'cal-1', seq: 1, factor: 150 }, key);
    await publisher.publishAsync(topics.calibration('s1', 'g1'), JSON.stringify(first), { qos: 1 });
    await waitFor(() => refused.length === 1, { timeoutMs: 5000 });
    expect(refused).toEqual(['RS_ERR_CALIBRATION_UNTRUSTED']);
    expect(current()).toBeUndefined();
    available = key;
    await publisher.publishAsync(topics.calibration('s1', 'g1'), JSON.stringify({ ...first }), { qos: 1 });
    await waitFor(() => current()?.calibration_id === 'cal-1', { timeoutMs: 5000 });
  });
});
