import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '../../src/core/contract.ts';
import { loginAs } from '../support/browser.ts';
import { type ConsoleStack, startConsoleStack } from '../support/console-stack.ts';
import { geigerReading } from '../support/geiger-reading.ts';
import { devicePublishers } from '../support/mqtt-identities.ts';
import { compareWithReference, referenceFonts, renderedFontFamilies } from '../support/screenshot-compare.ts';
import { waitFor } from '../support/wait.ts';

/**
 * Issue 10 "Console for a working shift": alarms first and on the first screen at 1,280×720 and
 * on an 800 px tablet, controls by role, a banner when the live stream is down.
 */
const STATION = 'demo';
const DATA_DIR = mkdtempSync(join(tmpdir(), 'radscreen-shift-'));
const DEVICES = ['belt-1', 'belt-2', 'belt-3', 'door-1', 'door-2', 'door-3'];
const IN_ALARM = ['belt-1', 'door-2', 'belt-3'];
const REFERENCES = join(import.meta.dirname, 'references');
/** A laptop and a tablet (issue 10). */
const VIEWPORTS = [
  { width: 1280, height: 720 },
  { width: 800, height: 1000 },
];
/**
 * Share of pixels allowed to differ from the reference. Measured here (docs/console.md): a re-run
 * and a run 35 s later differ by 0.00 %; the alarm panel moved 10 px sideways by 3.2–3.6 %,
 * 8 px down by 5.3–8.7 %, below the tiles by 27–31 %. 1.5 % leaves room for another Chromium's
 * anti-aliasing and still fails every one of those moves.
 */
const MAX_DIFFERENT_SHARE = 0.015;
const CONFIG = `
station: { id: ${STATION}, name: Mail Screening Station 1 }
data_dir: ${DATA_DIR}
server: { host: 127.0.0.1, port: 0 }
# Only the dose-rate zone: the statistical and rate-of-rise rules would add alarms some seconds
# into the run (the readings keep coming), at a moment the screenshots cannot wait for.
alarms:
  dose_rate_usvh: 1.0
  deadband_usvh: 0.2
  defaults: { background: { enabled: false }, rate_of_rise: { enabled: false } }
devices:
${DEVICES.map((id) => `  - { id: ${id}, name: Geiger ${id}, profile: mightyohm-geiger, serial: { path: /dev/null } }`).join('\n')}
`;
const PASSWORD = 'shift-password-for-test';

