import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIRMWARE_SENSITIVITY } from '../../devices/mightyohm-geiger/decode.ts';
import { topics } from '../../src/core/contract.ts';
import type { Reading } from '../../src/core/reading.ts';
import { loginAs } from '../support/browser.ts';
import { type ConsoleStack, startConsoleStack } from '../support/console-stack.ts';
import { devicePublishers } from '../support/mqtt-identities.ts';

/**
 * Issue 10 "Console for a working shift", the parts about values and forms: numbers rounded to
 * the resolution each profile declares, the Calibrate dialog starting from the factor in force,
 * dialogs that keep their input on a refused submit and say why in words, one control set.
 */
const STATION = 'demo';
const DATA_DIR = mkdtempSync(join(tmpdir(), 'radscreen-forms-'));
const CONFIG = `
station: { id: ${STATION}, name: Forms station }
data_dir: ${DATA_DIR}
server: { host: 127.0.0.1, port: 0 }
alarms: { dose_rate_usvh: 1.0, deadband_usvh: 0.2 }
devices:
  - { id: belt-1, name: Belt Geiger, profile: mightyohm-geiger, serial: { path: /dev/null } }
  - { id: xray-1, name: Parcel scanner, profile: xray-parcel-scanner, serial: { path: /dev/null } }
`;
const PASSWORD = 'forms-password-for-test';

function reading(device: string, values: Reading['values'], profile = 'mightyohm-geiger', kind: Reading['kind'] = 'dosimeter'): Reading {
  return { station: STATION, device, profile, kind, ts: Date.now(), ts_source: 'agent', values, quality: 'good', source: 'simulated' };
}

