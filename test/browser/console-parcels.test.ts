import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogue } from '../../devices/index.ts';
import { simulators } from '../../simulators/index.ts';
import type { SourceNuclide } from '../../simulators/radiacode-physics.ts';
import type { XraySimulator } from '../../simulators/xray-parcel-scanner.ts';
import { type Agent, startAgent } from '../../src/agent/agent.ts';
import { type SimulatedLinks, startSimulatedLinks } from '../../src/agent/simulated-links.ts';
import { parseConfig } from '../../src/config/load.ts';
import type { DeviceSimulator, SimulatorFactory } from '../../src/core/simulator.ts';
import { type ConsoleStack, startConsoleStack } from '../support/console-stack.ts';
import { waitFor } from '../support/wait.ts';

/**
 * Issue 11, end to end in Chromium: the X-ray scanner simulator and a RadiaCode simulator on socat
 * ptys, read by the agent through the real serialport; readings and spectra over MQTT to the
 * server, whose parcel desk makes the records the console shows. The test drives the simulators'
 * controls: when the scanner's light barrier sees a bag it places a source at the RadiaCode
 * (`placeSource`) and removes it when the bag leaves. An I-131 parcel must show `medical`, a
 * Cs-137 parcel `industrial`, and the chute alarm raised during the Cs-137 parcel must carry the
 * parcel's category and nuclides in its evidence and its detail.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'radscreen-console-parcels-'));
const CONFIG = `
station: { id: st-parcels, name: Parcel Station }
data_dir: ${dataDir}
server: { host: 127.0.0.1, port: 0 }
parcels: { chute: [rc1], settle_s: 5 }
devices:
  - { id: xray1, name: Parcel scanner, profile: xray-parcel-scanner, simulate: { tick_ms: 1000, seed: 3 } }
  - id: rc1
    name: Chute spectrometer
    profile: radiacode
    simulate: { tick_ms: 250, seed: 4, background_usvh: 0.1 }
    options: { poll_interval_ms: 250, spectrum_interval_s: 1 }
`;

type Placeable = DeviceSimulator & { placeSource(n: SourceNuclide, usvh: number): void; removeSource(): void };

describe('console: parcels through the tunnel (simulator bytes → agent → MQTT → server → console)', () => {
  let stack: ConsoleStack;
  let links: SimulatedLinks;
  let agent: Agent;
  const running = new Map<string, DeviceSimulator>();

  beforeAll(async () => {
    stack = await startConsoleStack({ config: CONFIG, dataDir, users: [] });
    const config = parseConfig(CONFIG, { catalogue, env: {} });
    // The real factories, wrapped only to keep hold of each simulator's control panel.
    const capturing = new Map<string, SimulatorFactory>(
      [...simulators].map(([id, make]) => [
        id,
        (wire, scenario) => {
          const sim = make(wire, scenario);
          running.set(id, sim);
          return sim;
        },
      ]),
    );
    links = await startSimulatedLinks({
      devices: config.devices,
      catalogue,
      simulators: capturing,
      dataDir,
      log: pino({ level: 'silent' }),
    });
    agent = startAgent({
      config,
      catalogue,
      mqttUrl: stack.broker.url,
      log: pino({ level: 'silent' }),
      links: links.links,
      coalesceMs: 10,
    });
  }, 30_000);

  afterAll(async () => {
    await agent?.stop();
    await links?.stop();
    await stack?.close();
  });

  /** Waits for the next bag at the light barrier, holds `nuclide` at the detector while it is there. */
  async function passParcel(nuclide: SourceNuclide, usvh: number): Promise<void> {
    const xray = running.get('xray-parcel-scanner') as XraySimulator;
    const rc = running.get('radiacode') as Placeable;
    await waitFor(() => !xray.snapshot().bagPresent, { timeoutMs: 10_000, describe: () => 'tunnel empty' });
    await waitFor(() => xray.snapshot().bagPresent, { timeoutMs: 10_000, describe: () => 'a bag at the light barrier' });
    rc.placeSource(nuclide, usvh);
    await waitFor(() => !xray.snapshot().bagPresent, { timeoutMs: 10_000, describe: () => 'the bag gone', everyMs: 20 });
    rc.removeSource();
  }

  it('shows an I-131 parcel as medical and a Cs-137 parcel as industrial, each with its nuclide', async () => {
    expect(links.mode).toBe('pty');
    const page = stack.page;
    const panel = page.getByTestId('parcels-panel');
    await panel.waitFor({ state: 'visible', timeout: 10_000 });
    // Background first: empty-tunnel spectra and count rates for the desk to subtract.
    await page.locator('[data-testid="parcel-row"]').nth(1).waitFor({ timeout: 20_000 });
    await passParcel('I-131', 8);
    await passParcel('Cs-137', 8);

    const medical = page.locator('[data-testid="parcel-row"]', { has: page.locator('[data-testid="parcel-category"]:text-is("medical")') });
    await medical.first().waitFor({ timeout: 15_000 });
    expect(await medical.first().getByTestId('parcel-nuclides').textContent()).toContain('I-131');
    expect(await medical.first().getByTestId('parcel-verdict').textContent()).toBe('nuisance');

    const industrial = page.locator('[data-testid="parcel-row"]', {
      has: page.locator('[data-testid="parcel-category"]:text-is("industrial")'),
    });
    await industrial.first().waitFor({ timeout: 15_000 });
    expect(await industrial.first().getByTestId('parcel-nuclides').textContent()).toContain('Cs-137');
    expect(await industrial.first().getByTestId('parcel-verdict').textContent()).toBe('alarm');
    // Only these two parcels carried a source: every other one is clear.
    const verdicts = await page.getByTestId('parcel-verdict').allTextContents();
    expect(verdicts.filter((v) => v !== 'clear').sort()).toEqual(['alarm', 'nuisance']);
  }, 90_000);

  it("shows the parcel's category and nuclides in the detail of an alarm raised during it", async () => {
    const page = stack.page;
    const res = await fetch(`${stack.server.url}/api/parcels`);
    const { parcels } = (await res.json()) as { parcels: { category?: string; alarms: string[] }[] };
    const hot = parcels.find((p) => p.category === 'industrial');
    expect(hot?.alarms.length).toBeGreaterThan(0);
    const item = page.locator(`[data-testid="alarm-item"][data-id="${hot?.alarms[0]}"]`);
    await item.waitFor({ timeout: 10_000 });
    await item.getByTestId('detail-button').click();
    await page.getByTestId('detail-category').waitFor({ timeout: 10_000 });
    expect(await page.getByTestId('detail-category').textContent()).toBe('industrial');
    expect(await page.getByTestId('detail-nuclides').textContent()).toContain('Cs-137');
    // The alarm's own evidence carries the parcel's identification (transition `identified`).
    const alarm = await fetch(`${stack.server.url}/api/alarms/${encodeURIComponent(hot?.alarms[0] as string)}`).then((r) => r.json());
    expect(alarm.alarm.evidence.parcel).toMatchObject({ verdict: 'alarm', category: 'industrial' });
    expect(alarm.alarm.evidence.parcel.nuclides.map((n: { nuclide: string }) => n.nuclide)).toContain('Cs-137');
    expect(alarm.history.map((t: { kind: string }) => t.kind)).toContain('identified');
  }, 30_000);
});
