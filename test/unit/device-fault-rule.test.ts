import { describe, expect, it } from 'vitest';
import { createDeviceFaultRule, DeviceStatusBoard, type DeviceStatusEntry } from '../../src/alarms/device-fault-rule.ts';
import { createAlarmEngine } from '../../src/alarms/engine.ts';

/** device_fault timing on an injected clock: error delay, offline window, retry flapping, clearing. */
function setUp() {
  let t = 1_800_000_000_000;
  const board = new DeviceStatusBoard();
  const engine = createAlarmEngine({ now: () => t, rules: [createDeviceFaultRule(board)] });
  const status = (state: DeviceStatusEntry['state'], detail: Record<string, unknown> = {}) =>
    board.update(
      {
        station: 's',
        device: 'g1',
        profile: 'mightyohm-geiger',
        kind: 'dosimeter',
        source: 'live',
        state,
        detail,
        status_ts: t,
        stale_after_ms: 30_000,
      },
      t,
    );
  const at = (ms: number) => {
    t += ms;
    return engine.tick().map((x) => `${x.kind} ${x.alarm.rule}`);
  };
  return { engine, status, at };
}

describe('device_fault rule', () => {
  it('raises after 5 s of error, and a retry cycle (connecting ↔ error) neither resets the delay nor clears it', () => {
    const { engine, status, at } = setUp();
    status('error', { code: 'RS_ERR_PORT_OPEN', reason: 'no such port /dev/ttyUSB9' });
    expect(at(3000)).toEqual([]);
    status('connecting');
    expect(at(1000)).toEqual([]);
    status('error', { code: 'RS_ERR_PORT_OPEN', reason: 'no such port /dev/ttyUSB9' });
    expect(at(1500)).toEqual(['raised device_fault']);
    const [a] = engine.list({ state: 'active' });
    expect(a).toMatchObject({ class: 'equipment', severity: 'medium', message: 'g1 error: no such port /dev/ttyUSB9 (RS_ERR_PORT_OPEN)' });
    status('connecting');
    expect(at(60_000)).toEqual([]);
    status('online');
    expect(at(1000)).toEqual(['cleared device_fault']);
  });

  it('offline or connecting alone raises only after the staleness window', () => {
    const { status, at } = setUp();
    status('offline', { error: 'agent connection lost' });
    expect(at(29_000)).toEqual([]);
    expect(at(2000)).toEqual(['raised device_fault']);
  });

  it('a brief error that ends online raises nothing', () => {
    const { engine, status, at } = setUp();
    status('error', { code: 'RS_ERR_PORT_LOST' });
    expect(at(2000)).toEqual([]);
    status('online');
    expect(at(10_000)).toEqual([]);
    expect(engine.list({ state: 'all' })).toEqual([]);
  });
});
