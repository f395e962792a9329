import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogue } from '../../devices/index.ts';
import { createAlarmEngine } from '../../src/alarms/engine.ts';
import type { CalibrationRecord } from '../../src/calibration/schemas.ts';
import { type CalibrationStore, openCalibrationStore, toCalibrationMessage } from '../../src/calibration/store.ts';
import { parseConfig } from '../../src/config/load.ts';
import { CalibrationMessageSchema } from '../../src/core/contract.ts';
import { buildApp, type RadscreenApp } from '../../src/server/app.ts';
import { addUser } from '../../src/server/auth/provision.ts';
import { type AuthStore, openAuthStore } from '../../src/server/auth/store.ts';
import { createLiveState } from '../../src/server/live-state.ts';

/** Calibration records: append-only store, the API's validation, roles, audit, and `/api/devices`. */
const config = parseConfig(
  `
station: { id: st1 }
devices:
  - { id: geiger-1, profile: mightyohm-geiger, simulate: {}, calibration_due: '2020-01-01' }
  - { id: radpro-1, profile: radpro, simulate: {} }
`,
  { catalogue, env: {} },
);
const T0 = Date.parse('2025-03-01T10:00:00Z');
let t = T0;
const now = () => t;
const body = {
  factor: 171.2,
  due: '2026-03-01',
  reference: { nuclide: 'Cs-137', dose_rate_usvh: 10, certificate: 'PTB-2024-0815' },
  comment: 'two points per decade, within 8 %',
};

describe('calibration store', () => {
  it('appends, returns the newest in force, and refuses UPDATE and DELETE', () => {
    const store = openCalibrationStore();
    const base = {
      device: 'd1',
      profile: 'mightyohm-geiger',
      kind: 'sensitivity' as const,
      factor: 150,
      calibrated_at: T0,
      due: '2026-01-01',
      reference: { nuclide: 'Cs-137', activity_bq: 3.7e5, certificate: 'c1' },
      technician: 'tech',
      comment: null,
      recorded_at: T0,
    };
    const a = store.append(base);
    const b = store.append({ ...base, factor: 160 });
    store.append({ ...base, device: 'd2' });
    expect(a.calibration_id).toMatch(/^cal-20250301-[0-9a-f]{6}$/);
    expect(b.calibration_id).not.toBe(a.calibration_id);
    expect(store.latest('d1')?.factor).toBe(160);
    expect(store.history('d1').map((r) => r.factor)).toEqual([160, 150]);
    expect(store.latestAll().map((r) => [r.device, r.factor])).toEqual([
      ['d1', 160],
      ['d2', 150],
    ]);
    expect(store.latest('nope')).toBeUndefined();
    const msg = CalibrationMessageSchema.parse(toCalibrationMessage('st1', b));
    expect(msg).toMatchObject({ device: 'd1', kind: 'sensitivity', factor: 160, calibration_id: b.calibration_id });
    store.close();
  });
});

