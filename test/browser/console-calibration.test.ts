import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server/start.ts';
import { loginAs } from '../support/browser.ts';
import { type ConsoleStack, startConsoleStack } from '../support/console-stack.ts';

/** A technician records a calibration from the device tile; the tile's due date and flag follow. */
const DEVICE = 'belt-geiger';
const DATA_DIR = mkdtempSync(join(tmpdir(), 'radscreen-calibration-'));
const CONFIG = `
station: { id: demo, name: Calibration station }
data_dir: ${DATA_DIR}
server: { host: 127.0.0.1, port: 0 }
devices:
  - { id: ${DEVICE}, name: Parcel belt Geiger, profile: mightyohm-geiger, serial: { path: /dev/null }, calibration_due: '2020-01-01' }
`;

describe('calibration in the console (Chromium)', () => {
  let stack: ConsoleStack;
  let server: RunningServer;
  let page: Page;
  const tile = () => page.locator(`[data-testid="device-tile"][data-device="${DEVICE}"]`);

  beforeAll(async () => {
    stack = await startConsoleStack({
      config: CONFIG,
      dataDir: DATA_DIR,
      users: [
        { name: 'technician', role: 'technician', password: 'tech-password-for-test' },
        { name: 'operator', role: 'operator', password: 'op-password-for-test' },
      ],
    });
    ({ server, page } = stack);
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('shows the configured due date, flagged, and no Calibrate button to anonymous users or operators', async () => {
    await expect.poll(() => tile().getByTestId('calibration-date').textContent()).toBe('2020-01-01');
    expect(await tile().getByTestId('calibration-due').isVisible()).toBe(true);
    expect(await tile().getByTestId('calibrate-button').isVisible()).toBe(false);
    await loginAs(page, 'operator', 'op-password-for-test');
    expect(await tile().getByTestId('calibrate-button').isVisible()).toBe(false);
    await page.getByTestId('logout').click();
  });

  it('lets a technician record a calibration; the tile, the history and the API show it', async () => {
    await loginAs(page, 'technician', 'tech-password-for-test');
    await tile().getByTestId('calibrate-button').click();
    const dialog = page.getByTestId('calibrate-dialog');
    await expect.poll(() => dialog.isVisible()).toBe(true);
    expect(await page.getByTestId('calibrate-factor-label').textContent()).toBe('Sensitivity (CPM per µSv/h)');
    expect(await page.getByTestId('calibration-empty').isVisible()).toBe(true);
    await page.getByTestId('calibrate-factor').fill('168.5');
    await page.getByTestId('calibrate-dose-rate').fill('10');
    await page.getByTestId('calibrate-certificate').fill('PTB-2024-0815');
    await page.getByTestId('calibrate-due').fill('2099-06-30');
    await page.getByTestId('calibrate-comment').fill('two points per decade, within 8 %');
    await page.getByTestId('calibrate-confirm').click();

    await expect.poll(() => tile().getByTestId('calibration-date').textContent()).toBe('2099-06-30');
    expect(await tile().getByTestId('calibration-due').isVisible()).toBe(false);
    await expect.poll(() => page.getByTestId('toast').textContent()).toMatch(/Calibration recorded/);

    const api = await (await fetch(`${server.url}/api/devices/${DEVICE}/calibrations`)).json();
    expect(api.calibrations).toHaveLength(1);
    expect(api.in_force).toMatchObject({
      factor: 168.5,
      due: '2099-06-30',
      technician: 'technician',
      reference: { nuclide: 'Cs-137', dose_rate_usvh: 10, certificate: 'PTB-2024-0815' },
      comment: 'two points per decade, within 8 %',
    });

    await tile().getByTestId('calibrate-button').click();
    await expect
      .poll(() => page.getByTestId('calibration-history-item').allTextContents())
      .toEqual([expect.stringMatching(/168\.5 CPM per µSv\/h · Cs-137 10 µSv\/h, cert\. PTB-2024-0815 · by technician · due 2099-06-30/)]);
    expect(await page.getByTestId('calibrate-factor').inputValue()).toBe('168.5');
    await page.keyboard.press('Escape');
  });

  it('says a factor outside the plausible range is pending, not recorded', async () => {
    await tile().getByTestId('calibrate-button').click();
    await expect.poll(() => page.getByTestId('calibrate-dialog').isVisible()).toBe(true);
    await page.getByTestId('calibrate-factor').fill('400');
    await page.getByTestId('calibrate-dose-rate').fill('10');
    await page.getByTestId('calibrate-certificate').fill('PTB-2024-0815');
    await page.getByTestId('calibrate-due').fill('2099-07-31');
    await page.getByTestId('calibrate-confirm').click();
    await expect.poll(() => page.getByTestId('toast').textContent()).toMatch(/Not in force yet: factor 400 lies outside the plausible/);
    const api = await (await fetch(`${server.url}/api/devices/${DEVICE}/calibrations`)).json();
    expect(api.in_force.factor).toBe(168.5);
    expect(await tile().getByTestId('calibration-date').textContent()).toBe('2099-06-30');
  });
});
