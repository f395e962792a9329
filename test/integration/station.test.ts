import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { catalogue } from '../../devices/index.ts';
import { simulators } from '../../simulators/index.ts';
import { parseConfig } from '../../src/config/load.ts';
import { type Station, startStation } from '../../src/station/station.ts';
import { countPoints, waitFor } from '../support/influx-query.ts';

/**
 * The whole trunk on real parts: simulators on socat ptys → agent (real serialport) → embedded
 * broker → ingest → the real influxd, and the server raising an alarm. Counts must match exactly.
 */
describe('station end to end', () => {
  const { influxUrl, tmpDir } = inject('services');
  const dataDir = mkdtempSync(join(tmpDir, 'station-'));
  const database = `station_${Date.now()}`;
  let station: Station | undefined;

  afterAll(async () => {
    await station?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('stores exactly the readings the agent accepted, and raises the dose-rate alarm', async () => {
    const config = parseConfig(
      `
station: { id: e2e }
data_dir: ${dataDir}
mqtt: { embedded: { port: 0 } }
influx: { url: ${influxUrl}, database: ${database}, flush_interval_ms: 100 }
server: { port: 0 }
alarms: { dose_rate_usvh: 1.0, deadband_usvh: 0.2 }
devices:
  - id: hot
    profile: mightyohm-geiger
    options: { sensitivity: 175.4 }
    simulate: { background_usvh: 0.1, seed: 5, tick_ms: 20, events: [{ at_s: 5, duration_s: 100000, peak_usvh: 20, shape: step }] }
  - id: quiet
    profile: mightyohm-geiger
    simulate: { background_usvh: 0.1, seed: 6, tick_ms: 20 }
`,
      { catalogue, env: {} },
    );
    station = await startStation({ config, catalogue, simulators, log: pino({ level: 'silent' }) });
    expect(station.linkMode).toBe('pty');

    await waitFor(async () => (await fetch(`${station?.consoleUrl}/api/alarms`).then((r) => r.json())).alarms.length > 0, {
      timeoutMs: 20_000,
      describe: () => station?.deviceStats(),
    });
    const { alarms } = await fetch(`${station.consoleUrl}/api/alarms`).then((r) => r.json());
    expect(alarms[0]).toMatchObject({ device: 'hot', rule: 'dose_rate_high', state: 'active' });

    await waitFor(() => (station?.deviceStats().reduce((n, d) => n + d.accepted, 0) ?? 0) >= 300, { timeoutMs: 20_000 });
    const running = station;
    station = undefined;
    await running.stop(); // drains the agent's queue and flushes ingest before returning
    const accepted = running.deviceStats().reduce((n, d) => n + d.accepted, 0);
    expect(running.deviceStats().every((d) => Object.keys(d.rejected).length === 0)).toBe(true);
    const stored = await countPoints(influxUrl, database, 'radiation');
    expect(stored, `stored ${stored} of ${accepted}; agents ${JSON.stringify(running.deviceStats())}`).toBe(accepted);
  });

  it('with an external broker and `ingest.connections: 4`: four connections share the stream, and the counts still match', async () => {
    const { mqttUrl } = inject('services');
    const dir = mkdtempSync(join(tmpDir, 'station-connections-'));
    const db = `station_conn_${Date.now()}`;
    const config = parseConfig(
      `
station: { id: conn${Date.now() % 100000} }
data_dir: ${dir}
mqtt: { url: '${mqttUrl}' }
influx: { url: ${influxUrl}, database: ${db}, flush_interval_ms: 100 }
ingest: { connections: 4 }
server: { port: 0 }
devices:
  - id: g1
    profile: mightyohm-geiger
    simulate: { background_usvh: 0.1, seed: 7, tick_ms: 20 }
  - id: g2
    profile: mightyohm-geiger
    simulate: { background_usvh: 0.1, seed: 8, tick_ms: 20 }
`,
      { catalogue, env: {} },
    );
    const logged: string[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => void logged.push(line) });
    let running: Station | undefined = await startStation({ config, catalogue, simulators, log });
    try {
      expect(logged.find((l) => l.includes('ingest subscribed'))).toMatch(/"connections":4/);
      await waitFor(() => (running?.deviceStats().reduce((n, d) => n + d.accepted, 0) ?? 0) >= 200, { timeoutMs: 20_000 });
      const done = running;
      running = undefined;
      await done.stop();
      const accepted = done.deviceStats().reduce((n, d) => n + d.accepted, 0);
      // The agent's outbox keeps what the broker did not acknowledge; the rest was committed by ingest.
      await waitFor(async () => (await countPoints(influxUrl, db, 'radiation')) >= accepted, { timeoutMs: 20_000 });
      expect(await countPoints(influxUrl, db, 'radiation')).toBe(accepted);
    } finally {
      await running?.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
