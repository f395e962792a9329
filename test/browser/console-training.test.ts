import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '../../src/server/start.ts';
import { loginAs } from '../support/browser.ts';
import { type ConsoleStack, startConsoleStack } from '../support/console-stack.ts';

/**
 * A trainer logs in, starts the interlock scenario from the Training panel, and its emergency
 * alarm appears in the training list, not the live list; the run can be stopped from the panel.
 * The scenario runs through the real pipeline (simulator → pty → agent → broker → server).
 */
const DATA_DIR = mkdtempSync(join(tmpdir(), 'radscreen-training-ui-'));
const CONFIG = `
station: { id: demo, name: Training test station }
data_dir: ${DATA_DIR}
server: { host: 127.0.0.1, port: 0 }
devices:
  - { id: belt-geiger, name: Parcel belt Geiger, profile: mightyohm-geiger, serial: { path: /dev/null } }
`;

describe('training panel in the console (Chromium)', () => {
  let stack: ConsoleStack;
  let server: RunningServer;
  let page: Page;

  beforeAll(async () => {
    stack = await startConsoleStack({
      config: CONFIG,
      dataDir: DATA_DIR,
      users: [
        { name: 'trainer', role: 'trainer', password: 'trainer-password-for-test' },
        { name: 'operator', role: 'operator', password: 'operator-password-for-test' },
      ],
      training: true,
    });
    ({ server, page } = stack);
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('is hidden from anonymous users and operators', async () => {
    expect(await page.getByTestId('training-panel').isVisible()).toBe(false);
    await loginAs(page, 'operator', 'operator-password-for-test');
    expect(await page.getByTestId('training-panel').isVisible()).toBe(false);
    await page.getByTestId('logout').click();
    await expect.poll(() => page.getByTestId('login-form').isVisible()).toBe(true);
  });

  it('lets a trainer start a scenario whose alarm lands in the training list only, and stop it', async () => {
    await loginAs(page, 'trainer', 'trainer-password-for-test');
    await page.getByTestId('training-panel').waitFor();
    await expect.poll(() => page.getByTestId('training-scenario').count()).toBeGreaterThanOrEqual(4);
    await page.getByTestId('training-speed').selectOption('5');
    await page.locator('[data-testid="training-scenario"][data-name="xray-interlock-beam-on"] [data-testid="training-start"]').click();
    await expect.poll(() => page.getByTestId('training-run').getAttribute('data-state')).toBe('running');
    expect(await page.getByTestId('training-run-title').textContent()).toBe('X-ray scanner door opened with the beam on');

    // Door opened at 20 scenario s = 4 s at 5×; the bypass keeps the beam on while bags pass.
    const emergency = page.locator(
      '[data-testid="training-list"] [data-testid="alarm-item"][data-device="training-parcel-scanner"][data-severity="emergency"]',
    );
    await emergency.first().waitFor({ timeout: 20_000 });
    expect(await emergency.first().getAttribute('data-source')).toBe('training');
    expect(await page.locator('[data-testid="alarm-list"] [data-testid="alarm-item"]').count()).toBe(0);
    // The scenario's scanner has a tile while the run lasts, marked as training, with scanner facts.
    const tile = page.locator('[data-testid="device-tile"][data-device="training-parcel-scanner"]');
    expect(await tile.getByTestId('training-badge').isVisible()).toBe(true);
    expect(await tile.getByTestId('beam-fact').isVisible()).toBe(true);
    expect(await tile.getByTestId('count-fact').isVisible()).toBe(false);
    await expect.poll(() => page.getByTestId('training-run-progress').textContent()).toMatch(/[1-9]\d* training alarm/);
    const alarms = (await (await fetch(`${server.url}/api/alarms?source=training`)).json()) as { alarms: { rule: string }[] };
    expect(alarms.alarms.map((a) => a.rule)).toContain('xray_interlock_open_beam_on');

    await page.getByTestId('training-stop').click();
    await expect.poll(() => page.getByTestId('training-run').getAttribute('data-state')).toBe('stopped');
    const runs = (await (await fetch(`${server.url}/api/training/runs`)).json()) as { runs: { state: string; stopped_by: string }[] };
    expect(runs.runs[0]).toMatchObject({ state: 'stopped', stopped_by: 'trainer' });
    expect(await page.getByTestId('training-start').first().isEnabled()).toBe(true);
    // Once the run has ended its device is forgotten: no tile left behind, no stale alarm to come.
    await expect.poll(() => tile.count(), { timeout: 10_000 }).toBe(0);
    const devices = (await (await fetch(`${server.url}/api/devices`)).json()) as { devices: { id: string }[] };
    expect(devices.devices.map((d) => d.id)).not.toContain('training-parcel-scanner');
  });
});