describe('console values and forms (Chromium)', () => {
  let stack: ConsoleStack;
  let page: Page;
  let publisher: ReturnType<typeof devicePublishers>;
  const tile = (id: string) => page.locator(`[data-testid="device-tile"][data-device="${id}"]`);
  const publish = (r: Reading) => publisher.publish(r.device, topics.readings(STATION, r.device), JSON.stringify({ v: 1, readings: [r] }));

  beforeAll(async () => {
    stack = await startConsoleStack({
      config: CONFIG,
      dataDir: DATA_DIR,
      users: ['operator', 'technician', 'trainer'].map((r) => ({ name: r, role: r as 'operator', password: PASSWORD })),
      training: true,
    });
    page = stack.page;
    publisher = devicePublishers(stack.broker.url, DATA_DIR, STATION);
  });

  afterAll(async () => {
    await publisher?.end();
    await stack?.close();
  });

  it('rounds each value to the resolution its profile declares', async () => {
    const devices = await (await fetch(`${stack.server.url}/api/devices`)).json();
    const byId = new Map(devices.devices.map((d: { id: string; resolution: unknown }) => [d.id, d.resolution]));
    expect(byId.get('belt-1')).toEqual({ dose_rate: 0.01 });
    expect(byId.get('xray-1')).toEqual({ leakage_dose_rate: 0.001 });

    await publish(reading('belt-1', { cps: 0, cpm: 9, dose_rate: 0.054321, mode: 'SLOW' }));
    await publish(
      reading('xray-1', { leakage_dose_rate: 0.012345, beam_on: false, interlocks_closed: true }, 'xray-parcel-scanner', 'xray_scanner'),
    );
    await expect.poll(() => tile('belt-1').getByTestId('dose-rate').textContent()).toBe('0.05');
    await expect.poll(() => tile('xray-1').getByTestId('dose-rate').textContent()).toBe('0.012');

    await publish(reading('belt-1', { cps: 7, cpm: 411, dose_rate: 2.345678, mode: 'SLOW' }));
    const item = page.locator('[data-testid="alarm-item"][data-device="belt-1"]');
    await expect.poll(() => item.getByTestId('alarm-value').textContent()).toBe('2.35 µSv/h');
    expect(await item.getByTestId('alarm-facts').textContent()).toBe('threshold 1.00 µSv/h · peak 2.35 µSv/h');
    // Times carry their date (a shift crosses midnight; alarms stay listed for days).
    expect(await item.locator('.alarm-time').textContent()).toMatch(/^raised \d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);

    // A boolean condition is described in words of its channel, never "threshold yes · peak yes".
    await publish(
      reading('xray-1', { leakage_dose_rate: 0.012345, beam_on: true, interlocks_closed: false }, 'xray-parcel-scanner', 'xray_scanner'),
    );
    const xray = page.locator('[data-testid="alarm-item"][data-device="xray-1"]').first();
    await expect.poll(() => xray.getByTestId('alarm-facts').textContent(), { timeout: 10_000 }).toMatch(/^trips on: /);
    expect(await xray.getByTestId('alarm-facts').textContent()).not.toMatch(/\byes\b/);
  });

  it('opens Calibrate with the factor in force and keeps the input, with a reason in words, when refused', async () => {
    await loginAs(page, 'technician', PASSWORD);
    const dialog = page.getByTestId('calibrate-dialog');
    await tile('belt-1').getByTestId('calibrate-button').click();
    await expect.poll(() => dialog.isVisible()).toBe(true);
    // Nothing recorded yet: the firmware's own conversion is in force.
    await expect.poll(() => page.getByTestId('calibrate-factor').inputValue()).toBe(String(Number(FIRMWARE_SENSITIVITY.toPrecision(6))));

    // A slip of the decimal point: 20× the reference is refused outright by the server.
    await page.getByTestId('calibrate-factor').fill('3508.77');
    await page.getByTestId('calibrate-dose-rate').fill('10');
    await page.getByTestId('calibrate-certificate').fill('PTB-2024-0815');
    await page.getByTestId('calibrate-due').fill('2099-06-30');
    await page.getByTestId('calibrate-comment').fill('two points per decade');
    await page.getByTestId('calibrate-confirm').click();

    const error = page.getByTestId('calibrate-error');
    await expect.poll(() => error.isVisible()).toBe(true);
    expect(await error.textContent()).toMatch(/^Factor: factor 3508\.77 lies beyond .* not a calibration\.$/);
    expect(await dialog.isVisible()).toBe(true);
    expect(await page.getByTestId('calibrate-factor').inputValue()).toBe('3508.77');
    expect(await page.getByTestId('calibrate-certificate').inputValue()).toBe('PTB-2024-0815');
    expect(await page.getByTestId('calibrate-due').inputValue()).toBe('2099-06-30');
    expect(await page.getByTestId('calibrate-comment').inputValue()).toBe('two points per decade');

    // Corrected in place, the same dialog records it and closes.
    await page.getByTestId('calibrate-factor').fill('168.5');
    await page.getByTestId('calibrate-confirm').click();
    await expect.poll(() => dialog.isVisible()).toBe(false);
    await expect.poll(() => page.getByTestId('toast').textContent()).toMatch(/Calibration recorded/);

    await tile('belt-1').getByTestId('calibrate-button').click();
    await expect.poll(() => page.getByTestId('calibrate-factor').inputValue()).toBe('168.5');
    expect(await error.isVisible()).toBe(false);
    await page.keyboard.press('Escape');
    await page.getByTestId('logout').click();
  });

  it('keeps a shelve reason when the session ended meanwhile, and says to log in', async () => {
    await loginAs(page, 'operator', PASSWORD);
    const item = page.locator('[data-testid="alarm-item"][data-device="belt-1"]');
    await item.getByTestId('shelve-button').click();
    await page.getByTestId('shelve-comment').fill('source check on belt 1, physicist informed');
    // The session ends behind the operator's back (another tab logged out).
    await page.evaluate(() => fetch('/api/logout', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }));
    await page.getByTestId('shelve-confirm').click();
    const error = page.getByTestId('shelve-error');
    await expect.poll(() => error.isVisible()).toBe(true);
    expect(await error.textContent()).toBe('You are not logged in (or your session ended). Log in and submit again: your input is kept.');
    expect(await page.getByTestId('shelve-dialog').isVisible()).toBe(true);
    expect(await page.getByTestId('shelve-comment').inputValue()).toBe('source check on belt 1, physicist informed');
    await page.keyboard.press('Escape');
  });

  it('draws every control of the header, the Training desk and the dialogs from one styled set', async () => {
    await page.reload();
    await loginAs(page, 'trainer', PASSWORD);
    await page.getByTestId('training-link').click();
    await expect.poll(() => page.getByTestId('training-panel').isVisible()).toBe(true);
    const styles = await page.evaluate(() => {
      const visible = [...document.querySelectorAll('button, select, textarea, input:not([type="checkbox"])')].filter(
        (el) => (el as HTMLElement).offsetParent !== null,
      );
      return visible.map((el) => {
        const s = getComputedStyle(el);
        return {
          what: `${el.tagName} ${el.getAttribute('data-testid') ?? ''}`,
          radius: s.borderRadius,
          font: s.fontFamily,
          border: s.borderTopColor,
        };
      });
    });
    const inTraining = await page.getByTestId('training-panel').locator('button, select, input').count();
    expect(inTraining).toBeGreaterThan(0);
    expect(styles.length).toBeGreaterThan(inTraining);
    const body = await page.evaluate(() => getComputedStyle(document.body).fontFamily);
    // The browser's own controls have a 0 or 2 px radius, a system font and a light grey border.
    for (const s of styles) expect(s, s.what).toMatchObject({ radius: '5px', font: body, border: 'rgb(42, 53, 68)' });
  });
});
