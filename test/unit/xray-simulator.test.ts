import { describe, expect, it } from 'vitest';
import { xrayParcelScanner } from '../../devices/xray-parcel-scanner/profile.ts';
import { createXrayParcelScannerSimulator } from '../../simulators/xray-parcel-scanner.ts';
import type { XrayMachineOptions } from '../../simulators/xray-parcel-scanner-machine.ts';
import type { DecodedReading } from '../../src/core/reading.ts';
import { harness, settle } from '../support/session-harness.ts';

/**
 * Parity and safety rules: the simulator is driven into a state, its bytes go through the real
 * profile session, and the decoded readings must show that state and obey 21 CFR 1020.40.
 */
function rig(opts: XrayMachineOptions = {}, options: Record<string, unknown> = {}) {
  const h = harness(xrayParcelScanner, options);
  const bytes: Buffer[] = [];
  const sim = createXrayParcelScannerSimulator(
    { write: (b) => void bytes.push(b), onData: () => {} },
    { background_usvh: 0.08, events: [], seed: 7, tick_ms: 1000 },
    opts,
  );
  let seen = 0;
  /** Decodes everything written since the last call; returns those readings. */
  async function drain(): Promise<DecodedReading[]> {
    for (const b of bytes.splice(0)) h.session.push(b);
    await settle();
    const fresh = h.readings.slice(seen);
    seen = h.readings.length;
    return fresh;
  }
  function steps(n: number) {
    for (let i = 0; i < n; i++) sim.step();
  }
  return { sim, h, drain, steps, bytes };
}

/** The compliant rule set, checked on every decoded reading. */
function expectCompliant(r: DecodedReading) {
  const v = r.values;
  if (v.beam_on)
    expect({ key: v.key_on, estop: v.estop_pressed, interlocks: v.interlocks_closed, lamp: v.xray_lamp_ok, belt: v.belt_running }).toEqual({
      key: true,
      estop: false,
      interlocks: true,
      lamp: true,
      belt: true,
    });
}

