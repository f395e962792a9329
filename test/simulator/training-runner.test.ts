import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogue } from '../../devices/index.ts';
import { simulators } from '../../simulators/index.ts';
import { createAlarmEngine } from '../../src/alarms/engine.ts';
import { rulesFromConfig } from '../../src/alarms/rules-from-config.ts';
import type { AlarmTransition } from '../../src/alarms/types.ts';
import { parseConfig } from '../../src/config/load.ts';
import { type ReadingsMessage, topics } from '../../src/core/contract.ts';
import type { Reading } from '../../src/core/reading.ts';
import type { EmbeddedBroker } from '../../src/station/embedded-broker.ts';
import { runScenario } from '../../src/training/runner.ts';
import { loadScenario, SCENARIO_DIR } from '../../src/training/scenario.ts';
import { asServer, startTestBroker } from '../support/mqtt-identities.ts';
import { waitFor } from '../support/wait.ts';

/**
 * The scenario runner drives the real pipeline (simulators on socat ptys → agent → MQTT) on the
 * station's embedded broker, sped up 20×: readings arrive tagged training under `training-<id>`,
 * and the alarm engine, fed from the broker as the server is, raises the interlock emergency.
 */
describe('training scenario runner on the embedded broker', () => {
  const dir = mkdtempSync(join(tmpdir(), 'radscreen-training-'));
  const config = parseConfig(`station: { id: st-train }\ndata_dir: ${dir}\ndevices: []\n`, { catalogue, env: {} });
  const engine = createAlarmEngine({ now: Date.now, rules: rulesFromConfig(config, catalogue) });
  const readings: Reading[] = [];
  const transitions: AlarmTransition[] = [];
  const listeners = new Set<(t: AlarmTransition) => void>();
  let broker: EmbeddedBroker;
  let sub: MqttClient;

  beforeAll(async () => {
    broker = await startTestBroker(dir);
    sub = await mqtt.connectAsync(broker.url, { protocolVersion: 4, ...asServer(dir, 'st-train') });
    sub.on('message', (topic, payload) => {
      if (!topic.endsWith('/readings')) return;
      for (const r of (JSON.parse(payload.toString()) as ReadingsMessage).readings) {
        readings.push(r);
        for (const t of engine.evaluate(r)) {
          transitions.push(t);
          for (const l of listeners) l(t);
        }
      }
    });
    await sub.subscribeAsync(topics.allReadings('st-train'), { qos: 1 });
  });

  afterAll(async () => {
    await sub?.endAsync();
    await broker?.close();
    engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = (name: string, extra: { forceMemory?: boolean } = {}) =>
    runScenario({
      scenario: loadScenario(join(SCENARIO_DIR, `${name}.yaml`)),
      config,
      catalogue,
      simulators,
      mqttUrl: broker.url,
      log: pino({ level: 'silent' }),
      speed: 20,
      ...extra,
      watchAlarms: (l) => {
        listeners.add(l);
        return () => listeners.delete(l);
      },
    });

  it('the interlock scenario publishes training readings and raises xray_interlock_open_beam_on as a training alarm', async () => {
    const run = await start('xray-interlock-beam-on');
    expect(run.devices).toEqual(['training-parcel-scanner']);
    const final = await run.done;
    expect(final).toMatchObject({ state: 'finished', scenario: 'xray-interlock-beam-on', error: null });
    const mine = readings.filter((r) => r.device === 'training-parcel-scanner');
    expect(mine.length).toBeGreaterThan(30);
    expect(mine.every((r) => r.source === 'training' && r.station === 'st-train')).toBe(true);
    expect(readings.some((r) => r.device === 'parcel-scanner')).toBe(false);
    // The door was open with the beam firing (the bypass), then closed and re-armed.
    expect(mine.some((r) => r.values.interlocks_closed === false && r.values.beam_on === true)).toBe(true);
    expect(mine.some((r) => r.values.event === 'reset')).toBe(true);
    const raised = transitions.find((t) => t.kind === 'raised' && t.alarm.rule === 'xray_interlock_open_beam_on');
    expect(raised?.alarm).toMatchObject({ device: 'training-parcel-scanner', source: 'training', severity: 'emergency' });
    expect(final.alarms_raised).toBeGreaterThanOrEqual(1);
    expect(final.readings_published).toBeGreaterThanOrEqual(mine.length);
    expect(final.last_action).toMatch(/reset/);
  });

  it('a cable pull silences the device until it is plugged back in; stop() ends a run early', async () => {
    for (const forceMemory of [false, true]) {
      const run = await start('geiger-cable-pulled', { forceMemory });
      const id = 'training-chute-geiger';
      const count = () => readings.filter((r) => r.device === id).length;
      // Pulled at 30 s, back at 90 s (1.5 s and 4.5 s wall at 20×). Waits follow the run's own
      // progress, not the wall clock, so a loaded machine cannot shift the windows under the test.
      const lastAction = () => run.progress().last_action ?? '';
      await waitFor(() => /cable pulled/.test(lastAction()), { timeoutMs: 30_000, everyMs: 10, describe: lastAction });
      // Up to ~3 readings (50 ms each at 20×) may be on their way when the pull is seen.
      const during = count() + 3;
      // 50 scenario seconds unplugged (counted before the replug at 90 s): a device that kept
      // talking would have sent ~50 readings.
      await waitFor(() => run.progress().elapsed_s >= 80, { timeoutMs: 30_000, describe: () => run.progress() });
      expect(lastAction(), 'still unplugged').toMatch(/cable pulled/);
      expect(count(), `no readings while unplugged (${run.mode})`).toBeLessThanOrEqual(during);
      await waitFor(() => /plugged back in/.test(lastAction()), { timeoutMs: 30_000, describe: lastAction });
      await waitFor(() => count() > during + 3, { timeoutMs: 30_000, describe: () => ({ mode: run.mode, during, now: count() }) });
      const final = await run.stop();
      expect(final.state).toBe('stopped');
      expect(await run.done).toEqual(final);
      readings.length = 0;
    }
    // The run's devices are gone for good: no retained status is left for a restarted server.
    const fresh = await mqtt.connectAsync(broker.url, { protocolVersion: 4, ...asServer(dir, 'st-train') });
    const retained: string[] = [];
    fresh.on('message', (topic, payload) => payload.length > 0 && retained.push(topic));
    await fresh.subscribeAsync(topics.status('st-train', 'training-chute-geiger'), { qos: 1 });
    await new Promise((r) => setTimeout(r, 300));
    await fresh.endAsync();
    expect(retained).toEqual([]);
  });
});
