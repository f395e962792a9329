import { type Browser, chromium, type Page } from 'playwright-core';

/**
 * Debian's Chromium, headless, with the flags docs/console.md "Chromium in tests" explains: no
 * sandbox or GPU (containers and CI have neither), and none of its own network traffic
 * (background networking, component updates, sync), which a station or CI network refuses.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Opens the console at `url` and waits until its live stream is connected. */
export async function openConsole(browser: Browser, url: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(url);
  await page.locator('[data-testid="stream-state"][data-state="live"]').waitFor();
  return page;
}

/** Logs in through the console's login box and waits until the console shows who is in. */
export async function loginAs(page: Page, name: string, password: string): Promise<void> {
  await page.getByTestId('login-user').fill(name);
  await page.getByTestId('login-password').fill(password);
  await page.getByTestId('login-submit').click();
  await page.locator(`[data-testid="whoami-role"]:text-is("${name}")`).waitFor();
}
