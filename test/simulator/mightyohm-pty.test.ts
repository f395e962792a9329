import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { SerialPort } from 'serialport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mightyohmGeiger } from '../../devices/mightyohm-geiger/profile.ts';
import { createMightyOhmSimulator } from '../../simulators/mightyohm-geiger.ts';
import { type DeviceRunner, runDevice } from '../../src/agent/device-runner.ts';
import { type ReadingsMessage, type StatusMessage, topics } from '../../src/core/contract.ts';
import type { EmbeddedBroker } from '../../src/station/embedded-broker.ts';
import { createSerialLink } from '../../src/transports/serial-link.ts';
import { type PtyPair, startPtyPair } from '../../src/transports/socat.ts';
import { asAgent, asServer, startTestBroker } from '../support/mqtt-identities.ts';
import { waitFor } from '../support/wait.ts';

/**
 * The real chain on real ptys: the simulator writes the device end of a socat pair through the
 * real serialport, the agent reads the other end through the real serialport, and readings
 * arrive over MQTT (an in-process aedes broker).
 */
describe('MightyOhm simulator → socat pty → agent → MQTT', () => {
  const dir = mkdtempSync(join(tmpdir(), 'radscreen-pty-'));
  const agentPath = join(dir, 'agent');
  const devicePath = join(dir, 'device');
  let pair: PtyPair;
  let devicePort: SerialPort;
  let broker: EmbeddedBroker;
  let sub: MqttClient;
  let runner: DeviceRunner;
  const readings: ReadingsMessage['readings'] = [];
  const statuses: StatusMessage[] = [];
  const stopSim: (() => void)[] = [];

  async function openDeviceEnd(): Promise<SerialPort> {
    const port = new SerialPort({ path: devicePath, baudRate: 9600, autoOpen: false });
    await new Promise<void>((res, rej) => port.open((e) => (e ? rej(e) : res())));
    port.on('error', () => {});
    return port;
  }

  beforeAll(async () => {
    broker = await startTestBroker(dir);
    const url = broker.url;
    sub = await mqtt.connectAsync(url, { protocolVersion: 4, ...asServer(dir, 't1') });
    sub.on('message', (topic, payload) => {
      const body = JSON.parse(payload.toString());
      if (topic.endsWith('/readings')) readings.push(...(body as ReadingsMessage).readings);
      if (topic.endsWith('/status')) statuses.push(body as StatusMessage);
    });
    await sub.subscribeAsync([topics.allReadings('t1'), topics.allStatus('t1')], { qos: 1 });

    pair = await startPtyPair(agentPath, devicePath);
    devicePort = await openDeviceEnd();
    const sim = createMightyOhmSimulator(
      { write: (b) => void devicePort.write(b), onData: () => {} },
      { background_usvh: 0.2, events: [], seed: 3, tick_ms: 40 },
    );
    sim.start();
    stopSim.push(() => sim.stop());
    const link = createSerialLink({ path: agentPath, baudRate: 9600, noDataTimeoutMs: 400, backoff: { initialMs: 100, maxMs: 400 } });
    runner = runDevice({
      station: 't1',
      device: 'g1',
      profile: mightyohmGeiger,
      source: 'simulated',
      options: {},
      link,
      mqttUrl: url,
      mqttOptions: asAgent(dir, 't1', 'g1'),
      coalesceMs: 20,
      log: pino({ level: 'silent' }),
    });
  });

  afterAll(async () => {
    for (const s of stopSim) s();
    await runner?.stop();
    if (devicePort?.isOpen) await new Promise((r) => devicePort.close(r));
    await pair?.stop();
    await sub?.endAsync();
    await broker?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('publishes canonical readings and a retained online status', async () => {
    await waitFor(() => readings.length >= 10, { timeoutMs: 10_000, describe: () => '10 readings' });
    const r = readings[0];
    expect(r).toMatchObject({ station: 't1', device: 'g1', profile: 'mightyohm-geiger', kind: 'dosimeter', source: 'simulated' });
    expect(Object.keys(r?.values ?? {}).sort()).toEqual(['cpm', 'cps', 'dose_rate', 'mode']);
    expect(statuses.some((s) => s.state === 'online')).toBe(true);
  });

  it('counts a garbage line as a reject with its code and keeps the stream going', async () => {
    const before = readings.length;
    devicePort.write(Buffer.from('\x00\xff\xfe garbage from a noisy cable\r\n', 'latin1'));
    await waitFor(() => (runner.stats().rejected.RS_ERR_FRAME_UNKNOWN ?? 0) === 1, {
      timeoutMs: 5000,
      describe: () => 'the reject to be counted',
    });
    await waitFor(() => readings.length >= before + 5, { timeoutMs: 5000, describe: () => 'readings after the garbage' });
    expect(runner.stats().rejected).toEqual({ RS_ERR_FRAME_UNKNOWN: 1 });
  });

  it('notices the pty vanishing, reports it, and reconnects when it returns', async () => {
    for (const s of stopSim.splice(0)) s();
    await new Promise((r) => devicePort.close(r));
    await pair.stop();
    await waitFor(() => statuses.some((s) => s.state === 'offline' && s.detail.code === 'RS_ERR_PORT_LOST'), {
      timeoutMs: 5000,
      describe: () => 'a port-lost status',
    });

    pair = await startPtyPair(agentPath, devicePath);
    devicePort = await openDeviceEnd();
    const sim = createMightyOhmSimulator(
      { write: (b) => void devicePort.write(b), onData: () => {} },
      { background_usvh: 0.2, events: [], seed: 4, tick_ms: 40 },
    );
    sim.start();
    stopSim.push(() => sim.stop());
    const before = readings.length;
    await waitFor(() => readings.length >= before + 5, { timeoutMs: 10_000, describe: () => 'readings after reconnecting' });
    expect(runner.stats().state).toBe('online');
  });
});
