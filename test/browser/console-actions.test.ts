import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alarm } from '../../src/alarms/types.ts';
import { topics } from '../../src/core/contract.ts';
import type { Source } from '../../src/core/reading.ts';
import type { AuditEntry } from '../../src/server/auth/store.ts';
import type { RunningServer } from '../../src/server/start.ts';
import { loginAs } from '../support/browser.ts';
import { type ConsoleStack, startConsoleStack } from '../support/console-stack.ts';
import { geigerReading } from '../support/geiger-reading.ts';
import { devicePublishers } from '../support/mqtt-identities.ts';

/** Issue 5 "Done when": operator acknowledges with a comment; an anonymous click is refused; training never mixes with live. */
const STATION = 'demo';
const LIVE = 'belt-geiger';
const TRAINING = 'trainer-geiger';
const OPERATOR_PASSWORD = 'op-password-for-test';
const DATA_DIR = mkdtempSync(join(tmpdir(), 'radscreen-actions-'));
const CONFIG = `
station: { id: ${STATION}, name: Mail Screening Station 1 }
# Alarm state persists under data_dir: a fresh one per run keeps runs independent.
data_dir: ${DATA_DIR}
server: { host: 127.0.0.1, port: 0 }
alarms: { dose_rate_usvh: 1.0, deadband_usvh: 0.2 }
devices:
  - { id: ${LIVE}, name: Parcel belt Geiger, profile: mightyohm-geiger, serial: { path: /dev/null }, calibration_due: '2020-01-01' }
  - { id: ${TRAINING}, name: Training Geiger, profile: mightyohm-geiger, serial: { path: /dev/null } }
`;

