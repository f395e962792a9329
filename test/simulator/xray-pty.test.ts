import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { SerialPort } from 'serialport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { xrayParcelScanner } from '../../devices/xray-parcel-scanner/profile.ts';
import { createXrayParcelScannerSimulator, type XraySimulator } from '../../simulators/xray-parcel-scanner.ts';
import { type DeviceRunner, runDevice } from '../../src/agent/device-runner.ts';
import { type ReadingsMessage, topics } from '../../src/core/contract.ts';
import { parseSessionOptions } from '../../src/core/profile.ts';
import type { EmbeddedBroker } from '../../src/station/embedded-broker.ts';
import { createSerialLink } from '../../src/transports/serial-link.ts';
import { type PtyPair, startPtyPair } from '../../src/transports/socat.ts';
import { asAgent, asServer, startTestBroker } from '../support/mqtt-identities.ts';

/**
 * The scanner simulator writes the device end of a socat pty pair through the real serialport
 * at 115200 baud; the agent reads the other end and publishes on an in-process aedes broker.
 * Control actions on the simulator must show up as readings over MQTT.
 */
describe('X-ray scanner simulator → socat pty → agent → MQTT', () => {
  const dir = mkdtempSync(join(tmpdir(), 'radscreen-xray-pty-'));
  const agentPath = join(dir, 'agent');
  const devicePath = join(dir, 'device');
  let pair: PtyPair;
  let devicePort: SerialPort;
  let broker: EmbeddedBroker;
  let sub: MqttClient;
  let runner: DeviceRunner;
  let sim: XraySimulator;
  const readings: ReadingsMessage['readings'] = [];

  async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
    const deadline = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  beforeAll(async () => {
    broker = await startTestBroker(dir);
    const url = broker.url;
    sub = await mqtt.connectAsync(url, { protocolVersion: 4, ...asServer(dir, 't1') });
    sub.on('message', (topic, payload) => {
      if (topic.endsWith('/readings')) readings.push(...(JSON.parse(payload.toString()) as ReadingsMessage).readings);
    });
    await sub.subscribeAsync(topics.allReadings('t1'), { qos: 1 });

    pair = await startPtyPair(agentPath, devicePath);
    devicePort = new SerialPort({ path: devicePath, baudRate: 115200, autoOpen: false });
    await new Promise<void>((res, rej) => devicePort.open((e) => (e ? rej(e) : res())));
    devicePort.on('error', () => {});
    sim = createXrayParcelScannerSimulator(
      { write: (b) => void devicePort.write(b), onData: () => {} },
      { background_usvh: 0.08, events: [], seed: 11, tick_ms: 40 },
    );
    const link = createSerialLink({ path: agentPath, baudRate: 115200, noDataTimeoutMs: 1000, backoff: { initialMs: 100, maxMs: 400 } });
    runner = runDevice({
      station: 't1',
      device: 'xr1',
      profile: xrayParcelScanner,
      source: 'simulated',
      options: parseSessionOptions(xrayParcelScanner, { doors: 2, panels: 1 }),
      link,
      mqttUrl: url,
      mqttOptions: asAgent(dir, 't1', 'xr1'),
      coalesceMs: 20,
      log: pino({ level: 'silent' }),
    });
    sim.start();
  });

  afterAll(async () => {
    sim?.stop();
    await runner?.stop();
    if (devicePort?.isOpen) await new Promise((r) => devicePort.close(r));
    await pair?.stop();
    await sub?.endAsync();
    await broker?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('publishes canonical scanner readings with the beam pulsing as bags pass', async () => {
    await until(() => readings.some((r) => r.values.beam_on === true) && readings.length >= 15, 10_000, 'readings with the beam on');
    expect(readings[0]).toMatchObject({
      station: 't1',
      device: 'xr1',
      profile: 'xray-parcel-scanner',
      kind: 'xray_scanner',
      ts_source: 'agent',
    });
    expect(readings.some((r) => r.values.event === 'bag')).toBe(true);
    expect(readings.every((r) => r.values.interlocks_closed === true)).toBe(true);
    expect(runner.stats().rejected).toEqual({});
  });

  it('a door opened on the scanner arrives as interlocks_closed false with the beam off, until a reset', async () => {
    sim.openDoor(1);
    await until(() => readings.some((r) => r.values.event === 'door'), 5000, 'the door event');
    const door = readings.find((r) => r.values.event === 'door');
    expect(door?.values).toMatchObject({ door_1_closed: false, interlocks_closed: false, beam_on: false, fault: 'interlock' });

    sim.closeDoor(1);
    const mark = readings.length;
    await until(() => readings.length >= mark + 20, 5000, 'readings after closing the door');
    expect(readings.slice(mark).every((r) => r.values.beam_on === false)).toBe(true);

    expect(sim.reset()).toBe(true);
    await until(() => readings.slice(mark + 20).some((r) => r.values.beam_on === true), 5000, 'the beam after the reset');
    expect(readings.some((r) => r.values.event === 'reset' && r.values.fault === 'none')).toBe(true);
  });

  it('counts corrupt lines by code and keeps the stream going', async () => {
    const before = readings.length;
    devicePort.write(Buffer.from('\x00\xff noise on the cable\r\n', 'latin1'));
    devicePort.write(Buffer.from('$XRS,FOO,52,1,2,3*05\r\n', 'latin1'));
    await until(() => Object.keys(runner.stats().rejected).length === 2, 5000, 'both rejects');
    await until(() => readings.length >= before + 5, 5000, 'readings after the noise');
    expect(runner.stats().rejected).toEqual({ RS_ERR_FRAME_SYNTAX: 1, RS_ERR_FRAME_CHECKSUM: 1 });
  });
});
