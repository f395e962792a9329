import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { waitFor } from '../support/wait.ts';

/**
 * Issue 8 item 5: `radscreen station`, Ctrl-C, `radscreen station` raised a HIGH
 * `radiation_background` on a background-only Rad Pro (its sliding CPM window refilling, tested
 * against the restored background) and `device_stale` alarms for every device that had not yet
 * reported again. Real processes, real ptys, a persistent data dir: two runs of the station with
 * background-only simulated devices must raise no alarm at all.
 * The background warm-up is shortened to 10 s and the stale delay to 2 s so both rules are live
 * within the runs; the station is down 6 s between them (longer than the Geiger's 5-s window + 2 s).
 */
const DEVICES = ['sorting-geiger', 'counter-gmc', 'radpro-a', 'radpro-b', 'survey-bgeigie', 'dock-safecast'];
const RUN_S = 12;

const CONFIG = (dataDir: string) => `
station: { id: restart }
data_dir: ${dataDir}
mqtt: { embedded: { port: 0 } }
influx: { managed: never }
server: { host: 127.0.0.1, port: 0 }
alarms:
  dose_rate_usvh: 1.0
  deadband_usvh: 0.2
  defaults: { background: { warmup_s: 10 }, stale_delay_s: 2 }
devices:
  - { id: sorting-geiger, profile: mightyohm-geiger, simulate: { background_usvh: 0.1, seed: 11 } }
  - { id: counter-gmc, profile: gq-gmc, options: { model: auto, poll_interval_s: 1, timezone: UTC }, simulate: { background_usvh: 0.11, seed: 21 } }
  - { id: radpro-a, profile: radpro, simulate: { background_usvh: 0.1, seed: 31 } }
  - { id: radpro-b, profile: radpro, simulate: { background_usvh: 0.1, seed: 32 } }
  - { id: survey-bgeigie, profile: safecast-bgeigie, simulate: { background_usvh: 0.09, seed: 41 } }
  - { id: dock-safecast, profile: safecast-json, simulate: { background_usvh: 0.1, seed: 61 } }
`;

interface AlarmRow {
  device: string;
  rule: string;
  state: string;
  message: string;
}

const children = new Set<ChildProcess>();

/** Starts `radscreen station` and resolves with its console URL (from its JSON log line). */
async function startStation(configPath: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'station', '--config', configPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const url = await new Promise<string>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on('line', (line) => {
      const m = /"url":"(http:[^"]+)".*operator console listening/.exec(line);
      if (m?.[1]) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`station exited (${code}) before listening: ${stderr}`)));
  });
  return { child, url };
}

async function stopWithSigint(child: ChildProcess): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGINT');
  const code = await Promise.race([exited, sleep(20_000).then(() => 'timeout' as const)]);
  if (code === 'timeout') {
    child.kill('SIGKILL');
    throw new Error('station did not stop within 20 s of SIGINT');
  }
  children.delete(child);
  return code;
}

/** One run: wait until every device has reported, watch for RUN_S, return every alarm it lists. */
async function oneRun(configPath: string): Promise<AlarmRow[]> {
  const { child, url } = await startStation(configPath);
  const devices = async () =>
    ((await fetch(`${url}/api/devices`).then((r) => r.json())) as { devices: { id: string; last_reading: unknown }[] }).devices;
  let seen: string[] = [];
  await waitFor(
    async () => {
      seen = (await devices()).filter((d) => d.last_reading !== null).map((d) => d.id);
      return DEVICES.every((d) => seen.includes(d));
    },
    { timeoutMs: 20_000, everyMs: 250, describe: () => seen },
  );
  // The observation period itself (not a synchronisation): alarms would appear within it.
  await sleep(RUN_S * 1000);
  const { alarms } = (await fetch(`${url}/api/alarms?state=all`).then((r) => r.json())) as { alarms: AlarmRow[] };
  expect(await stopWithSigint(child)).toBe(0);
  return alarms;
}

describe('radscreen station restart (real processes, persistent data dir)', () => {
  const { tmpDir } = inject('services');
  const dir = mkdtempSync(join(tmpDir, 'station-restart-'));
  const configPath = join(dir, 'station.yaml');
  writeFileSync(configPath, CONFIG(join(dir, 'data')));

  afterAll(() => {
    for (const c of children) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('raises no alarm on background-only devices in the first run or after Ctrl-C and a restart', async () => {
    const first = await oneRun(configPath);
    expect(first.map((a) => `${a.device}:${a.rule}: ${a.message}`)).toEqual([]);
    // Down for a while, as after a Ctrl-C and a manual restart.
    await sleep(6000);
    const second = await oneRun(configPath);
    expect(second.map((a) => `${a.device}:${a.rule}: ${a.message}`)).toEqual([]);
  }, 90_000);
});
