import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogue } from '../../devices/index.ts';
import { thresholdsFromConfig } from '../../src/alarms/dose-rate-rule.ts';
import { createAlarmEngine } from '../../src/alarms/engine.ts';
import { parseConfig } from '../../src/config/load.ts';
import type { Reading } from '../../src/core/reading.ts';
import { buildApp } from '../../src/server/app.ts';
import { createLiveState, type LiveState } from '../../src/server/live-state.ts';

const CONFIG = `
station: { id: st1, name: Test Station }
alarms: { dose_rate_usvh: 1.0, deadband_usvh: 0.2 }
devices:
  - id: geiger-1
    profile: mightyohm-geiger
    name: Parcel belt Geiger
    simulate: {}
  - id: geiger-2
    profile: mightyohm-geiger
    simulate: {}
    alarm: { dose_rate_usvh: 5 }
`;

let t = 1_800_000_000_000;
const now = () => t;

function reading(device: string, doseRate: number): Reading {
  return {
    station: 'st1',
    device,
    profile: 'mightyohm-geiger',
    kind: 'dosimeter',
    ts: t,
    ts_source: 'agent',
    values: { cps: 1, cpm: Math.round(doseRate * 175), dose_rate: doseRate, mode: 'SLOW' },
    quality: 'good',
    source: 'simulated',
  };
}

describe('buildApp (inject)', () => {
  let app: FastifyInstance;
  let state: LiveState;
  const storage = { enabled: false, detail: 'no InfluxDB configured' };

  beforeAll(async () => {
    const config = parseConfig(CONFIG, { catalogue, env: {} });
    const engine = createAlarmEngine({ now, thresholds: thresholdsFromConfig(config) });
    state = createLiveState({ config, catalogue, engine, now });
    const feed = (r: Reading) => {
      state.addReading(r);
      engine.evaluate(r); // its transitions reach the live state through the engine's bus
    };
    state.applyStatus({ v: 1, station: 'st1', device: 'geiger-1', profile: 'mightyohm-geiger', state: 'online', ts: t, detail: {} });
    feed(reading('geiger-1', 0.12));
    t += 1000;
    feed(reading('geiger-1', 2.5)); // raises
    t += 1000;
    feed(reading('geiger-1', 0.1)); // clears
    t += 1000;
    feed(reading('geiger-1', 3.1)); // raises again: active
    t += 1000;
    feed(reading('geiger-2', 3.1)); // below geiger-2's own 5 µSv/h
    app = await buildApp({ state, engine, config, storage, now, heartbeatMs: 50 });
  });

  afterAll(async () => {
    await app?.close();
  });

  it('GET /healthz reports degraded (503) because readings are not stored', async () => {
    const res = await app.inject({ method: 'GET', url: '/healthz' });
    expect(res.statusCode).toBe(503);
    const body = res.json();
    expect(body).toMatchObject({
      ok: false,
      status: 'degraded',
      station: { id: 'st1', name: 'Test Station' },
      storage: { enabled: false },
      alarms_active: 1,
      version: JSON.parse(readFileSync('package.json', 'utf8')).version,
    });
    expect(body.reasons.map((r: { code: string }) => r.code)).toEqual(['storage_off']);
    expect(body.devices).toEqual({ online: 2 });
  });

  it('GET /api/devices lists every configured device with status and last reading', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/devices' });
    expect(res.statusCode).toBe(200);
    const { devices } = res.json();
    expect(devices.map((d: { id: string }) => d.id)).toEqual(['geiger-1', 'geiger-2']);
    expect(devices[0]).toMatchObject({
      id: 'geiger-1',
      name: 'Parcel belt Geiger',
      profile: 'mightyohm-geiger',
      status: 'online',
      reported_status: 'online',
      last_reading: { values: { dose_rate: 3.1 } },
    });
    expect(devices[1]).toMatchObject({ id: 'geiger-2', name: 'geiger-2', status: 'online' });
  });

  it('marks a device stale once its profile window passes without readings', async () => {
    const saved = t;
    t += (catalogue.get('mightyohm-geiger')?.staleAfterMs ?? 0) + 1;
    expect(state.checkStale().sort()).toEqual(['geiger-1', 'geiger-2']);
    const res = await app.inject({ method: 'GET', url: '/api/devices' });
    expect(res.json().devices.map((d: { status: string }) => d.status)).toEqual(['stale', 'stale']);
    t = saved;
    expect(state.checkStale().length).toBe(2);
  });

  it('GET /api/readings/latest returns one reading per device, filterable by device', async () => {
    const all = await app.inject({ method: 'GET', url: '/api/readings/latest' });
    expect(all.statusCode).toBe(200);
    expect(all.json().readings.map((r: Reading) => [r.device, r.values.dose_rate])).toEqual([
      ['geiger-1', 3.1],
      ['geiger-2', 3.1],
    ]);
    const one = await app.inject({ method: 'GET', url: '/api/readings/latest?device=geiger-2' });
    expect(one.json().readings).toHaveLength(1);
    expect(one.json().readings[0].device).toBe('geiger-2');
  });

  it('GET /api/alarms lists the active alarm first, then cleared ones', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/alarms' });
    expect(res.statusCode).toBe(200);
    const { alarms } = res.json();
    expect(alarms.map((a: { state: string }) => a.state)).toEqual(['active', 'cleared']);
    expect(alarms[0]).toMatchObject({ device: 'geiger-1', rule: 'dose_rate_high', evidence: { value: 3.1, threshold: 1 } });
    const active = await app.inject({ method: 'GET', url: '/api/alarms?state=active&limit=5' });
    expect(active.json().alarms).toHaveLength(1);
  });

  it('answers 400 RS_ERR_HTTP_BODY with the offending field on a bad query', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/alarms?limit=abc' });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'RS_ERR_HTTP_BODY' });
    expect(res.json().message).toMatch(/limit/);
    const bad = await app.inject({ method: 'GET', url: '/api/alarms?state=maybe' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/state/);
    const id = await app.inject({ method: 'GET', url: '/api/readings/latest?device=a%2Fb' });
    expect(id.statusCode).toBe(400);
    expect(id.json().code).toBe('RS_ERR_HTTP_BODY');
  });

  it('answers 404 as JSON for an unknown API route', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/nope' });
    expect(res.statusCode).toBe(404);
  });

  it('serves the console index and its scripts', async () => {
    const res = await app.inject({ method: 'GET', url: '/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.body).toContain('data-testid="device-grid"');
    const js = await app.inject({ method: 'GET', url: '/app.js' });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toMatch(/javascript/);
  });

  it('streams a snapshot, live events and heartbeats over SSE, and drops listeners on disconnect', async () => {
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as AddressInfo;
    const before = state.listenerCount('reading');
    let text = '';
    const req = request({ host: '127.0.0.1', port, path: '/api/stream' });
    const done = new Promise<void>((resolve, reject) => {
      req.on('response', (res) => {
        expect(res.headers['content-type']).toMatch(/text\/event-stream/);
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
          if (text.includes('event: snapshot') && !text.includes('event: reading')) {
            t += 1000;
            state.addReading(reading('geiger-2', 0.2));
          }
          if (text.includes('event: reading') && text.includes(': heartbeat')) resolve();
        });
      });
      req.on('error', reject);
    });
    req.end();
    await done;
    expect(state.listenerCount('reading')).toBe(before + 1);
    req.destroy();
    await expect.poll(() => state.listenerCount('reading')).toBe(before);
    expect(text).toMatch(/event: reading\ndata: \{.*"device":"geiger-2"/);
  });
});
