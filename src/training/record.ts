import { RadscreenError } from '../core/errors.ts';
import type { DeviceProfile } from '../core/profile.ts';
import { type ChannelValue, IdSchema, QualitySchema } from '../core/reading.ts';
import { checkChannelValues } from '../core/reading-contract.ts';
import { META_FIELDS } from '../ingest/line-protocol.ts';

/**
 * `radscreen scenario record`: a time window of stored readings (InfluxDB 1.x, as ingest wrote
 * them) of chosen devices becomes a scenario whose devices are replays (src/training/scenario.ts
 * `replay`), played by engine-run.ts on the run's own clock. Identities are anonymised: device ids
 * and names are replaced by `device-<n>` / "Recorded <kind> <n>", the station, the source tag,
 * calibration ids and absolute times are dropped (only offsets from the window's start remain).
 */

/** One series of an InfluxQL answer (`epoch=u`: time in µs). */
export interface InfluxSeries {
  name: string;
  columns: string[];
  values: unknown[][];
}

/** Runs one InfluxQL statement and returns its series (none when nothing matched). */
export type InfluxQuery = (q: string) => Promise<InfluxSeries[]>;

export interface RecordOptions {
  query: InfluxQuery;
  database: string;
  /** Retention policy to read: `raw` (live readings) or `import` (replayed history). */
  policy: string;
  /** Stored device ids, in the order they become device-1, device-2, … */
  devices: string[];
  fromMs: number;
  toMs: number;
  catalogue: ReadonlyMap<string, DeviceProfile>;
  /** The scenario's name (the output file's base name). */
  name: string;
  title?: string;
  /** Readings per query (default 5000). */
  pageSize?: number;
  onProgress?(p: { device: string; done: number; total: number }): void;
}

/** A stored reading that cannot be replayed (e.g. a channel the profile no longer declares). */
export interface SkippedReading {
  device: string;
  t_s: number;
  reason: string;
}

export interface RecordResult {
  /** The scenario as plain data (what `toScenarioYaml` writes). */
  scenario: Record<string, unknown>;
  readings: number;
  skipped: SkippedReading[];
}

/** The schema's bounds (ScenarioSchema.duration_s, ScenarioDeviceSchema.replay). */
export const MAX_WINDOW_S = 24 * 3600;
export const MAX_READINGS_PER_DEVICE = 200_000;

/** Tag keys ingest writes (line-protocol.ts): they are identities, never channel values. */
const TAG_KEYS = new Set(['device', 'profile', 'source', 'station']);
const SKIP_COLUMNS = new Set<string>(['time', ...TAG_KEYS, ...META_FIELDS]);

const ident = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

function invalid(message: string, details?: string[]): RadscreenError {
  return new RadscreenError('RS_ERR_RECORD_INVALID', message, details);
}

/** Checks the request before any query: ids, window, bounds. */
function checkRequest(o: RecordOptions): void {
  const problems: string[] = [];
  if (o.devices.length === 0) problems.push('--device: give at least one device id');
  for (const d of o.devices) if (!IdSchema.safeParse(d).success) problems.push(`--device ${JSON.stringify(d)}: not a device id`);
  if (new Set(o.devices).size !== o.devices.length) problems.push('--device: a device is given twice');
  if (!(o.toMs > o.fromMs)) problems.push('--to must be after --from');
  else if ((o.toMs - o.fromMs) / 1000 > MAX_WINDOW_S)
    problems.push(`the window is longer than a scenario may be (${MAX_WINDOW_S / 3600} h)`);
  if (problems.length) throw invalid('cannot record that window', problems);
}

