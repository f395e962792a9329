import { z } from 'zod';
import { systemClock } from '../src/core/clock.ts';
import type { ControlApi, DeviceSimulator, DoseScenario, SimulatorWire } from '../src/core/simulator.ts';
import { doseRateAt, seededRandom } from './physics.ts';
import {
  createXrayMachine,
  type XrayCause,
  type XrayFaultKind,
  type XrayMachineOptions,
  type XrayMachineState,
} from './xray-parcel-scanner-machine.ts';

/**
 * An X-ray parcel scanner speaking the XRS line protocol, written from
 * devices/xray-parcel-scanner/README.md (not from the decoder): `INF` at start, `STA` once per
 * tick, an `EVT` line at once for every change. The leakage probe reads the scenario's dose rate
 * (background plus its events, via doseRateAt) plus what leaks from the tube while the beam is on.
 */

/** µSv/h at 5 cm that a sound cabinet leaks with the beam on (vendors claim < 1 µSv/h). */
const NORMAL_LEAK_USVH = 0.02;
/** µSv/h at 5 cm with the `leakage` fault (a missing curtain, a cracked shield): over the 5 µSv/h limit. */
const FAULT_LEAK_USVH = 8;

/** The control panel a test or a trainer drives; every action writes its EVT lines at once. */
export interface XrayControls {
  turnKey(on: boolean): void;
  /** Doors and panels are numbered from 1. */
  openDoor(n: number): void;
  closeDoor(n: number): void;
  openPanel(n: number): void;
  closePanel(n: number): void;
  pressEstop(): void;
  releaseEstop(): void;
  /** The separate re-arm control after a trip; false when refused (interlock open, e-stop pressed, key off). */
  reset(): boolean;
  startBelt(): void;
  stopBelt(): void;
  /** Setpoints in kV and mA. */
  setTube(kv: number, ma: number): void;
  /** `lamp` fails the X-RAY ON lamp (the scanner stops X-rays); `interlock_bypass` and `leakage` make it unsafe. */
  injectFault(kind: XrayFaultKind): void;
  clearFault(kind: XrayFaultKind): void;
  /** Advances one device second now (status line included), without waiting for the timer. */
  step(): void;
  /** The machine's current state, for assertions. */
  snapshot(): Readonly<XrayMachineState>;
}

/** A scanner simulator: the usual start/stop plus its control panel. */
export type XraySimulator = DeviceSimulator & XrayControls;

const door = z.tuple([z.number().int().min(1).max(4)]);
const none = z.tuple([]);
const fault = z.tuple([z.enum(['lamp', 'interlock_bypass', 'leakage'])]);

/** The XrayControls a scenario may call (step and snapshot are for tests only). */
export const xrayControlApi = {
  turnKey: z.tuple([z.boolean()]),
  openDoor: door,
  closeDoor: door,
  openPanel: door,
  closePanel: door,
  pressEstop: none,
  releaseEstop: none,
  reset: none,
  startBelt: none,
  stopBelt: none,
  /** kV, mA. */
  setTube: z.tuple([z.number().positive().max(450), z.number().positive().max(20)]),
  injectFault: fault,
  clearFault: fault,
} satisfies Record<Exclude<keyof XrayControls, 'step' | 'snapshot'>, z.ZodType<unknown[]>> satisfies ControlApi;

/** XOR of the bytes between `$` and `*`, two uppercase hex digits (README "Line format"). */
function checksum(body: string): string {
  let x = 0;
  for (let i = 0; i < body.length; i++) x ^= body.charCodeAt(i);
  return (x & 0xff).toString(16).toUpperCase().padStart(2, '0');
}

/** One complete XRS line, CR LF included. */
export function xrsLine(type: 'STA' | 'EVT' | 'INF', seq: number, fields: readonly string[]): string {
  const body = ['XRS', type, String(seq), ...fields].join(',');
  return `$${body}*${checksum(body)}\r\n`;
}

