import { describe, expect, it } from 'vitest';
import { catalogue } from '../../devices/index.ts';
import { configJsonSchema, parseConfig } from '../../src/config/load.ts';
import { RadscreenError } from '../../src/core/errors.ts';

const valid = `
station: { id: st1 }
devices:
  - id: g1
    profile: mightyohm-geiger
    serial: { path: /dev/ttyUSB0 }
`;

function problems(text: string, env: NodeJS.ProcessEnv = {}): string[] {
  try {
    parseConfig(text, { catalogue, env });
  } catch (e) {
    expect(e).toBeInstanceOf(RadscreenError);
    return (e as RadscreenError).details as string[];
  }
  throw new Error('expected the config to be rejected');
}

describe('config', () => {
  it('accepts a minimal config and fills defaults', () => {
    const c = parseConfig(valid, { catalogue, env: {} });
    expect(c.server.port).toBe(8080);
    expect(c.alarms.dose_rate_usvh).toBe(1);
    expect(c.devices[0]?.no_data_timeout_s).toBe(10);
  });

  it('reports a wrong key and a wrong type as path: message lines', () => {
    const lines = problems(`${valid}server: { prot: 80 }\nalarms: { dose_rate_usvh: high }\n`);
    expect(lines).toContainEqual(expect.stringMatching(/^server: Unrecognized key: "prot"/));
    expect(lines).toContainEqual(expect.stringMatching(/^alarms\.dose_rate_usvh: .*expected number/));
  });

  it('defaults the serial read tick to 250 ms and refuses one outside 0–1000 ms by its path', () => {
    expect(parseConfig(valid, { catalogue, env: {} }).agent.serial_read_interval_ms).toBe(250);
    expect(parseConfig(`${valid}agent: { serial_read_interval_ms: 0 }\n`, { catalogue, env: {} }).agent.serial_read_interval_ms).toBe(0);
    expect(problems(`${valid}agent: { serial_read_interval_ms: 5000 }\n`)).toContainEqual(
      expect.stringMatching(/^agent\.serial_read_interval_ms: .*1000/),
    );
    expect(problems(`${valid}agent: { serial_read_interval_ms: -1 }\n`)).toContainEqual(
      expect.stringMatching(/^agent\.serial_read_interval_ms: /),
    );
  });

  it('reports an unknown profile and bad profile options with their device index', () => {
    const lines = problems(`
station: { id: st1 }
devices:
  - { id: a, profile: nope, serial: { path: /dev/x } }
  - { id: b, profile: mightyohm-geiger, serial: { path: /dev/y }, options: { sensitivity: -3 } }
`);
    expect(lines[0]).toMatch(/^devices\.0\.profile: unknown profile 'nope'/);
    expect(lines[1]).toMatch(/^devices\.1\.options\.sensitivity: /);
  });

  it('needs exactly one of serial or simulate, and unique device ids', () => {
    const lines = problems(`
station: { id: st1 }
devices:
  - { id: a, profile: mightyohm-geiger }
  - { id: b, profile: mightyohm-geiger, serial: { path: /dev/y } }
  - { id: b, profile: mightyohm-geiger, serial: { path: /dev/z } }
`);
    expect(lines).toEqual(['devices.0: give exactly one of `serial`, `simulate` or `mqtt`', "devices.2.id: duplicate device id 'b'"]);
  });

  it('rejects ids that would break MQTT topics', () => {
    expect(problems('station: { id: "a/b" }')[0]).toMatch(/^station\.id: /);
  });

  it('lets the environment override URLs, ports and credentials', () => {
    const c = parseConfig(valid, {
      catalogue,
      env: { RADSCREEN_MQTT_URL: 'mqtt://10.0.0.1:1883', RADSCREEN_SERVER_PORT: '9090', RADSCREEN_INFLUX_PASSWORD: 's3cret' },
    });
    expect(c.mqtt.url).toBe('mqtt://10.0.0.1:1883');
    expect(c.server.port).toBe(9090);
    expect(c.influx.password).toBe('s3cret');
    expect(problems(valid, { RADSCREEN_SERVER_PORT: 'eighty' })[0]).toMatch(/^server\.port: /);
  });

  it('reports YAML syntax errors with their line', () => {
    expect(() => parseConfig('station: { id: x\n  bad', { env: {} })).toThrow(RadscreenError);
  });

  it('exports a JSON Schema with the top-level keys', () => {
    const schema = configJsonSchema() as { properties: Record<string, unknown>; additionalProperties: boolean };
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['station', 'mqtt', 'influx', 'server', 'alarms', 'devices']));
    expect(schema.additionalProperties).toBe(false);
  });
});
