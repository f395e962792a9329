import { defineConfig } from 'vitest/config';

/**
 * One vitest project per test layer (docs/ARCHITECTURE.md "Tests"). `npm test` runs them all.
 * test/setup/services.ts installs and starts influxd and mosquitto once for the run; tests read
 * their addresses with `inject('services')`. Only the layers that use real services (simulator,
 * integration, browser) run that set-up: unit, catalogue and component need nothing but Node, so
 * `npx vitest run --project unit` works on a machine without influxd, mosquitto, socat or Chromium.
 */
const services = ['test/setup/services.ts'];
export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      { extends: true, test: { name: 'catalogue', include: ['test/catalogue/**/*.test.ts'] } },
      { extends: true, test: { name: 'component', include: ['test/component/**/*.test.ts'] } },
      { extends: true, test: { name: 'simulator', include: ['test/simulator/**/*.test.ts'], globalSetup: services } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: services,
          fileParallelism: false,
          testTimeout: 120_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          globalSetup: services,
          fileParallelism: false,
          testTimeout: 60_000,
        },
      },
    ],
  },
});
