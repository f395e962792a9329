import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { catalogue } from '../../devices/index.ts';
import { simulators } from '../../simulators/index.ts';
import { parseConfig } from '../../src/config/load.ts';
import type { Reading } from '../../src/core/reading.ts';
import { toLines } from '../../src/ingest/line-protocol.ts';
import { ensureSchema } from '../../src/ingest/schema.ts';
import { alarmSequence, startEngineRun } from '../../src/training/engine-run.ts';
import { type InfluxSeries, recordScenario } from '../../src/training/record.ts';
import type { RunReport } from '../../src/training/report.ts';
import { loadScenario, SCENARIO_DIR } from '../../src/training/scenario.ts';

/**
 * `radscreen scenario record` round-trips against a real influxd: a shipped scenario is played on
 * its own engine, every reading it judged is stored as a live station's readings (real line
 * protocol, real influxd, station and device ids of a "real" station), the window is recorded
 * with the CLI, and the recorded scenario replays to the same alarm sequence, through the CLI's
 * `scenario run --report json` and through the engine run (rule, severity, kind, second, device).
 */
const services = inject('services');
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('RADSCREEN_')));
const dir = join(services.tmpDir, 'scenario-record');
mkdirSync(dir, { recursive: true });
let seq = 0;

function cli(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/radscreen.js', ...args], { env: { ...env, NO_COLOR: '1', RADSCREEN_FROM_SOURCE: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('error', reject);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** A station config reading the test's influxd, database `db`. */
function configFile(db: string): string {
  const file = join(dir, `${db}.yaml`);
  writeFileSync(
    file,
    `station: { id: records-desk }\ndata_dir: ${join(dir, `${db}-data`)}\ninflux: { url: '${services.influxUrl}', database: ${db} }\n`,
  );
  return file;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Plays a shipped scenario and stores what it read as station `depot-12`'s live readings; returns the alarm sequence. */
async function storeOriginal(name: string, db: string, rename: Record<string, string>) {
  await ensureSchema({ url: services.influxUrl, database: db, retention: 'INF' });
  const scenario = loadScenario(join(SCENARIO_DIR, `${name}.yaml`));
  const config = parseConfig(`station: { id: depot-12 }\n`);
  // An hour ago, whole seconds: the recording window is in the past, as a real incident's is.
  const startMs = Math.floor(Date.now() / 1000) * 1000 - 3600_000;
  const readings: Reading[] = [];
  const run = startEngineRun({ scenario, config, catalogue, simulators, speed: 'max', startMs, onReading: (r) => readings.push(r) });
  await run.done;
  run.engine.close();
  // As the agent does (outbox): readings of one device in the same millisecond count seq up, so
  // none overwrites another in InfluxDB (the scanner reports several per tick).
  const last = new Map<string, { ts: number; seq: number }>();
  const stored = readings.map((r) => {
    const prev = last.get(r.device);
    const seq = prev?.ts === r.ts ? prev.seq + 1 : 0;
    last.set(r.device, { ts: r.ts, seq });
    return { ...r, seq, device: rename[r.device] as string, source: 'live' as const };
  });
  for (let i = 0; i < stored.length; i += 5000) {
    const res = await fetch(`${services.influxUrl}/write?db=${db}&rp=raw&precision=u`, {
      method: 'POST',
      body: toLines(stored.slice(i, i + 5000)).join('\n'),
    });
    expect(res.status, await res.text()).toBe(204);
  }
  const original = alarmSequence(run.transitions(), startMs).map((a) => ({ ...a, device: rename[a.device] }));
  return { scenario, startMs, original, readings: stored.length };
}

describe('radscreen scenario record (real influxd)', () => {
  it.each([
    ['weak-cs137-parcel', { 'training-chute-geiger': 'chute-7-geiger' }],
    ['two-simultaneous-alarms', { 'training-parcel-scanner': 'xr-depot12-a', 'training-belt-geiger': 'chute-7-geiger' }],
  ])(
    'records %s from stored readings and replays it to the same alarm sequence',
    async (name, rename) => {
      const db = `record_${process.pid}_${seq++}`;
      const { scenario, startMs, original, readings } = await storeOriginal(name, db, rename);
      expect(Object.keys(rename).sort()).toEqual(scenario.devices.map((d) => `training-${d.id}`).sort());
      expect(original.filter((a) => a.kind === 'raised').length).toBeGreaterThan(0);

      const stored = Object.values(rename);
      const out = join(dir, `incident-${db.replace(/_/g, '-')}.yaml`);
      const cfg = configFile(db);
      const rec = await cli([
        'scenario',
        'record',
        '-c',
        cfg,
        '--from',
        iso(startMs),
        '--to',
        iso(startMs + scenario.duration_s * 1000),
        ...stored.flatMap((d) => ['--device', d]),
        '--out',
        out,
      ]);
      expect(rec.status, rec.stderr).toBe(0);
      expect(rec.stderr).toContain(`${readings} readings`);
      expect(rec.stderr).toMatch(/recording chute-7-geiger: \d+\/\d+ readings/);

      // Anonymised: no station, device id or absolute time of the original survives.
      const text = readFileSync(out, 'utf8');
      for (const secret of ['depot-12', 'depot12', 'chute-7', iso(startMs).slice(0, 16)]) expect(text).not.toContain(secret);
      const check = await cli(['scenario', 'check', out]);
      expect(check.status, check.stderr).toBe(0);
      expect(check.stdout).toContain(`, ${readings} replayed reading(s), ${scenario.duration_s} s)`);
      const recorded = loadScenario(out);
      expect(recorded.devices.map((d) => d.id)).toEqual(stored.map((_, i) => `device-${i + 1}`));
      expect(recorded.devices.every((d) => (d.replay?.length ?? 0) > 0)).toBe(true);
      const anon = Object.fromEntries(stored.map((d, i) => [d, `training-device-${i + 1}`]));
      const expected = original.map((a) => ({ ...a, device: anon[a.device as string] }));

      // Through the engine run: the whole sequence, second by second.
      const replay = startEngineRun({
        scenario: recorded,
        config: parseConfig('station: { id: st-replay }\n'),
        catalogue,
        simulators,
        speed: 'max',
      });
      await replay.done;
      replay.engine.close();
      expect(alarmSequence(replay.transitions(), replay.startMs)).toEqual(expected);

      // Through the CLI: the report's alarms are the original raises, in order.
      const played = await cli(['scenario', 'run', out, '-c', cfg, '--speed', 'max', '--report', 'json']);
      expect(played.status, played.stderr).toBe(0);
      const report = JSON.parse(played.stdout) as RunReport;
      expect(report.alarms.map((a) => [a.rule, a.severity, a.device, a.raised_at_s])).toEqual(
        expected.filter((a) => a.kind === 'raised').map((a) => [a.rule, a.severity, a.device, a.at_s]),
      );
    },
    180_000,
  );

  it('reads long windows page by page: small pages give the same scenario as one page, with progress per page', async () => {
    const db = `record_${process.pid}_${seq++}`;
    const { scenario, startMs, readings } = await storeOriginal('two-simultaneous-alarms', db, {
      'training-parcel-scanner': 'xr-depot12-a',
      'training-belt-geiger': 'chute-7-geiger',
    });
    const query = async (q: string): Promise<InfluxSeries[]> => {
      const res = await fetch(`${services.influxUrl}/query?db=${db}&epoch=u&q=${encodeURIComponent(q)}`, { method: 'POST' });
      const body = (await res.json()) as { results: { series?: InfluxSeries[]; error?: string }[] };
      if (body.results[0]?.error) throw new Error(body.results[0].error);
      return body.results[0]?.series ?? [];
    };
    const opts = {
      query,
      database: db,
      policy: 'raw',
      devices: ['xr-depot12-a', 'chute-7-geiger'],
      fromMs: startMs,
      toMs: startMs + scenario.duration_s * 1000,
      catalogue,
      name: 'paged',
    };
    const progress: string[] = [];
    const paged = await recordScenario({ ...opts, pageSize: 7, onProgress: (p) => progress.push(`${p.device} ${p.done}/${p.total}`) });
    const whole = await recordScenario(opts);
    expect(paged.readings).toBe(readings);
    expect(paged.skipped).toEqual([]);
    expect(paged.scenario).toEqual(whole.scenario);
    expect(progress.length).toBeGreaterThan(readings / 7 - 2);
    expect(progress.at(-1)).toMatch(/^chute-7-geiger (\d+)\/\1$/);
  }, 120_000);

  it('refuses a window without readings, and bad flags, with exit 2 and a code', async () => {
    const db = `record_${process.pid}_${seq++}`;
    await ensureSchema({ url: services.influxUrl, database: db, retention: 'INF' });
    const cfg = configFile(db);
    const out = join(dir, 'empty.yaml');
    const refusals: Array<{ from: string; to: string; device: string; says: string[] }> = [
      {
        from: '2026-01-01T00:00:00Z',
        to: '2026-01-01T01:00:00Z',
        device: 'nobody',
        says: ['RS_ERR_RECORD_INVALID', "no readings of device 'nobody'"],
      },
      { from: '2026-01-01T01:00:00Z', to: '2026-01-01T00:00:00Z', device: 'a', says: ['--to must be after --from'] },
      { from: '2026-01-01T00:00:00', to: '2026-01-01T01:00:00Z', device: 'a', says: ['with its zone'] },
    ];
    for (const r of refusals) {
      const res = await cli(['scenario', 'record', '-c', cfg, '--from', r.from, '--to', r.to, '--device', r.device, '--out', out]);
      expect(res.status, res.stderr).toBe(2);
      for (const text of r.says) expect(res.stderr).toContain(text);
    }
    // A replay plays only on its own engine: through a broker it is refused.
    const replayFile = join(dir, 'replay-only.yaml');
    writeFileSync(
      replayFile,
      'name: replay-only\ntitle: R\ndescription: d\nduration_s: 5\ndevices:\n  - { id: device-1, profile: mightyohm-geiger, replay: [{ t_s: 1, values: { cpm: 20 } }] }\n',
    );
    const broker = await cli(['scenario', 'run', replayFile, '-c', cfg]);
    expect(broker.status).toBe(2);
    expect(broker.stderr).toContain('add --report json');
    const help = await cli(['scenario', 'record', '--help']);
    expect(help.status).toBe(0);
    for (const flag of ['--from', '--to', '--device', '--out', '--config', '--policy']) expect(help.stdout).toContain(flag);
  }, 120_000);
});
