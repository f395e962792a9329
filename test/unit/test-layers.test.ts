import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import config from '../../vitest.config.ts';

/**
 * The service-free layers stay service-free (docs/ARCHITECTURE.md "Tests"): unit, catalogue and
 * component run without influxd, mosquitto, socat or Chromium. The service set-up is a globalSetup
 * of the other layers only, and no test of these three reaches for a service, a pty or a browser.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const FREE = ['unit', 'catalogue', 'component'];

type Project = { test?: { name?: string; globalSetup?: string | string[] } };
const projects = ((config as { test?: { projects?: Project[]; globalSetup?: unknown } }).test?.projects ?? []) as Project[];

/** What only the service layers may use: the service set-up, a real broker/influxd, ptys, a browser. */
const FORBIDDEN: [RegExp, string][] = [
  [/inject\(\s*['"]services['"]\s*\)/, "inject('services')"],
  [/support\/browser\.ts/, 'test/support/browser.ts (Chromium)'],
  [/transports\/socat\.ts|support\/pty/, 'socat ptys'],
  [/\b(startInfluxd|startMosquitto|ensurePackages)\b/, 'a service from test/support/services.ts'],
];

describe('test layers', () => {
  it('runs the service set-up only for simulator, integration and browser', () => {
    expect((config as { test?: { globalSetup?: unknown } }).test?.globalSetup).toBeUndefined();
    const withSetup = projects.filter((p) => p.test?.globalSetup).map((p) => p.test?.name);
    expect(withSetup.sort()).toEqual(['browser', 'integration', 'simulator']);
    expect(projects.map((p) => p.test?.name)).toEqual(expect.arrayContaining(FREE));
  });

  it('has no unit, catalogue or component test that uses a service, a pty or a browser', () => {
    const files = FREE.flatMap((dir) =>
      readdirSync(join(ROOT, 'test', dir))
        // This file names the patterns it looks for.
        .filter((f) => f.endsWith('.ts') && f !== 'test-layers.test.ts')
        .map((f) => join('test', dir, f)),
    );
    expect(files.length).toBeGreaterThan(50);
    const offences = files.flatMap((f) => {
      const text = readFileSync(join(ROOT, f), 'utf8');
      return FORBIDDEN.filter(([re]) => re.test(text)).map(([, what]) => `${f}: ${what}`);
    });
    expect(offences).toEqual([]);
  });

  it('would see an offence (the patterns match what the service layers use)', () => {
    const integration = readFileSync(join(ROOT, 'test/integration/fault-suite.test.ts'), 'utf8');
    expect(FORBIDDEN[0]?.[0].test(integration)).toBe(true);
  });
});
