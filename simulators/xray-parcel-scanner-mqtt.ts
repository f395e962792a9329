import type { DeviceSimulator, DoseScenario, SimulatorWire } from '../src/core/simulator.ts';
import { doseRateAt, seededRandom } from './physics.ts';
import { createXrayMachine, type XrayCause, type XrayMachineOptions, type XrayMachineState } from './xray-parcel-scanner-machine.ts';

/**
 * The X-ray parcel scanner behind an MQTT gateway, written from the "JSON form" section of
 * devices/xray-parcel-scanner/README.md (not from decodeXrayJson): a `status` object per tick and
 * an `event` object at once for every change, one MQTT message per `wire.write`. The scanner's
 * logic is the shared 21 CFR 1020.40 state machine.
 */

/** µSv/h at 5 cm from a sound cabinet with the beam on, and with the `leakage` fault (README). */
const NORMAL_LEAK_USVH = 0.02;
const FAULT_LEAK_USVH = 8;

/** One XRS JSON object (README "JSON form"); kV, mA, m/s, µSv/h, s. */
export function xrayJsonMessage(
  s: Readonly<XrayMachineState>,
  seq: number,
  fault: string,
  leakage: number,
  noise: () => number,
  event?: XrayCause,
): Record<string, unknown> {
  const base = event ? { type: 'event', event } : { type: 'status' };
  return {
    ...base,
    v: 1,
    seq,
    tube_voltage_set: s.kvSet,
    tube_voltage: s.beamOn ? Number(Math.max(0, s.kvSet + (noise() - 0.5) * 0.6).toFixed(1)) : 0,
    tube_current_set: s.maSet,
    tube_current: s.beamOn ? Number(Math.max(0, s.maSet + (noise() - 0.5) * 0.02).toFixed(2)) : 0,
    beam_on: s.beamOn,
    doors: s.doorsOpen.map((o) => (o ? 'open' : 'closed')),
    panels: s.panelsOpen.map((o) => (o ? 'open' : 'closed')),
    key_on: s.keyOn,
    estop_pressed: s.estopPressed,
    belt_running: s.beltRunning,
    belt_speed: s.beltSpeed,
    bag_present: s.bagPresent,
    xray_lamp: s.lampOk ? 'ok' : 'fault',
    leakage_dose_rate: Number(leakage.toFixed(3)),
    fault,
    beam_on_time: s.beamOnTime,
  };
}

/** The gateway: `tick_ms` is one scanner second; `seed` fixes noise; the scenario drives the leakage probe. */
export function createXrayParcelScannerMqttSimulator(
  wire: SimulatorWire,
  scenario: DoseScenario,
  opts: XrayMachineOptions = {},
): DeviceSimulator & { machine: ReturnType<typeof createXrayMachine>; announce(causes: XrayCause[]): void } {
  const machine = createXrayMachine(opts);
  const random = seededRandom(scenario.seed);
  let seq = 0;
  let tick = 0;
  let timer: NodeJS.Timeout | undefined;

  function send(event?: XrayCause): void {
    const s = machine.state;
    const leak = s.beamOn ? (s.faults.has('leakage') ? FAULT_LEAK_USVH : NORMAL_LEAK_USVH) : 0;
    const leakage = Math.max(0, (doseRateAt(scenario, tick) + leak) * (0.95 + 0.1 * random()));
    wire.write(Buffer.from(JSON.stringify(xrayJsonMessage(s, seq, machine.faultWord(), leakage, random, event)), 'utf8'));
    seq = (seq + 1) % 65536;
  }

  function announce(causes: XrayCause[]): void {
    for (const cause of causes) send(cause);
  }

  return {
    machine,
    announce,
    start() {
      if (timer) return;
      wire.onData(() => {}); // the gateway publishes only
      timer = setInterval(() => {
        tick += 1;
        announce(machine.tick());
        send();
      }, scenario.tick_ms);
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}