describe('operator actions in the console (Chromium)', () => {
  let stack: ConsoleStack;
  let publisher: ReturnType<typeof devicePublishers>;
  let server: RunningServer;
  let page: Page;
  let adminToken: string;

  const publish = (device: string, dose: number, source: Source = 'simulated') =>
    publisher.publish(
      device,
      topics.readings(STATION, device),
      JSON.stringify({ v: 1, readings: [geigerReading(STATION, device, dose, source)] }),
      {
        qos: 1,
      },
    );
  const liveItems = () => page.locator('[data-testid="alarm-list"] [data-testid="alarm-item"]');
  const trainingItems = () => page.locator('[data-testid="training-list"] [data-testid="alarm-item"]');
  const apiAlarms = async (): Promise<Alarm[]> => ((await (await fetch(`${server.url}/api/alarms`)).json()) as { alarms: Alarm[] }).alarms;
  const audit = async (): Promise<AuditEntry[]> =>
    (
      (await (await fetch(`${server.url}/api/audit`, { headers: { authorization: `Bearer ${adminToken}` } })).json()) as {
        entries: AuditEntry[];
      }
    ).entries;

  beforeAll(async () => {
    stack = await startConsoleStack({
      config: CONFIG,
      dataDir: DATA_DIR,
      users: [
        { name: 'operator', role: 'operator', password: OPERATOR_PASSWORD },
        { name: 'admin', role: 'admin', password: 'admin-password-for-test' },
      ],
    });
    ({ server, page } = stack);
    adminToken = stack.store.createSession('admin', Date.now() + 3_600_000, Date.now());
    publisher = devicePublishers(stack.broker.url, DATA_DIR, STATION);
  });

  afterAll(async () => {
    await publisher?.end();
    await stack?.close();
  });

  it('shows the tile with its calibration flag and a live sparkline', async () => {
    const tile = page.locator(`[data-testid="device-tile"][data-device="${LIVE}"]`);
    // The stream sends each device's latest reading per 100 ms, so wait for each one to show.
    for (const [i, v] of [0.11, 0.12, 0.14].entries()) {
      await publish(LIVE, v);
      await expect.poll(() => tile.getByTestId('sparkline').getAttribute('data-points')).toBe(String(i + 1));
    }
    expect(await tile.getByTestId('calibration-due').isVisible()).toBe(true);
    expect(await page.locator(`[data-device="${TRAINING}"] [data-testid="calibration-due"]`).isVisible()).toBe(false);
  });

  it('shows no ack button without a login; the server refuses an anonymous ack and audits it', async () => {
    await publish(LIVE, 2.5);
    await expect.poll(() => liveItems().count()).toBe(1);
    const item = liveItems().first();
    // The badge blinks (visibility toggles), so its presence is what says "unacknowledged", not isVisible().
    expect(await item.getByTestId('unack-badge').count()).toBe(1);
    // Anonymous users get a hint instead of buttons that would be refused; the server still refuses.
    expect(await item.getByTestId('ack-button').count()).toBe(0);
    expect(await page.getByTestId('act-hint').textContent()).toMatch(/Log in to act/);
    const id = await item.getAttribute('data-id');
    const res = await fetch(`${server.url}/api/alarms/${id}/ack`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: server.url },
      body: JSON.stringify({ comment: 'anonymous try' }),
    });
    expect(res.status).toBe(401);
    const [alarm] = await apiAlarms();
    expect(alarm?.acknowledged).toBeUndefined();
    expect(alarm?.isa_state).toBe('unacknowledged');
    const refused = (await audit()).find((e) => e.action === 'alarm.acknowledge' && !e.ok);
    expect(refused).toMatchObject({ user: null, target: alarm?.id, detail: { refused: 'not logged in' } });
    expect(await item.getByTestId('unack-badge').count()).toBe(1);
  });

  it('lets an operator log in and acknowledge with a comment; the API and the audit log show it', async () => {
    await loginAs(page, 'operator', OPERATOR_PASSWORD);
    // The session cookie is HttpOnly: page scripts cannot read it.
    expect(await page.evaluate(() => document.cookie)).toBe('');

    const comment = 'Parcel 17 checked: K-40 fertiliser';
    await liveItems().first().getByTestId('ack-button').click();
    await page.getByTestId('ack-comment').fill(comment);
    await page.getByTestId('ack-confirm').click();
    await expect
      .poll(() => liveItems().first().getByTestId('alarm-status').textContent())
      .toContain(`acknowledged by operator: “${comment}”`);
    expect(await liveItems().first().getByTestId('unack-badge').count()).toBe(0);

    const [alarm] = await apiAlarms();
    expect(alarm?.acknowledged).toMatchObject({ user: 'operator', comment });
    expect(alarm?.isa_state).toBe('acknowledged');
    const entry = (await audit()).find((e) => e.action === 'alarm.acknowledge' && e.ok);
    expect(entry).toMatchObject({ user: 'operator', role: 'operator', target: alarm?.id, detail: { comment } });
  });

  it('shelves with a reason and shows the evidence and history in the detail view', async () => {
    await liveItems().first().getByTestId('shelve-button').click();
    await page.getByTestId('shelve-duration').selectOption('900');
    await page.getByTestId('shelve-comment').fill('source in the store room, RPO informed');
    await page.getByTestId('shelve-confirm').click();
    await expect.poll(() => liveItems().first().getByTestId('alarm-status').textContent()).toMatch(/shelved by operator until/);
    expect((await apiAlarms())[0]?.shelved?.comment).toBe('source in the store room, RPO informed');

    await liveItems().first().getByTestId('detail-button').click();
    await expect.poll(() => page.getByTestId('evidence-chart').getAttribute('data-points')).toBe('4');
    await expect
      .poll(() => page.getByTestId('history-item').allTextContents())
      .toEqual([
        expect.stringMatching(/raised$/),
        expect.stringMatching(/acknowledged by operator: “Parcel 17/),
        expect.stringMatching(/shelved by operator: “source in the store room/),
      ]);
    expect(await page.getByTestId('detail-n42').getAttribute('href')).toMatch(/\/api\/alarms\/.+\/n42$/);
    const shot = process.env.RADSCREEN_SCREENSHOT_ACTIONS ?? join(tmpdir(), `radscreen-console-actions-${process.pid}.png`);
    mkdirSync(dirname(shot), { recursive: true });
    await page.screenshot({ path: shot });
    await page.keyboard.press('Escape');
  });

  it('keeps training alarms in their own list, never in the live one', async () => {
    const liveBefore = await liveItems().count();
    await publish(TRAINING, 3.3, 'training');
    await expect.poll(() => trainingItems().count()).toBe(1);
    expect(await page.getByTestId('training-section').isVisible()).toBe(true);
    expect(await trainingItems().first().getAttribute('data-source')).toBe('training');
    expect(await liveItems().count()).toBe(liveBefore);
    const liveSources = await liveItems().evaluateAll((els) => els.map((e) => (e as HTMLElement).dataset.source));
    expect(liveSources).not.toContain('training');
    expect(await page.getByTestId('alarm-summary').textContent()).toBe('1 active alarm');
    // The training reading does not move any live tile either.
    expect(await page.locator(`[data-device="${TRAINING}"] [data-testid="device-alarm"]`).isVisible()).toBe(false);
    expect((await apiAlarms()).filter((a) => a.source === 'training')).toHaveLength(1);
  });
});