/** Reads the window of every device and builds the replay scenario. Throws RS_ERR_RECORD_INVALID. */
export async function recordScenario(o: RecordOptions): Promise<RecordResult> {
  checkRequest(o);
  const measurements = [...new Set([...o.catalogue.values()].map((p) => p.measurement))].sort();
  const from = `${o.fromMs * 1000}`;
  const to = `${o.toMs * 1000}`;
  const pageSize = o.pageSize ?? 5000;
  const skipped: SkippedReading[] = [];
  const devices: Record<string, unknown>[] = [];
  let readings = 0;
  for (const [i, device] of o.devices.entries()) {
    const where = `"device" = '${device}'`;
    const sources = measurements.map((m) => `${ident(o.database)}.${ident(o.policy)}.${ident(m)}`).join(', ');
    const counts = await o.query(`SELECT count("quality") FROM ${sources} WHERE ${where} AND time >= ${from}u AND time <= ${to}u`);
    const found = counts.map((s) => ({ m: s.name, n: Number(s.values[0]?.[1] ?? 0) })).filter((c) => c.n > 0);
    if (found.length === 0) throw invalid(`no readings of device '${device}' between the two times (policy ${o.policy})`);
    if (found.length > 1) throw invalid(`device '${device}' has readings in several measurements (${found.map((f) => f.m).join(', ')})`);
    const { m, n: total } = found[0] as { m: string; n: number };
    if (total > MAX_READINGS_PER_DEVICE)
      throw invalid(
        `device '${device}' has ${total} readings in the window; a scenario replays at most ${MAX_READINGS_PER_DEVICE} per device (narrow the window)`,
      );
    let profile: DeviceProfile | undefined;
    const replay: Record<string, unknown>[] = [];
    let cursor = `time >= ${from}u`;
    let done = 0;
    for (;;) {
      const page = await o.query(
        `SELECT * FROM ${ident(o.database)}.${ident(o.policy)}.${ident(m)} WHERE ${where} AND ${cursor} AND time <= ${to}u ORDER BY time ASC LIMIT ${pageSize}`,
      );
      const s = page[0];
      if (!s || s.values.length === 0) break;
      const col = (name: string) => s.columns.indexOf(name);
      for (const row of s.values) {
        const profileId = String(row[col('profile')]);
        if (!profile) {
          profile = o.catalogue.get(profileId);
          if (!profile) throw invalid(`device '${device}' was stored with profile '${profileId}', which this radscreen does not know`);
        } else if (profileId !== profile.id)
          throw invalid(`device '${device}' has readings of two profiles (${profile.id}, ${profileId}) in the window`);
        const ms = Math.floor(Number(row[0]) / 1000);
        const t_s = (ms - o.fromMs) / 1000;
        const values: Record<string, ChannelValue> = {};
        s.columns.forEach((c, j) => {
          const v = row[j];
          if (!SKIP_COLUMNS.has(c) && v !== null && v !== undefined) values[c] = v as ChannelValue;
        });
        const quality = QualitySchema.safeParse(row[col('quality')]);
        const refused =
          Object.keys(values).length === 0 ? { message: 'no channel values' } : checkChannelValues(values, profile.channels, profile.id);
        if (refused || !quality.success)
          skipped.push({ device, t_s, reason: refused?.message ?? `quality ${String(row[col('quality')])}` });
        else replay.push({ t_s, values, quality: quality.data });
      }
      done += s.values.length;
      o.onProgress?.({ device, done, total });
      cursor = `time > ${String(s.values[s.values.length - 1]?.[0])}u`;
      if (s.values.length < pageSize) break;
    }
    const p = profile as DeviceProfile;
    readings += replay.length;
    devices.push({ id: `device-${i + 1}`, profile: p.id, name: `Recorded ${p.kind.replace(/_/g, ' ')} ${i + 1}`, replay });
  }
  const duration_s = (o.toMs - o.fromMs) / 1000;
  const minutes = Math.round(duration_s / 6) / 10;
  return {
    readings,
    skipped,
    scenario: {
      name: o.name,
      title: o.title ?? `Recorded incident (${minutes} min, ${o.devices.length} device(s))`,
      description:
        `A replay of ${readings} stored readings of ${o.devices.length} device(s) over ${duration_s} s, made by ` +
        '`radscreen scenario record`: device ids and names are replaced, the station, times and calibration ids dropped. ' +
        'Describe here what the trainee should notice and do, and add `expected` and `errors` to score the run.',
      duration_s,
      devices,
    },
  };
}
