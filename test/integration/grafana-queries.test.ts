import { readFileSync } from 'node:fs';
import { describe, expect, inject, it } from 'vitest';
import { profiles } from '../../devices/index.ts';
import type { Reading } from '../../src/core/reading.ts';
import { toLines } from '../../src/ingest/line-protocol.ts';
import { ensureSchema } from '../../src/ingest/schema.ts';
import { queryInflux } from '../support/influx-query.ts';

interface Target {
  query: string;
}
interface Dashboard {
  panels: { title: string; targets: Target[] }[];
  templating: { list: { name: string; type: string; query: string; current: { value: string | string[] } }[] };
}

const dashboard: Dashboard = JSON.parse(
  readFileSync(new URL('../../dashboards/grafana/dashboards/radscreen-station.json', import.meta.url), 'utf8'),
);

const sourceVariable = dashboard.templating.list.find((v) => v.name === 'source');

/**
 * Grafana's macros and our variables, as Grafana expands them: "All" for station and device; for
 * source, its default (or `source`), a multi-value variable becoming `(a|b)` inside the regex.
 */
const expand = (q: string, source: string[] = [sourceVariable?.current.value ?? []].flat()) =>
  q
    .replaceAll('$timeFilter', 'time > now() - 1h')
    .replaceAll('$__interval', '10s')
    .replaceAll('$station', '.*')
    .replaceAll('$device', '.*')
    .replaceAll('$source', `(${source.join('|')})`);

/** A reading per catalogued profile with every channel filled, so each field the schema can hold exists. */
function sampleReadings(now: number): Reading[] {
  return profiles.map((p, i) => ({
    station: 'graf',
    device: `dev-${p.id}`,
    profile: p.id,
    kind: p.kind,
    ts: now - 1000 * (i + 1),
    ts_source: 'agent',
    values: Object.fromEntries(
      p.channels.map((c) => [c.key, c.type === 'boolean' ? true : c.type === 'enum' ? (c.values?.[0] ?? 'x') : (c.min ?? 0) + 1]),
    ),
    quality: i % 2 ? 'good' : 'suspect',
    source: 'live',
  }));
}

/**
 * Every InfluxQL query of the shipped Grafana dashboard runs against a real influxd with the
 * schema radscreen creates, and names only fields that radscreen writes. InfluxQL answers an
 * unknown field with an empty result, not an error, so the field check is what catches a rename.
 */
describe('Grafana dashboard queries', () => {
  const { influxUrl } = inject('services');
  const database = `grafana_${Date.now()}`;
  const queries = [
    ...dashboard.panels.flatMap((p) => p.targets.map((t) => t.query)),
    ...dashboard.templating.list.filter((v) => v.type === 'query').map((v) => v.query),
  ];

  it('filters every panel by the source tag, live by default (training and imported data stay out unless chosen)', () => {
    expect(sourceVariable).toMatchObject({ type: 'custom', current: { value: ['live'] } });
    expect(sourceVariable?.query.split(',')).toEqual(['live', 'simulated', 'training', 'replay']);
    for (const p of dashboard.panels) for (const t of p.targets) expect(t.query, p.title).toContain('"source" =~ /^$source$/');
  });

  it('names only fields radscreen writes (channels, their rollup maxima, quality)', () => {
    const written = new Set(profiles.flatMap((p) => p.channels.flatMap((c) => [c.key, `${c.key}_max`])));
    written.add('quality');
    const fields = queries.flatMap((q) => [...q.matchAll(/(?:mean|max|min|last|count|sum)\("([a-z0-9_]+)"\)/g)].map((m) => m[1] as string));
    expect(fields.length).toBeGreaterThan(8);
    expect(fields.filter((f) => !written.has(f))).toEqual([]);
  });

  it('runs every panel and variable query without an InfluxQL error, with data where it was written', async () => {
    await ensureSchema({ url: influxUrl, database, retention: '30d' });
    const body = toLines(sampleReadings(Date.now())).join('\n');
    const res = await fetch(`${influxUrl}/write?db=${database}&precision=u`, { method: 'POST', body });
    expect(res.status).toBe(204);
    const results = new Map<string, number>();
    for (const q of queries) {
      const r = await queryInflux(influxUrl, database, expand(q));
      results.set(q, r.series?.length ?? 0);
    }
    const seriesOf = (title: string) => {
      const panel = dashboard.panels.find((p) => p.title.startsWith(title));
      return results.get(panel?.targets[0]?.query ?? '') ?? -1;
    };
    expect(seriesOf('Dose rate (µSv/h)')).toBeGreaterThan(0);
    expect(seriesOf('Count rate')).toBeGreaterThan(0);
    expect(seriesOf('X-ray leakage')).toBeGreaterThan(0);
    expect(seriesOf('X-ray beam')).toBeGreaterThan(0);

    // Training readings on a device of their own: out of every panel by default, in when chosen.
    const dose = dashboard.panels.find((p) => p.title.startsWith('Dose rate (µSv/h)'))?.targets[0]?.query ?? '';
    const geiger = sampleReadings(Date.now()).find((r) => 'dose_rate' in r.values) as Reading;
    const training = { ...geiger, device: 'dev-training-only', source: 'training' as const, values: { ...geiger.values, dose_rate: 99 } };
    expect(
      (await fetch(`${influxUrl}/write?db=${database}&precision=u`, { method: 'POST', body: toLines([training]).join('\n') })).status,
    ).toBe(204);
    const devicesOf = async (q: string) => ((await queryInflux(influxUrl, database, q)).series ?? []).map((s) => s.tags?.device);
    for (const q of queries.filter((x) => x.includes('$source'))) expect(await devicesOf(expand(q))).not.toContain('dev-training-only');
    expect(await devicesOf(expand(dose, ['training']))).toEqual(['dev-training-only']);
    expect(await devicesOf(expand(dose, ['live', 'training']))).toContain('dev-training-only');
  });
});
