import { defineConfig } from 'vitest/config';

/**
 * One vitest project per test layer (ARCHITECTURE.md "Tests"). `npm test` runs them all.
 * test/setup/services.ts installs and starts influxd and mosquitto once for the run;
 * tests read their addresses with `inject('services')`.
 */
export default defineConfig({
  test: {
    globalSetup: ['test/setup/services.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      { extends: true, test: { name: 'catalogue', include: ['test/catalogue/**/*.test.ts'] } },
      { extends: true, test: { name: 'component', include: ['test/component/**/*.test.ts'] } },
      { extends: true, test: { name: 'simulator', include: ['test/simulator/**/*.test.ts'] } },
      {
        extends: true,
        test: { name: 'integration', include: ['test/integration/**/*.test.ts'], fileParallelism: false, testTimeout: 120_000 },
      },
      { extends: true, test: { name: 'browser', include: ['test/browser/**/*.test.ts'], fileParallelism: false, testTimeout: 60_000 } },
    ],
  },
});
