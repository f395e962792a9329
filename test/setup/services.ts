import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { ensurePackages, type InfluxdHandle, type MosquittoHandle, startInfluxd, startMosquitto } from '../support/services.ts';
import type { ServicesContext } from './provided-context.ts';

/**
 * vitest globalSetup: installs (apt, as root) and starts one influxd and one mosquitto for the
 * whole run, on free loopback ports with data in a temp dir, and stops them by PID afterwards.
 *
 * vitest calls a globalSetup once per project (unit, integration, …) in the same process, so
 * the services are shared through a reference count on globalThis instead of started 6 times.
 */

interface Shared {
  refs: number;
  ready: Promise<{ ctx: ServicesContext; influx: InfluxdHandle; mqtt: MosquittoHandle }>;
}
const KEY = Symbol.for('radscreen.test.services');
const registry = globalThis as unknown as Record<symbol, Shared | undefined>;

async function startServices() {
  ensurePackages();
  const tmpDir = mkdtempSync(join(tmpdir(), 'radscreen-test-'));
  const [influx, mqtt] = await Promise.all([startInfluxd(join(tmpDir, 'influx')), startMosquitto(join(tmpDir, 'mosquitto'))]);
  return { ctx: { influxUrl: influx.url, mqttUrl: mqtt.url, tmpDir }, influx, mqtt };
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let shared = registry[KEY];
  if (!shared) {
    shared = { refs: 0, ready: startServices() };
    registry[KEY] = shared;
  }
  shared.refs++;
  const { ctx } = await shared.ready;
  project.provide('services', ctx);
  return async () => {
    const s = registry[KEY];
    if (!s || --s.refs > 0) return;
    registry[KEY] = undefined;
    const { influx, mqtt, ctx: c } = await s.ready;
    await Promise.all([influx.stop(), mqtt.stop()]);
    rmSync(c.tmpDir, { recursive: true, force: true });
  };
}
