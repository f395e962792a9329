import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogue } from '../../devices/index.ts';
import { type Agent, startAgent } from '../../src/agent/agent.ts';
import { parseConfig } from '../../src/config/load.ts';
import { type ConsoleStack, startConsoleStack } from '../support/console-stack.ts';

/**
 * Issue 8 item 8 in Chromium: a configured serial device whose port never opens shows ERROR on
 * its tile together with the agent's reason and code, and its device_fault alarm is in the list.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'radscreen-console-fault-'));
const CONFIG = `
station: { id: st-fault-ui, name: Fault Station }
data_dir: ${dataDir}
server: { host: 127.0.0.1, port: 0 }
devices:
  - { id: belt-geiger, name: Parcel belt Geiger, profile: mightyohm-geiger, serial: { path: /dev/radscreen-no-such-port } }
`;

describe('console: a device that never opens', () => {
  let stack: ConsoleStack;
  let agent: Agent;

  beforeAll(async () => {
    stack = await startConsoleStack({ config: CONFIG, dataDir, users: [] });
    const config = parseConfig(CONFIG, { catalogue, env: {} });
    agent = startAgent({ config, catalogue, mqttUrl: stack.broker.url, log: pino({ level: 'silent' }) });
  }, 30_000);

  afterAll(async () => {
    await agent?.stop();
    await stack?.close();
  });

  it('shows ERROR with the reason and code on the tile, and the device_fault alarm in the list', async () => {
    const tile = stack.page.locator('[data-testid="device-tile"][data-device="belt-geiger"]');
    await tile.locator('[data-testid="device-status"]:text-is("error")').waitFor({ timeout: 15_000 });
    const reason = tile.getByTestId('status-reason');
    await reason.waitFor({ state: 'visible' });
    expect(await reason.textContent()).toMatch(/radscreen-no-such-port|No such file|ENOENT/i);
    expect(await reason.textContent()).toContain('(RS_ERR_PORT_OPEN)');
    const alarm = stack.page.locator('[data-testid="alarm-list"] [data-device="belt-geiger"]');
    await alarm.first().waitFor({ timeout: 15_000 });
    expect(await alarm.first().textContent()).toMatch(/RS_ERR_PORT_OPEN/);
  }, 40_000);

  it('says in the header that the station is degraded, and why (/healthz reasons)', async () => {
    const banner = stack.page.getByTestId('health-banner');
    await banner.waitFor({ state: 'visible', timeout: 10_000 });
    expect(await stack.page.getByTestId('health-reasons').textContent()).toMatch(/none of 1 devices is online/);
    // Storage works in this stack: its own banner stays hidden.
    expect(await stack.page.getByTestId('storage-banner').isVisible()).toBe(false);
  });
});
