import { XMLParser } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { catalogue } from '../../devices/index.ts';
import { createAlarmEngine } from '../../src/alarms/engine.ts';
import type { Alarm } from '../../src/alarms/types.ts';
import { parseConfig } from '../../src/config/load.ts';
import type { Reading } from '../../src/core/reading.ts';
import { parseN42Document } from '../../src/importers/n42.ts';
import { buildApp } from '../../src/server/app.ts';
import { createLiveState } from '../../src/server/live-state.ts';
import { buildAlarmN42, N42_NS } from '../../src/server/n42-export.ts';

let t = 1_800_000_000_000;
const now = () => t;

function reading(dose: number, cps: number): Reading {
  t += 1000;
  return {
    station: 'st1',
    device: 'geiger-1',
    profile: 'mightyohm-geiger',
    kind: 'dosimeter',
    ts: t,
    ts_source: 'agent',
    values: { cps, cpm: cps * 60, dose_rate: dose, mode: 'SLOW' },
    quality: 'good',
    source: 'live',
  };
}

/** Five quiet seconds, a 2.5 µSv/h reading that raises, then three after it. */
function raiseAlarm(): Alarm {
  const engine = createAlarmEngine({ now, thresholds: { default: { threshold_usvh: 1, deadband_usvh: 0.2 } } });
  for (let i = 0; i < 5; i++) engine.evaluate(reading(0.1 + i * 0.01, 1));
  const raised = engine.evaluate(reading(2.5, 7)).find((tr) => tr.kind === 'raised');
  for (let i = 0; i < 3; i++) engine.evaluate(reading(2.4, 7));
  const alarm = engine.get(raised?.alarm.id as string) as Alarm;
  engine.close();
  return alarm;
}

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@_', isArray: (name) => name === 'RadMeasurement' });
const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

describe('N42.42-2011 export of an alarm', () => {
  const alarm = raiseAlarm();
  const xml = buildAlarmN42(alarm, {
    manufacturer: 'MightyOhm',
    model: 'Geiger Counter Kit',
    kind: 'dosimeter',
    name: 'Belt <Geiger> & co',
  });
  const doc = parser.parse(xml);
  const root = doc.RadInstrumentData;

  it('is a RadInstrumentData document in the 2011 namespace with a UUID and time', () => {
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>')).toBe(true);
    expect(root['@_xmlns']).toBe(N42_NS);
    expect(root['@_n42DocUUID']).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Date(root['@_n42DocDateTime']).getTime()).toBe(alarm.raised_at);
    // Same alarm, same document identity.
    expect(buildAlarmN42(alarm, { manufacturer: 'x', model: 'y', kind: null })).toContain(root['@_n42DocUUID']);
  });

  it('describes the instrument and a GM detector, escaping text', () => {
    expect(root.RadInstrumentInformation).toMatchObject({
      RadInstrumentManufacturerName: 'MightyOhm',
      RadInstrumentModelName: 'Geiger Counter Kit',
      RadInstrumentIdentifier: 'geiger-1',
      RadInstrumentClassCode: 'Dosimeter',
      RadInstrumentVersion: { RadInstrumentComponentName: 'radscreen' },
    });
    expect(xml).toContain('Belt &lt;Geiger&gt; &amp; co');
    expect(root.RadDetectorInformation).toMatchObject({
      '@_id': 'det-geiger-1',
      RadDetectorCategoryCode: 'Gamma',
      RadDetectorKindCode: 'GMT',
    });
  });

  it('has one background and a foreground slice per reading around the alarm plus the alarm window', () => {
    const ms = asArray(root.RadMeasurement) as Record<string, unknown>[];
    expect(alarm.readings_before.length).toBe(5);
    expect(alarm.readings_after.length).toBe(3);
    expect(ms.map((m) => m.MeasurementClassCode)).toEqual(['Background', ...Array(5 + 1 + 3).fill('Foreground')]);
    expect(ms.map((m) => m['@_id'])).toEqual([
      'background',
      'pre-1',
      'pre-2',
      'pre-3',
      'pre-4',
      'pre-5',
      'alarm',
      'post-1',
      'post-2',
      'post-3',
    ]);
    const bg = ms[0] as { DoseRate: { DoseRateValue: number }; RealTimeDuration: string };
    expect(bg.DoseRate.DoseRateValue).toBeCloseTo(0.12, 6); // mean of 0.10 … 0.14
    expect(bg.RealTimeDuration).toBe('PT4S');
    const alarmSlice = ms[6] as { DoseRate: { DoseRateValue: number; '@_radDetectorInformationReference': string } };
    expect(alarmSlice.DoseRate.DoseRateValue).toBe(2.5);
    expect(alarmSlice.DoseRate['@_radDetectorInformationReference']).toBe('det-geiger-1');
    const post = ms[7] as { GrossCounts: { CountData: number; LiveTimeDuration: string }; StartDateTime: string };
    expect(post.GrossCounts).toMatchObject({ CountData: 7, LiveTimeDuration: 'PT1S' });
    expect(new Date(post.StartDateTime).getTime()).toBe(alarm.readings_after[0]?.ts);
  });

  it('states the alarm in AnalysisResults/RadAlarm and references every measurement', () => {
    const ar = root.AnalysisResults;
    expect(ar['@_radMeasurementReferences'].split(' ')).toHaveLength(10);
    expect(ar.RadAlarm.RadAlarmCategoryCode).toBe('Gamma');
    expect(new Date(ar.RadAlarm.RadAlarmDateTime).getTime()).toBe(alarm.evidence.reading_ts);
    expect(ar.RadAlarm.RadAlarmDescription).toContain('dose_rate 2.5 uSv/h against threshold 1 uSv/h');
    expect(ar.AnalysisAlgorithmName).toBe(`radscreen ${alarm.rule}`);
  });

  it('reads back through the project N42 importer with the same dose rates', () => {
    const back = parseN42Document(xml);
    expect(back.instrument).toMatchObject({ manufacturer: 'MightyOhm', identifier: 'geiger-1', classCode: 'Dosimeter' });
    expect(back.readings).toHaveLength(10);
    expect(back.readings.map((r) => r.values.dose_rate)).toEqual([
      expect.closeTo(0.12, 6),
      ...alarm.readings_before.map((s) => s.values.dose_rate),
      2.5,
      ...alarm.readings_after.map((s) => s.values.dose_rate),
    ]);
  });

  it('is served at GET /api/alarms/:id/n42 as XML, 404 for an unknown id', async () => {
    const config = parseConfig('station: { id: st1 }\ndevices:\n  - { id: geiger-1, profile: mightyohm-geiger, simulate: {} }\n', {
      catalogue,
      env: {},
    });
    const engine = createAlarmEngine({ now, thresholds: { default: { threshold_usvh: 1, deadband_usvh: 0.2 } } });
    const state = createLiveState({ config, catalogue, engine, now });
    const app = await buildApp({ state, engine, config, now });
    const id = engine.evaluate(reading(3, 9)).find((tr) => tr.kind === 'raised')?.alarm.id as string;
    const res = await app.inject({ method: 'GET', url: `/api/alarms/${encodeURIComponent(id)}/n42` });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/xml/);
    const served = parser.parse(res.body).RadInstrumentData;
    expect(served.RadInstrumentInformation.RadInstrumentManufacturerName).toBe('MightyOhm');
    expect(parseN42Document(res.body).readings.at(-1)?.values.dose_rate).toBe(3);
    expect((await app.inject({ method: 'GET', url: '/api/alarms/nope/n42' })).statusCode).toBe(404);
    await app.close();
    engine.close();
  });
});
