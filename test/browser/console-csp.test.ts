import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginAs } from '../support/browser.ts';
import { type ConsoleStack, startConsoleStack } from '../support/console-stack.ts';

/**
 * Issue 9 in Chromium: the console works under its CSP (no violation while it loads, streams,
 * logs in and out), and a page on another port of the same host, which is the same *site* and
 * so gets the SameSite=Strict cookie, cannot log the operator out.
 */
const DATA_DIR = mkdtempSync(join(tmpdir(), 'radscreen-csp-'));
const PASSWORD = 'amber-Rook-7431-tundra';
const CONFIG = `
station: { id: csp, name: CSP station }
data_dir: ${DATA_DIR}
server: { host: 127.0.0.1, port: 0 }
devices:
  - { id: g1, name: Belt Geiger, profile: mightyohm-geiger, serial: { path: /dev/null } }
`;

describe('console under its security headers (Chromium)', () => {
  let stack: ConsoleStack;
  let evil: Server;
  let evilUrl = '';
  const violations: string[] = [];

  beforeAll(async () => {
    stack = await startConsoleStack({
      config: CONFIG,
      dataDir: DATA_DIR,
      users: [{ name: 'operator', role: 'operator', password: PASSWORD }],
    });
    stack.page.on('console', (m) => {
      if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text());
    });
    // The attacker's page: a body-less no-cors POST to the console's logout, as any web page could send.
    evil = createServer((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end(
        `<script>fetch(${JSON.stringify(`${stack.server.url}/api/logout`)}, { method: 'POST', mode: 'no-cors', credentials: 'include' }).finally(() => { document.title = 'sent'; })</script>`,
      );
    });
    await new Promise<void>((r) => evil.listen(0, '127.0.0.1', () => r()));
    evilUrl = `http://127.0.0.1:${(evil.address() as { port: number }).port}/`;
  });

  afterAll(async () => {
    evil?.close();
    await stack?.close();
  });

  it('loads, streams, logs in and out without a CSP violation', async () => {
    await stack.page.reload();
    await stack.page.locator('[data-testid="stream-state"][data-state="live"]').waitFor();
    await stack.page.locator('[data-testid="device-tile"]').first().waitFor();
    await loginAs(stack.page, 'operator', PASSWORD);
    await stack.page.getByTestId('logout').click();
    await stack.page.getByTestId('login-form').waitFor({ state: 'visible' });
    expect(violations).toEqual([]);
  });

  it('a page on another port of the same host cannot log the operator out', async () => {
    // The operator's own browser context, so the attacker's page shares the cookie jar.
    const context = await stack.browser.newContext();
    const page = await context.newPage();
    await page.goto(stack.server.url);
    await loginAs(page, 'operator', PASSWORD);
    const attack = await context.newPage();
    await attack.goto(evilUrl);
    // The request has been answered (no-cors: the page cannot see how).
    await expect.poll(() => attack.title(), { timeout: 10_000 }).toBe('sent');
    // The operator is still logged in.
    const me = await page.evaluate(async () => (await (await fetch('/api/me')).json()).user?.name ?? null);
    expect(me).toBe('operator');
    await context.close();
  });
});