describe('calibration API', () => {
  let auth: AuthStore;
  let store: CalibrationStore;
  let app: RadscreenApp;
  const published: CalibrationRecord[] = [];
  const as = (role: string) => ({ authorization: `Bearer ${auth.createSession(role, t + 3_600_000, t)}` });
  const post = (device: string, payload: object, headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url: `/api/devices/${device}/calibrations`, payload, headers });

  beforeAll(async () => {
    auth = openAuthStore();
    for (const role of ['technician', 'operator', 'admin'] as const)
      await addUser(auth, { name: role, role, password: `${role}-password` });
    store = openCalibrationStore();
    const engine = createAlarmEngine({ now, rules: [] });
    const state = createLiveState({ config, catalogue, engine, now });
    app = await buildApp({ state, engine, config, auth, now, calibrations: store, publishCalibration: (r) => published.push(r) });
  });
  afterAll(async () => {
    await app.close();
    store.close();
    auth.close();
  });

  it('shows the config due date and no record before any calibration', async () => {
    const devices = (await app.inject({ method: 'GET', url: '/api/devices' })).json().devices;
    expect(devices[0]).toMatchObject({ id: 'geiger-1', calibration_due: '2020-01-01', calibration: null });
    const h = await app.inject({ method: 'GET', url: '/api/devices/geiger-1/calibrations' });
    // With nothing recorded the firmware's own conversion (10000/57 CPM per µSv/h) is in force.
    expect(h.json()).toEqual({ device: 'geiger-1', kind: 'sensitivity', in_force: null, factor_in_force: 10_000 / 57, calibrations: [] });
    const radpro = (await app.inject({ method: 'GET', url: '/api/devices/radpro-1/calibrations' })).json();
    expect(radpro).toMatchObject({ kind: 'correction', factor_in_force: 1 });
    expect((await app.inject({ method: 'GET', url: '/api/devices/ghost/calibrations' })).statusCode).toBe(404);
  });

  it('refuses anonymous callers and other roles', async () => {
    expect((await post('geiger-1', body)).statusCode).toBe(401);
    expect((await post('geiger-1', body, as('operator'))).statusCode).toBe(403);
    expect((await post('geiger-1', body, as('admin'))).statusCode).toBe(403);
    expect(store.history('geiger-1')).toEqual([]);
  });

  it.each([
    ['a zero factor', { ...body, factor: 0 }, /factor/],
    ['a negative factor', { ...body, factor: -3 }, /factor/],
    ['a due date on the calibration day', { ...body, due: '2025-03-01' }, /due: 2025-03-01 must be after the calibration date 2025-03-01/],
    ['a due date before it', { ...body, due: '2024-12-31' }, /must be after/],
    ['no reference activity or dose rate', { ...body, reference: { nuclide: 'Cs-137', certificate: 'x' } }, /activity_bq/],
    ['no certificate', { ...body, reference: { nuclide: 'Cs-137', dose_rate_usvh: 10 } }, /certificate/],
    ['a calibration date in the future', { ...body, calibrated_at: T0 + 86_400_000 }, /future/],
    ['an unknown field', { ...body, kind: 'correction' }, /kind|Unrecognized/],
  ])('refuses %s with 400', async (_what, payload, message) => {
    const res = await post('geiger-1', payload, as('technician'));
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json()).toMatchObject({ code: 'RS_ERR_HTTP_BODY', message: expect.stringMatching(message) });
    expect(store.history('geiger-1')).toEqual([]);
  });

  it('refuses an unknown device with 404 and audits it', async () => {
    const res = await post('ghost', body, as('technician'));
    expect(res.statusCode).toBe(404);
    expect(auth.listAudit({ target: 'ghost' })[0]).toMatchObject({ action: 'device.calibrate', ok: false, user: 'technician' });
  });

  it('records a calibration for a technician: in force, on /api/devices, published, audited', async () => {
    const res = await post('geiger-1', body, as('technician'));
    expect(res.statusCode, res.body).toBe(200);
    const rec = res.json() as CalibrationRecord;
    expect(rec).toMatchObject({
      device: 'geiger-1',
      profile: 'mightyohm-geiger',
      kind: 'sensitivity',
      factor: 171.2,
      calibrated_at: T0,
      due: '2026-03-01',
      technician: 'technician',
      comment: body.comment,
      reference: body.reference,
    });
    expect(published.map((r) => r.calibration_id)).toEqual([rec.calibration_id]);
    const devices = (await app.inject({ method: 'GET', url: '/api/devices' })).json().devices;
    expect(devices[0]).toMatchObject({ calibration_due: '2026-03-01', calibration: { calibration_id: rec.calibration_id } });
    expect(devices[1]).toMatchObject({ id: 'radpro-1', calibration_due: null, calibration: null });
    const audit = auth.listAudit({ target: 'geiger-1', action: 'device.calibrate' })[0];
    expect(audit).toMatchObject({ ok: true, user: 'technician', detail: { calibration_id: rec.calibration_id, factor: 171.2 } });

    t += 60_000;
    const second = await post('radpro-1', { ...body, factor: 1.08, calibrated_at: T0 - 86_400_000 }, as('technician'));
    expect(second.json()).toMatchObject({ kind: 'correction', factor: 1.08 });
    const again = await post('geiger-1', { ...body, factor: 168, due: '2025-09-01' }, as('technician'));
    const h = (await app.inject({ method: 'GET', url: '/api/devices/geiger-1/calibrations' })).json();
    expect(h.in_force.calibration_id).toBe(again.json().calibration_id);
    expect(h.factor_in_force).toBe(h.in_force.factor);
    expect(h.calibrations.map((r: CalibrationRecord) => r.factor)).toEqual([168, 171.2]);
    expect((await app.inject({ method: 'GET', url: '/api/devices' })).json().devices[0].calibration_due).toBe('2025-09-01');
  });

  it('puts stored records in force when the app starts again', async () => {
    const engine = createAlarmEngine({ now, rules: [] });
    const state = createLiveState({ config, catalogue, engine, now });
    const again = await buildApp({ state, engine, config, auth, now, calibrations: store });
    expect(state.device('geiger-1')).toMatchObject({ calibration_due: '2025-09-01', calibration: { factor: 168 } });
    await again.close();
  });

  // mightyohm-geiger: reference 10000/57 = 175.4 CPM per µSv/h; plausible ±50 % = 87.7…263.2; ceiling 17.5…1754.
  const REF = 10_000 / 57;
  const approve = (id: string, role: string, payload: object = {}) =>
    app.inject({ method: 'POST', url: `/api/calibration-requests/${id}/approve`, payload, headers: as(role) });

  it.each([
    ['1e12', 1e12],
    ['1e9', 1e9],
    ['10.5x the reference', REF * 10.5],
    ['a tenth less than a tenth', REF / 10.5],
  ])('refuses a factor of %s outright (RS_ERR_CALIBRATION_IMPLAUSIBLE), audited', async (_what, factor) => {
    const before = store.history('geiger-1').length;
    const res = await post('geiger-1', { ...body, factor }, as('technician'));
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json()).toMatchObject({ code: 'RS_ERR_CALIBRATION_IMPLAUSIBLE', message: expect.stringMatching(/not a calibration/) });
    expect(store.history('geiger-1').length).toBe(before);
    expect(store.requests.list().some((r) => r.proposal.factor === factor)).toBe(false);
    const audit = auth.listAudit({ target: 'geiger-1', action: 'device.calibrate' })[0];
    expect(audit).toMatchObject({ ok: false, user: 'technician', detail: { code: 'RS_ERR_CALIBRATION_IMPLAUSIBLE', factor } });
  });

  it('holds +60 % for a second person: pending (202), not in force, then approved by another technician', async () => {
    await addUser(auth, { name: 'technician2', role: 'technician', password: 'technician2-password' });
    const inForce = store.latest('geiger-1');
    const sent = published.length;
    const factor = REF * 1.6;
    const res = await post('geiger-1', { ...body, factor }, as('technician'));
    expect(res.statusCode, res.body).toBe(202);
    const pending = res.json();
    expect(pending).toMatchObject({ code: 'RS_ERR_CALIBRATION_APPROVAL', request: { state: 'pending', requested_by: 'technician' } });
    expect(pending.request.plausible.max).toBeCloseTo(REF * 1.5, 6);
    const id: string = pending.request.request_id;
    expect(store.latest('geiger-1')).toEqual(inForce);
    expect(published.length).toBe(sent);
    const list = (await app.inject({ method: 'GET', url: '/api/calibration-requests?state=pending' })).json().requests;
    expect(list.map((r: { request_id: string }) => r.request_id)).toContain(id);
    expect(auth.listAudit({ target: 'geiger-1', action: 'device.calibrate.request' })[0]).toMatchObject({
      ok: true,
      user: 'technician',
      detail: { request_id: id, factor },
    });

    // The requester cannot approve their own; an operator may not approve at all.
    const own = await approve(id, 'technician');
    expect(own.statusCode, own.body).toBe(403);
    expect(own.json().code).toBe('RS_ERR_CALIBRATION_APPROVAL');
    expect((await approve(id, 'operator')).statusCode).toBe(403);
    expect(store.requests.get(id)?.state).toBe('pending');
    expect(auth.listAudit({ target: 'geiger-1', action: 'calibration.approve' })[0]).toMatchObject({ ok: false, user: 'technician' });

    const ok = await approve(id, 'technician2', { comment: 'second tube type fitted, checked' });
    expect(ok.statusCode, ok.body).toBe(200);
    const record = ok.json() as CalibrationRecord;
    expect(record).toMatchObject({ factor, technician: 'technician', approved_by: 'technician2' });
    expect(store.latest('geiger-1')?.calibration_id).toBe(record.calibration_id);
    expect(published.at(-1)?.calibration_id).toBe(record.calibration_id);
    expect(store.requests.get(id)).toMatchObject({ state: 'approved', decided_by: 'technician2', calibration_id: record.calibration_id });
    expect(auth.listAudit({ target: 'geiger-1', action: 'calibration.approve' })[0]).toMatchObject({
      ok: true,
      user: 'technician2',
      detail: { request_id: id, requested_by: 'technician', calibration_id: record.calibration_id },
    });
    // Decided is final.
    const again = await approve(id, 'admin');
    expect(again.statusCode).toBe(409);
  });

  it('holds -60 % too; an admin may approve; a withdrawn request cannot be approved', async () => {
    const low = await post('geiger-1', { ...body, factor: REF * 0.4 }, as('technician2'));
    expect(low.statusCode, low.body).toBe(202);
    const approved = await approve(low.json().request.request_id, 'admin');
    expect(approved.statusCode, approved.body).toBe(200);
    expect(approved.json()).toMatchObject({ approved_by: 'admin', technician: 'technician2' });

    const withdrawn = await post('radpro-1', { ...body, factor: 2.5 }, as('technician'));
    expect(withdrawn.statusCode, withdrawn.body).toBe(202);
    const id = withdrawn.json().request.request_id;
    const reject = await app.inject({
      method: 'POST',
      url: `/api/calibration-requests/${id}/reject`,
      payload: {},
      headers: as('technician'),
    });
    expect(reject.json()).toMatchObject({ state: 'rejected', decided_by: 'technician' });
    expect((await approve(id, 'technician2')).statusCode).toBe(409);
    expect(auth.listAudit({ target: 'radpro-1', action: 'calibration.reject' })[0]).toMatchObject({ ok: true, user: 'technician' });
    // A correction: 0.5…2 plausible, beyond 0.1…10 never.
    expect((await post('radpro-1', { ...body, factor: 1.9 }, as('technician'))).statusCode).toBe(200);
    expect((await post('radpro-1', { ...body, factor: 0.05 }, as('technician'))).json().code).toBe('RS_ERR_CALIBRATION_IMPLAUSIBLE');
    expect((await approve('calreq-00000000', 'technician2')).statusCode).toBe(404);
  });

  it('is in the OpenAPI document', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/docs/json' })).json();
    expect(Object.keys(doc.paths)).toContain('/api/devices/{id}/calibrations');
    expect(doc.paths['/api/devices/{id}/calibrations'].post.requestBody).toBeDefined();
  });
});
