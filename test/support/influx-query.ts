/**
 * Small helpers for reading InfluxDB 1.x back in tests, over plain HTTP on loopback.
 */

/** Runs InfluxQL against `db` and returns the parsed JSON; throws on HTTP or statement errors. */
export async function queryInflux(url: string, db: string, q: string): Promise<InfluxResult> {
  const res = await fetch(`${url}/query?db=${encodeURIComponent(db)}&epoch=ms&q=${encodeURIComponent(q)}`, { method: 'POST' });
  const body = (await res.json()) as { results?: InfluxResult[]; error?: string };
  if (!res.ok || body.error) throw new Error(`influx query failed (${res.status}): ${body.error ?? JSON.stringify(body)}`);
  const first = body.results?.[0];
  if (!first) throw new Error(`influx query returned no result: ${JSON.stringify(body)}`);
  if (first.error) throw new Error(`influx statement failed: ${first.error}`);
  return first;
}

export interface InfluxResult {
  error?: string;
  series?: Array<{ name: string; columns: string[]; values: unknown[][]; tags?: Record<string, string> }>;
}

/** Number of rows (points) in `measurement`, counting one always-present field; 0 when empty. */
export async function countPoints(url: string, db: string, measurement: string, field = 'quality'): Promise<number> {
  const r = await queryInflux(url, db, `SELECT count("${field}") FROM "${measurement}"`);
  const v = r.series?.[0]?.values[0]?.[1];
  return typeof v === 'number' ? v : 0;
}

// waitFor lives in wait.ts; re-exported because the integration tests poll InfluxDB with it.
export { waitFor } from './wait.ts';
