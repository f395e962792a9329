import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { pino } from 'pino';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogue } from '../../devices/index.ts';
import { parseConfig } from '../../src/config/load.ts';
import { topics } from '../../src/core/contract.ts';
import type { Quality, Reading } from '../../src/core/reading.ts';
import { type RunningServer, startServer } from '../../src/server/start.ts';
import type { EmbeddedBroker } from '../../src/station/embedded-broker.ts';
import { launchChromium } from '../support/browser.ts';
import { asAgent, asServer, startTestBroker } from '../support/mqtt-identities.ts';

const STATION = 'demo';
const DATA_DIR = mkdtempSync(join(tmpdir(), 'radscreen-console-'));
const DEVICE = 'belt-geiger';
const CONFIG = `
station: { id: ${STATION}, name: Mail Screening Station 1 }
# Alarm state and users persist under data_dir: a fresh one per run keeps runs independent.
data_dir: ${DATA_DIR}
server: { host: 127.0.0.1, port: 0 }
alarms: { dose_rate_usvh: 1.0, deadband_usvh: 0.2 }
devices:
  - id: ${DEVICE}
    name: Parcel belt Geiger
    profile: mightyohm-geiger
    serial: { path: /dev/null }
`;

function reading(doseRate: number, quality: Quality = 'good'): Reading {
  return {
    station: STATION,
    device: DEVICE,
    profile: 'mightyohm-geiger',
    kind: 'dosimeter',
    ts: Date.now(),
    ts_source: 'agent',
    values: { cps: Math.round((doseRate * 175.4) / 60), cpm: Math.round(doseRate * 175.4), dose_rate: doseRate, mode: 'SLOW' },
    quality,
    source: 'simulated',
  };
}

describe('operator console in Chromium', () => {
  let broker: EmbeddedBroker | undefined;
  let serverClient: MqttClient;
  let publisher: MqttClient;
  let server: RunningServer;
  let browser: Browser;
  let page: Page;

  const publishReading = (doseRate: number, quality: Quality = 'good') =>
    publisher.publishAsync(topics.readings(STATION, DEVICE), JSON.stringify({ v: 1, readings: [reading(doseRate, quality)] }), { qos: 1 });
  const tile = () => page.locator(`[data-testid="device-tile"][data-device="${DEVICE}"]`);

  beforeAll(async () => {
    broker = await startTestBroker(DATA_DIR);
    const url = broker.url;
    serverClient = await mqtt.connectAsync(url, { protocolVersion: 4, clientId: 'radscreen-server-test', ...asServer(DATA_DIR, STATION) });
    publisher = await mqtt.connectAsync(url, {
      protocolVersion: 4,
      clientId: 'radscreen-agent-test',
      ...asAgent(DATA_DIR, STATION, DEVICE),
    });

    const config = parseConfig(CONFIG, { catalogue, env: {} });
    server = await startServer({
      config,
      mqtt: serverClient,
      log: pino({ level: 'silent' }),
      storage: { enabled: false, detail: 'no InfluxDB configured' },
    });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await publisher?.endAsync();
    await serverClient?.endAsync();
    await broker?.close();
  });

  it('shows the station, the storage banner and the configured device before any data', async () => {
    await page.goto(server.url);
    await expect.poll(() => page.getByTestId('station-name').textContent()).toBe('Mail Screening Station 1');
    await expect.poll(() => page.getByTestId('storage-banner').isVisible()).toBe(true);
    await expect.poll(() => tile().getByTestId('device-name').textContent()).toBe('Parcel belt Geiger');
    expect(await tile().getByTestId('device-status').textContent()).toBe('offline');
    await expect.poll(() => page.getByTestId('stream-state').getAttribute('data-state')).toBe('live');
  });

  it('updates the tile live from MQTT status and readings', async () => {
    const status = { v: 1, station: STATION, device: DEVICE, profile: 'mightyohm-geiger', state: 'online', ts: Date.now(), detail: {} };
    await publisher.publishAsync(topics.status(STATION, DEVICE), JSON.stringify(status), { qos: 1, retain: true });
    await expect.poll(() => tile().getByTestId('device-status').textContent()).toBe('online');

    await publishReading(0.11, 'suspect');
    await expect.poll(() => tile().getByTestId('dose-rate').textContent()).toBe('0.11');
    await expect.poll(() => tile().getByTestId('quality').textContent()).toMatch(/warming up/i);

    await publishReading(0.123);
    await expect.poll(() => tile().getByTestId('dose-rate').textContent()).toBe('0.12');
    expect(await tile().getByTestId('cpm').textContent()).toBe('22');
    expect(await tile().getByTestId('quality').isVisible()).toBe(false);
    expect(await tile().getByTestId('last-update').textContent()).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d /);
  });

  it('raises an alarm on a reading above threshold, greys it when cleared, and shows a new one on top', async () => {
    await publishReading(2.46);
    const active = page.locator('[data-testid="alarm-item"][data-state="active"]');
    await expect.poll(() => active.count()).toBe(1);
    expect(await active.first().textContent()).toContain('Parcel belt Geiger');
    expect(await active.getByTestId('alarm-value').textContent()).toBe('2.46 µSv/h');
    expect(await tile().getByTestId('device-alarm').isVisible()).toBe(true);
    expect(await page.getByTestId('alarm-summary').textContent()).toBe('1 active alarm');

    // Inside the deadband (0.8–1.0): still active, no second alarm.
    // A transition would travel right behind its reading on the stream, so once the second
    // reading shows, anything the first one caused has been rendered too.
    await publishReading(0.9);
    await publishReading(0.95);
    await expect.poll(() => tile().getByTestId('dose-rate').textContent()).toBe('0.95');
    expect(await active.count()).toBe(1);
    expect(await page.getByTestId('alarm-item').count()).toBe(1);

    await publishReading(0.14);
    await expect.poll(() => page.locator('[data-testid="alarm-item"][data-state="cleared"]').count()).toBe(1);
    await expect.poll(() => active.count()).toBe(0);
    expect(await tile().getByTestId('device-alarm').isVisible()).toBe(false);

    await publishReading(1.37);
    await expect.poll(() => active.count()).toBe(1);
    const states = await page.getByTestId('alarm-item').evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.state));
    expect(states).toEqual(['active', 'cleared']);
    await expect.poll(() => tile().getByTestId('dose-rate').textContent()).toBe('1.37');

    // The README's screenshot is refreshed on demand (RADSCREEN_SCREENSHOT=docs/console.png npm test),
    // so a plain test run leaves the work tree clean.
    const shot = process.env.RADSCREEN_SCREENSHOT ?? join(tmpdir(), `radscreen-console-${process.pid}.png`);
    mkdirSync(dirname(shot), { recursive: true });
    await page.screenshot({ path: shot });
  });

  it('keeps the API in step with what the console shows', async () => {
    const res = await fetch(`${server.url}/api/alarms?state=active`);
    const body = (await res.json()) as { alarms: { device: string; evidence: { value: number } }[] };
    expect(body.alarms).toHaveLength(1);
    expect(body.alarms[0]?.evidence.value).toBe(1.37);
  });
});