describe('console for a working shift (Chromium)', () => {
  let stack: ConsoleStack;
  let page: Page;
  let publisher: ReturnType<typeof devicePublishers>;
  const items = () => page.locator('[data-testid="alarm-list"] [data-testid="alarm-item"]');
  /** Each device's present dose rate; like a real instrument, every device keeps reporting once a second. */
  const levels = new Map<string, number>();
  let feeder: NodeJS.Timeout | undefined;
  const publish = (device: string, dose: number) => {
    levels.set(device, dose);
    return publisher.publish(
      device,
      topics.readings(STATION, device),
      JSON.stringify({ v: 1, readings: [geigerReading(STATION, device, dose)] }),
    );
  };

  beforeAll(async () => {
    stack = await startConsoleStack({
      config: CONFIG,
      dataDir: DATA_DIR,
      users: ['operator', 'technician', 'trainer'].map((r) => ({ name: r, role: r as 'operator', password: PASSWORD })),
    });
    page = stack.page;
    publisher = devicePublishers(stack.broker.url, DATA_DIR, STATION);
    for (const d of DEVICES) {
      await publish(d, 0.05);
      const dose = page.locator(`[data-device="${d}"] [data-testid="dose-rate"]`);
      await waitFor(async () => (await dose.textContent()) === '0.05', { timeoutMs: 10_000 });
    }
    // One at a time, so the list order (newest first) is the same on every run.
    for (const [i, d] of IN_ALARM.entries()) {
      await publish(d, 2.5);
      await waitFor(async () => (await items().count()) === i + 1, { timeoutMs: 10_000 });
    }
    // Without it the tiles turn STALE 5 s after the last reading (the profile's staleAfterMs), at
    // a moment that depends on how fast this machine runs the steps above.
    feeder = setInterval(() => {
      for (const [d, dose] of levels) void publish(d, dose);
    }, 1000);
    // The console asks /healthz at load and every 30 s; at load no device was online yet, so
    // its "none of 6 devices is online" banner would go away at a moment the screenshots cannot
    // know. A reload now shows the station as it is.
    await page.reload();
    await page.locator('[data-testid="stream-state"][data-state="live"]').waitFor();
    await page.getByTestId('health-banner').waitFor({ state: 'hidden' });
    await waitFor(async () => (await items().count()) === IN_ALARM.length, { timeoutMs: 10_000 });
  });

  afterAll(async () => {
    clearInterval(feeder);
    await publisher?.end();
    await stack?.close();
  });

  for (const viewport of VIEWPORTS) {
    it(`shows the alarm list first, inside the first screen, at ${viewport.width}×${viewport.height}`, async () => {
      await page.setViewportSize(viewport);
      await page.evaluate(() => window.scrollTo(0, 0));
      // Nothing wider than the screen: the header wraps instead.
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(viewport.width);
      const last = await items()
        .nth(IN_ALARM.length - 1)
        .boundingBox();
      if (!last) throw new Error('the last alarm item has no box: it is not rendered');
      expect(last.y + last.height).toBeLessThanOrEqual(viewport.height);
      const list = await page.getByTestId('alarm-list').boundingBox();
      const firstTile = await page.getByTestId('device-tile').first().boundingBox();
      if (!list || !firstTile) throw new Error('the alarm list or the first device tile is not rendered');
      // Above the tiles on a narrow screen, to their left on a wide one: never after them.
      expect(list.y < firstTile.y || list.x < firstTile.x).toBe(true);

      // The references hold this machine's glyphs: another font makes a pixel share meaningless,
      // so a different font set is named as such (install fonts-dejavu-core, or regenerate).
      const fonts = await renderedFontFamilies(page);
      expect(fonts, 'fonts Chromium rendered the console with').toEqual(referenceFonts(join(REFERENCES, 'fonts.json'), fonts));
      const shot = await page.screenshot({
        animations: 'disabled',
        caret: 'hide',
        // Wall-clock parts and the sparklines (their slope follows the seconds between readings)
        // change from run to run; they are covered with a fixed box.
        mask: [page.getByTestId('clock'), page.locator('.alarm-time'), page.getByTestId('last-update'), page.getByTestId('sparkline')],
      });
      const cmp = await compareWithReference(stack.browser, shot, join(REFERENCES, `console-${viewport.width}x${viewport.height}.png`));
      const where = `screenshot ${cmp.actualPath}, diff ${cmp.diffPath}`;
      expect({ width: cmp.width, height: cmp.height }, where).toEqual({ width: cmp.refWidth, height: cmp.refHeight });
      expect(cmp.differentShare, where).toBeLessThanOrEqual(MAX_DIFFERENT_SHARE);
    });
  }

  it('shows no action buttons to an anonymous user, but a "log in to act" hint and the details', async () => {
    await page.setViewportSize({ width: 1280, height: 720 });
    expect(await page.getByTestId('ack-button').count()).toBe(0);
    expect(await page.getByTestId('shelve-button').count()).toBe(0);
    expect(await page.getByTestId('detail-button').count()).toBe(IN_ALARM.length);
    expect(await page.getByTestId('act-hint').textContent()).toMatch(/Log in to act/);
    expect(await page.getByTestId('calibrate-button').first().isVisible()).toBe(false);
    expect(await page.getByTestId('training-link').isVisible()).toBe(false);
  });

  it('keeps alarm actions from a technician, shows the trainer the Training desk, gives an operator the buttons', async () => {
    await loginAs(page, 'technician', PASSWORD);
    expect(await page.getByTestId('ack-button').count()).toBe(0);
    expect(await page.getByTestId('act-hint').textContent()).toMatch(/only an operator/);
    expect(await page.getByTestId('calibrate-button').first().isVisible()).toBe(true);
    await page.getByTestId('logout').click();

    await loginAs(page, 'trainer', PASSWORD);
    await page.getByTestId('training-link').click();
    await expect.poll(() => page.getByTestId('training-panel').isVisible()).toBe(true);
    await expect.poll(() => isInViewport(page, 'training-panel')).toBe(true);
    await page.getByTestId('logout').click();

    await loginAs(page, 'operator', PASSWORD);
    await expect.poll(() => page.getByTestId('ack-button').count()).toBe(IN_ALARM.length);
    expect(await page.getByTestId('act-hint').isVisible()).toBe(false);
    // With its action buttons an item is taller: the operator, who acts, must still see all three.
    for (const viewport of VIEWPORTS) {
      await page.setViewportSize(viewport);
      await page.evaluate(() => window.scrollTo(0, 0));
      const last = await items()
        .nth(IN_ALARM.length - 1)
        .boundingBox();
      expect(last && last.y + last.height, `third alarm's bottom at ${viewport.width}×${viewport.height}`).toBeLessThanOrEqual(
        viewport.height,
      );
    }
    await page.setViewportSize({ width: 1280, height: 720 });
  });

  it('shows a banner and marks every alarm stale when the live stream goes down', async () => {
    expect(await page.getByTestId('stream-banner').isVisible()).toBe(false);
    await stack.server.close();
    await expect.poll(() => page.getByTestId('stream-banner').isVisible(), { timeout: 15_000 }).toBe(true);
    expect(await page.getByTestId('stream-banner').textContent()).toMatch(/Live updates lost since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
    expect(await page.getByTestId('alarm-summary').textContent()).toBe('3 active alarms (stale)');
    expect(await page.getByTestId('stale-badge').count()).toBe(IN_ALARM.length);
  });
});

async function isInViewport(page: Page, testid: string): Promise<boolean> {
  return page.getByTestId(testid).evaluate((el) => {
    const r = el.getBoundingClientRect();
    return r.top >= 0 && r.top < window.innerHeight;
  });
}
