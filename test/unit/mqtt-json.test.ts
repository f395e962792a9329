import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { catalogue } from '../../devices/index.ts';
import { createMqttJsonDecoder, readPath } from '../../devices/mqtt-json/decode.ts';
import { MqttJsonOptionsSchema } from '../../devices/mqtt-json/options.ts';
import { mqttJson } from '../../devices/mqtt-json/profile.ts';
import { parseConfig } from '../../src/config/load.ts';
import { RadscreenError } from '../../src/core/errors.ts';
import { harness } from '../support/session-harness.ts';

type Fixture = {
  received_at: number;
  groups: {
    note: string;
    options: Record<string, unknown>;
    cases: { note: string; payload: string; reading: unknown }[];
    rejected: { note: string; payload: string; code: string }[];
  }[];
  bad_options: { note: string; options: Record<string, unknown>; message: string }[];
};
const fx = JSON.parse(readFileSync(new URL('../../devices/mqtt-json/fixtures/mappings.json', import.meta.url), 'utf8')) as Fixture;

describe('mqtt-json decoder against fixtures/mappings.json', () => {
  for (const g of fx.groups) {
    describe(g.note, () => {
      const decode = createMqttJsonDecoder(MqttJsonOptionsSchema.parse(g.options));
      it.each(g.cases.map((c) => [c.note, c] as const))('%s', (_note, c) => {
        expect(decode(Buffer.from(c.payload), fx.received_at)).toEqual({ readings: [c.reading] });
      });
      it.each(g.rejected.map((c) => [c.note, c] as const))('rejects %s', (_note, c) => {
        expect(decode(Buffer.from(c.payload), fx.received_at)).toHaveProperty('reject.code', c.code);
      });
    });
  }

  it('follows dot paths through objects and array indices, and not into prototypes', () => {
    expect(readPath({ a: [{ b: 1 }, { b: 2 }] }, 'a.1.b')).toBe(2);
    expect(readPath({ a: 1 }, 'a.b')).toBeUndefined();
    expect(readPath({}, 'constructor')).toBeUndefined();
  });

  it('converts every supported unit to the canonical one', () => {
    const one = (channel: string, unit: string, v: number) =>
      createMqttJsonDecoder(MqttJsonOptionsSchema.parse({ fields: { [channel]: { path: 'v', unit } } }))(
        Buffer.from(JSON.stringify({ v })),
        0,
      );
    const value = (channel: string, unit: string, v: number) =>
      (one(channel, unit, v) as { readings: { values: Record<string, number> }[] }).readings[0]?.values[channel];
    expect(value('dose_rate', 'nSv/h', 250)).toBe(0.25);
    expect(value('dose_rate', 'mSv/h', 0.002)).toBe(2);
    expect(value('dose_rate', 'µR/h', 12)).toBe(0.12);
    expect(value('dose_rate', 'mR/h', 0.5)).toBe(5);
    expect(value('cpm', 'CPS', 3)).toBe(180);
    expect(value('cps', 'CPM', 90)).toBe(1.5);
    expect(value('dose', 'mSv', 1.5)).toBe(1500);
    expect(value('battery_voltage', 'mV', 3700)).toBe(3.7);
    expect(value('temperature', 'K', 293.15)).toBe(20);
    expect(value('battery_level', 'fraction', 0.5)).toBe(50);
  });
});

describe('mqtt-json options: a bad mapping is a config error before start', () => {
  it.each(fx.bad_options.map((c) => [c.note, c] as const))('%s', (_note, c) => {
    const r = MqttJsonOptionsSchema.safeParse(c.options);
    expect(r.success).toBe(false);
  });

  it('`config check` reports it as path: message with the device index', () => {
    const yaml = `
station: { id: st1 }
devices:
  - id: det1
    profile: mqtt-json
    mqtt: { topic: 'lab/det1/json' }
    options:
      fields:
        dose_rate: { path: rate, unit: CPM }
        radon: { path: rn, unit: Bq/m3 }
`;
    let lines: string[] = [];
    try {
      parseConfig(yaml, { catalogue, env: {} });
    } catch (e) {
      expect(e).toBeInstanceOf(RadscreenError);
      lines = (e as RadscreenError).details as string[];
    }
    expect(lines).toContain(
      "devices.0.options.fields.dose_rate.unit: 'CPM' cannot be converted for dose_rate (use one of nSv/h, uSv/h, µSv/h, mSv/h, Sv/h, uR/h, µR/h, mR/h, R/h)",
    );
    expect(lines).toContainEqual(expect.stringMatching(/^devices\.0\.options\.fields\.radon: 'radon' is not an mqtt-json channel/));
    for (const c of fx.bad_options) {
      const r = MqttJsonOptionsSchema.safeParse(c.options);
      const text = r.success ? '' : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
      expect(text, c.note).toContain(c.message);
    }
  });

  it('accepts a good mapping, and an mqtt entry only for an MQTT profile', () => {
    const ok = parseConfig(
      `station: { id: st1 }\ndevices:\n  - id: d1\n    profile: mqtt-json\n    mqtt: {}\n    options: { fields: { cpm: { path: c, unit: CPS } } }\n`,
      { catalogue, env: {} },
    );
    expect(ok.devices[0]?.options).toEqual({ fields: { cpm: { path: 'c', unit: 'CPS' } } });
    expect(() =>
      parseConfig(`station: { id: st1 }\ndevices:\n  - { id: g1, profile: mightyohm-geiger, mqtt: {} }\n`, { catalogue, env: {} }),
    ).toThrow(RadscreenError);
  });
});

describe('mqtt-json session', () => {
  it('with default options reads our own channel names and counts a bad message as a reject', () => {
    const h = harness(mqttJson);
    h.session.push(Buffer.from('{"dose_rate":0.2}'));
    h.session.push(Buffer.from('not json'));
    h.session.push(Buffer.from('{"cpm":60}'));
    expect(h.readings.map((r) => r.values)).toEqual([{ dose_rate: 0.2 }, { cpm: 60 }]);
    expect(h.rejects.map((r) => r.code)).toEqual(['RS_ERR_PAYLOAD_JSON']);
  });
});
