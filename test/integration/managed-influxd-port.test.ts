import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { readManagedInfluxCredentials, startManagedInfluxd } from '../../src/station/managed-influxd.ts';

/**
 * influx.managed_port: a configured port is taken or the start fails with a clear message (never
 * a silent other port Grafana cannot find); unconfigured, a busy preferred port falls back to a
 * free one. The RPC address `radscreen backup` needs is recorded next to the credentials.
 */
describe('managed influxd port (real influxd)', () => {
  const { tmpDir } = inject('services');
  const dir = mkdtempSync(join(tmpDir, 'managed-port-'));
  let blocker: Server | undefined;
  afterAll(async () => {
    await new Promise((r) => (blocker ? blocker.close(r) : r(undefined)));
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a configured port that is in use, falls back when the port was only preferred, records the RPC address', async () => {
    const server = createServer();
    blocker = server;
    const busy = await new Promise<number>((resolve) =>
      server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
    );
    await expect(startManagedInfluxd(join(dir, 'strict'), busy, { strictPort: true })).rejects.toThrow(
      new RegExp(`influx.managed_port ${busy} is in use`),
    );
    const influxd = await startManagedInfluxd(join(dir, 'loose'), busy);
    try {
      expect(influxd.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(influxd.url.endsWith(`:${busy}`)).toBe(false);
      expect(readManagedInfluxCredentials(join(dir, 'loose'))).toMatchObject({ url: influxd.url, rpc: influxd.rpcAddress });
    } finally {
      await influxd.stop();
    }
  });
});