describe('xray simulator → decoder parity', () => {
  it('runs in its working state: bags pass, the beam fires only with a bag, beam time accrues', async () => {
    const { steps, drain, h } = rig();
    steps(20);
    const rs = await drain();
    expect(h.rejects).toEqual([]);
    const status = rs.filter((r) => r.values.event === undefined);
    expect(status).toHaveLength(20);
    expect(status.some((r) => r.values.beam_on === true)).toBe(true);
    expect(status.some((r) => r.values.beam_on === false)).toBe(true);
    for (const r of rs) {
      expect(r.values.beam_on).toBe(r.values.bag_present);
      expect(r.values.tube_voltage_set).toBe(140);
      if (r.values.beam_on) expect(Math.abs((r.values.tube_voltage as number) - 140)).toBeLessThan(0.5);
      else expect(r.values).toMatchObject({ tube_voltage: 0, tube_current: 0 });
      expectCompliant(r);
    }
    expect(rs.filter((r) => r.values.event === 'bag').length).toBeGreaterThanOrEqual(6);
    const times = status.map((r) => r.values.beam_on_time as number);
    expect(times[times.length - 1]).toBeGreaterThan(0);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });

  it('open door → interlocks_closed false and the beam off at once, latched until a separate reset', async () => {
    const { sim, steps, drain } = rig();
    steps(1); // a bag is at the barrier and the beam is on
    expect((await drain()).at(-1)?.values).toMatchObject({ beam_on: true, bag_present: true });
    sim.openDoor(2);
    const events = await drain();
    expect(events.map((r) => r.values.event)).toEqual(['door', 'beam']);
    for (const r of events)
      expect(r.values).toMatchObject({
        interlocks_closed: false,
        door_1_closed: true,
        door_2_closed: false,
        beam_on: false,
        fault: 'interlock',
      });

    sim.closeDoor(2);
    steps(10);
    const closed = await drain();
    expect(closed[0]?.values).toMatchObject({ event: 'door', interlocks_closed: true, beam_on: false, fault: 'interlock' });
    expect(closed.every((r) => r.values.beam_on === false)).toBe(true); // bags passed, still no beam

    expect(sim.reset()).toBe(true);
    steps(5);
    const after = await drain();
    expect(after[0]?.values).toMatchObject({ event: 'reset', fault: 'none' });
    expect(after.some((r) => r.values.beam_on === true)).toBe(true);
  });

  it('refuses a reset while an interlock is open, the e-stop is pressed or the key is off', async () => {
    const { sim, steps, drain } = rig();
    sim.openPanel(1);
    expect(sim.reset()).toBe(false);
    sim.closePanel(1);
    sim.pressEstop();
    expect(sim.reset()).toBe(false);
    sim.releaseEstop();
    sim.turnKey(false);
    expect(sim.reset()).toBe(false);
    sim.turnKey(true);
    steps(10);
    let rs = await drain();
    expect(rs.every((r) => r.values.beam_on === false)).toBe(true);
    expect(rs.at(-1)?.values).toMatchObject({ fault: 'estop', estop_pressed: false });
    expect(sim.reset()).toBe(true);
    steps(5);
    rs = await drain();
    expect(rs.some((r) => r.values.beam_on === true)).toBe(true);
  });

  it.each([
    ['key off', (s: ReturnType<typeof rig>['sim']) => s.turnKey(false), { key_on: false }],
    ['e-stop', (s: ReturnType<typeof rig>['sim']) => s.pressEstop(), { estop_pressed: true, fault: 'estop' }],
    ['panel open', (s: ReturnType<typeof rig>['sim']) => s.openPanel(1), { panel_1_closed: false, interlocks_closed: false }],
    ['belt stopped', (s: ReturnType<typeof rig>['sim']) => s.stopBelt(), { belt_running: false, belt_speed: 0 }],
    ['lamp failed', (s: ReturnType<typeof rig>['sim']) => s.injectFault('lamp'), { xray_lamp_ok: false, fault: 'lamp' }],
  ])('no beam with %s', async (_name, act, shows) => {
    const { sim, steps, drain } = rig();
    steps(3);
    await drain();
    act(sim);
    steps(15);
    const rs = await drain();
    expect(rs.length).toBeGreaterThan(15);
    for (const r of rs) {
      expect(r.values).toMatchObject({ ...shows, beam_on: false, tube_current: 0 });
      expectCompliant(r);
    }
  });

  it('interlock_bypass: the faulty machine keeps firing with a door open, and says so on the wire', async () => {
    const { sim, steps, drain } = rig();
    sim.injectFault('interlock_bypass');
    sim.openDoor(1);
    steps(10);
    const rs = await drain();
    expect(rs.some((r) => r.values.beam_on === true && r.values.interlocks_closed === false)).toBe(true);
    sim.clearFault('interlock_bypass');
    steps(5);
    expect((await drain()).every((r) => r.values.beam_on === false)).toBe(true);
  });

  it('leakage: the probe reads background without beam and over 5 µSv/h with beam and the fault', async () => {
    const { sim, steps, drain } = rig();
    steps(10);
    const normal = await drain();
    for (const r of normal) expect(r.values.leakage_dose_rate as number).toBeLessThan(0.2);
    sim.injectFault('leakage');
    steps(10);
    const leaky = await drain();
    for (const r of leaky) {
      if (r.values.beam_on) expect(r.values.leakage_dose_rate as number).toBeGreaterThan(5);
      else expect(r.values.leakage_dose_rate as number).toBeLessThan(0.2);
    }
  });

  it('follows scenario events on the leakage probe', async () => {
    const bytes: Buffer[] = [];
    const h = harness(xrayParcelScanner);
    const sim = createXrayParcelScannerSimulator(
      { write: (b) => void bytes.push(b), onData: () => {} },
      { background_usvh: 0.05, events: [{ at_s: 5, duration_s: 3, peak_usvh: 20, shape: 'step' }], seed: 1, tick_ms: 1000 },
    );
    sim.stopBelt(); // no beam: the probe shows the scenario alone
    for (let i = 0; i < 10; i++) sim.step();
    for (const b of bytes) h.session.push(b);
    await settle();
    const rates = h.readings.filter((r) => r.values.event === undefined).map((r) => r.values.leakage_dose_rate as number);
    expect(rates.slice(4, 7).every((x) => x > 18)).toBe(true);
    expect([...rates.slice(0, 4), ...rates.slice(7)].every((x) => x < 0.06)).toBe(true);
  });

  it('reports setpoints and a 3-door, panel-less layout the profile options accept', async () => {
    const { sim, steps, drain, h } = rig({ doors: 3, panels: 0 }, { doors: 3, panels: 0 });
    sim.setTube(160, 1);
    steps(2);
    const rs = await drain();
    expect(h.rejects).toEqual([]);
    expect(rs[0]?.values).toMatchObject({ event: 'setpoint', tube_voltage_set: 160, tube_current_set: 1, door_3_closed: true });
    expect(rs[0]?.values).not.toHaveProperty('panel_1_closed');
  });

  it('numbers every line in sequence and checksums each (start writes INF, the timer writes STA)', async () => {
    const { sim, bytes, drain, h } = rig();
    sim.start();
    await new Promise((r) => setTimeout(r, 0));
    sim.stop();
    sim.step();
    sim.openDoor(1);
    const text = Buffer.concat(bytes).toString('latin1');
    const seqs = [...text.matchAll(/^\$XRS,[A-Z]{3},(\d+),/gm)].map((m) => Number(m[1]));
    expect(seqs).toEqual(seqs.map((_, i) => i));
    expect(text.startsWith('$XRS,INF,0,')).toBe(true);
    await drain();
    expect(h.rejects).toEqual([]);
  });
});