/** The 16 status fields of README's STA table, in order. `leakage` in µSv/h, `noise` in [0, 1). */
export function statusFields(s: Readonly<XrayMachineState>, fault: string, leakage: number, noise: () => number): string[] {
  const kv = s.beamOn ? Math.max(0, s.kvSet + (noise() - 0.5) * 0.6) : 0;
  const ma = s.beamOn ? Math.max(0, s.maSet + (noise() - 0.5) * 0.02) : 0;
  const bit = (b: boolean) => (b ? '1' : '0');
  return [
    s.kvSet.toFixed(1),
    kv.toFixed(1),
    s.maSet.toFixed(2),
    ma.toFixed(2),
    bit(s.beamOn),
    s.doorsOpen.map((o) => (o ? 'O' : 'C')).join(''),
    s.panelsOpen.length === 0 ? '-' : s.panelsOpen.map((o) => (o ? 'O' : 'C')).join(''),
    bit(s.keyOn),
    bit(s.estopPressed),
    bit(s.beltRunning),
    s.beltSpeed.toFixed(2),
    bit(s.bagPresent),
    s.lampOk ? 'OK' : 'FAULT',
    leakage.toFixed(3),
    fault,
    String(s.beamOnTime),
  ];
}

/**
 * Creates the simulator. `scenario.tick_ms` is one device second (the status period);
 * `scenario.seed` fixes the noise; `scenario.events` shape the leakage probe's reading.
 * Controls and `step()` work with or without `start()`, which adds the INF line and the timer.
 */
export function createXrayParcelScannerSimulator(
  wire: SimulatorWire,
  scenario: DoseScenario,
  opts: XrayMachineOptions = {},
): XraySimulator {
  const machine = createXrayMachine(opts);
  const random = seededRandom(scenario.seed);
  let seq = 0;
  let tick = 0;
  let timer: unknown;
  const clock = scenario.clock ?? systemClock;

  function send(type: 'STA' | 'EVT' | 'INF', fields: string[]): void {
    wire.write(Buffer.from(xrsLine(type, seq, fields), 'latin1'));
    seq = (seq + 1) % 65536;
  }

  function leakage(): number {
    const s = machine.state;
    const leak = s.beamOn ? (s.faults.has('leakage') ? FAULT_LEAK_USVH : NORMAL_LEAK_USVH) : 0;
    // ±5 % probe noise, so a trace looks like a meter and not a constant.
    return Math.max(0, (doseRateAt(scenario, tick) + leak) * (0.95 + 0.1 * random()));
  }

  function fields(): string[] {
    return statusFields(machine.state, machine.faultWord(), leakage(), random);
  }

  /** Every cause becomes one EVT line carrying the settled state (README "EVT"). */
  function announce(causes: XrayCause[]): void {
    for (const cause of causes) send('EVT', [cause, ...fields()]);
  }

  function step(): void {
    tick += 1;
    announce(machine.tick());
    send('STA', fields());
  }

  return {
    start() {
      if (timer) return;
      wire.onData(() => {}); // output only: the scanner never reads
      const s = machine.state;
      send('INF', [`radscreen xrs-sim 1.0 doors=${s.doorsOpen.length} panels=${s.panelsOpen.length}`]);
      timer = clock.setInterval(step, scenario.tick_ms);
    },
    stop() {
      if (timer) clock.clearInterval(timer);
      timer = undefined;
    },
    turnKey: (on) => announce(machine.turnKey(on)),
    openDoor: (n) => announce(machine.openDoor(n)),
    closeDoor: (n) => announce(machine.closeDoor(n)),
    openPanel: (n) => announce(machine.openPanel(n)),
    closePanel: (n) => announce(machine.closePanel(n)),
    pressEstop: () => announce(machine.pressEstop()),
    releaseEstop: () => announce(machine.releaseEstop()),
    reset() {
      const causes = machine.reset();
      announce(causes);
      return causes.includes('reset');
    },
    startBelt: () => announce(machine.startBelt()),
    stopBelt: () => announce(machine.stopBelt()),
    setTube: (kv, ma) => announce(machine.setTube(kv, ma)),
    injectFault: (kind) => announce(machine.injectFault(kind)),
    clearFault: (kind) => announce(machine.clearFault(kind)),
    step,
    snapshot: () => machine.state,
  };
}
