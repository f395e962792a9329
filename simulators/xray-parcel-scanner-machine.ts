/**
 * The control logic of a conveyor X-ray parcel scanner, as 21 CFR 1020.40 requires it
 * (devices/xray-parcel-scanner/README.md, "What a compliant scanner does"): no X-rays with the
 * key off, an interlock open, the e-stop pressed, the lamp failed or the belt stopped; a trip
 * latches until a separate reset. Pure and clock-free: `tick()` is one device second.
 */

/** Faults a trainer can inject. `interlock_bypass` and `leakage` make the machine unsafe on purpose. */
export type XrayFaultKind = 'lamp' | 'interlock_bypass' | 'leakage';

/** What changed; the wire's EVT cause words. */
export type XrayCause = 'beam' | 'door' | 'panel' | 'key' | 'estop' | 'belt' | 'bag' | 'lamp' | 'fault' | 'setpoint' | 'reset';

/** Why the beam is latched off until a reset. */
export type TripLatch = 'none' | 'interlock' | 'estop';

export interface XrayMachineOptions {
  /** Doors, each with its interlock pair (1–4); default 2. */
  doors?: number;
  /** Access panels (0–4); default 1. */
  panels?: number;
  /** A bag reaches the light barrier every this many belt ticks; default 5. */
  bagEveryTicks?: number;
  /** And blocks it for this many ticks; default 2. */
  bagTicks?: number;
}

/** The machine's state; read-only to callers. kV, mA, m/s, s. */
export interface XrayMachineState {
  kvSet: number;
  maSet: number;
  keyOn: boolean;
  estopPressed: boolean;
  doorsOpen: boolean[];
  panelsOpen: boolean[];
  latch: TripLatch;
  beltRunning: boolean;
  beltSpeed: number;
  bagPresent: boolean;
  lampOk: boolean;
  beamOn: boolean;
  /** Cumulative beam-on seconds. */
  beamOnTime: number;
  faults: ReadonlySet<XrayFaultKind>;
}

const BELT_SPEED = 0.2;

/**
 * A scanner in its working state: key on, everything closed, belt running, bags passing.
 * Every action returns the causes it produced, in order, once the beam has followed.
 */
export function createXrayMachine(opts: XrayMachineOptions = {}) {
  const bagEvery = opts.bagEveryTicks ?? 5;
  const bagTicks = opts.bagTicks ?? 2;
  const faults = new Set<XrayFaultKind>();
  const s: XrayMachineState = {
    kvSet: 140,
    maSet: 0.7,
    keyOn: true,
    estopPressed: false,
    doorsOpen: Array.from({ length: opts.doors ?? 2 }, () => false),
    panelsOpen: Array.from({ length: opts.panels ?? 1 }, () => false),
    latch: 'none',
    beltRunning: true,
    beltSpeed: BELT_SPEED,
    bagPresent: false,
    lampOk: true,
    beamOn: false,
    beamOnTime: 0,
    faults,
  };
  let beltTicks = 0;

  const interlocksClosed = () => !s.doorsOpen.includes(true) && !s.panelsOpen.includes(true);

  /** The permissive chain. A bypass defeats the interlocks and their latch, nothing else. */
  function beamPermitted(): boolean {
    const bypass = faults.has('interlock_bypass');
    return s.keyOn && !s.estopPressed && s.lampOk && s.beltRunning && (bypass || (interlocksClosed() && s.latch === 'none'));
  }

  /** Most severe active fault, as the wire's fault word. */
  function faultWord(): string {
    if (!s.lampOk) return 'lamp';
    if (s.estopPressed || s.latch === 'estop') return 'estop';
    if (s.latch === 'interlock') return 'interlock';
    return 'none';
  }

  /** Runs a change, lets the beam follow, and reports what changed. */
  function act(change: () => XrayCause[]): XrayCause[] {
    const beamBefore = s.beamOn;
    const faultBefore = faultWord();
    const causes = change();
    s.beamOn = beamPermitted() && s.bagPresent;
    if (s.beamOn !== beamBefore) causes.push('beam');
    if (causes.length === 0 && faultWord() !== faultBefore) causes.push('fault');
    return causes;
  }

  /** A simple change: nothing when already so, else apply it and report one cause. */
  function toggle(cause: XrayCause, already: boolean, apply: () => void): XrayCause[] {
    return act(() => {
      if (already) return [];
      apply();
      return [cause];
    });
  }

  function setInterlock(list: boolean[], n: number, open: boolean, cause: 'door' | 'panel'): XrayCause[] {
    return act(() => {
      if (!Number.isInteger(n) || n < 1 || n > list.length) throw new RangeError(`${cause} ${n} does not exist (1–${list.length})`);
      if (list[n - 1] === open) return [];
      list[n - 1] = open;
      if (open && s.latch === 'none') s.latch = 'interlock';
      return [cause];
    });
  }

  return {
    state: s as Readonly<XrayMachineState>,
    beamPermitted,
    faultWord,
    interlocksClosed,
    /** Key switch; turning it off stops X-rays but does not latch (the key is itself a control). */
    turnKey: (on: boolean) =>
      toggle('key', s.keyOn === on, () => {
        s.keyOn = on;
      }),
    openDoor: (n: number) => setInterlock(s.doorsOpen, n, true, 'door'),
    closeDoor: (n: number) => setInterlock(s.doorsOpen, n, false, 'door'),
    openPanel: (n: number) => setInterlock(s.panelsOpen, n, true, 'panel'),
    closePanel: (n: number) => setInterlock(s.panelsOpen, n, false, 'panel'),
    pressEstop: () =>
      act(() => {
        if (s.estopPressed) return [];
        s.estopPressed = true;
        s.latch = 'estop';
        return ['estop'];
      }),
    releaseEstop: () =>
      toggle('estop', !s.estopPressed, () => {
        s.estopPressed = false;
      }),
    /**
     * The separate control that re-arms X-rays after a trip. Refused (no causes) while any
     * interlock is open, the e-stop is still pressed or the key is off.
     */
    reset: () =>
      act(() => {
        if (s.latch === 'none' || !interlocksClosed() || s.estopPressed || !s.keyOn) return [];
        s.latch = 'none';
        return ['reset'];
      }),
    startBelt: () =>
      toggle('belt', s.beltRunning, () => {
        s.beltRunning = true;
        s.beltSpeed = BELT_SPEED;
      }),
    /** Stopping the belt stops X-rays (many units do: no image without motion); a bag in the barrier stays. */
    stopBelt: () =>
      act(() => {
        if (!s.beltRunning) return [];
        s.beltRunning = false;
        s.beltSpeed = 0;
        return ['belt'];
      }),
    /** New setpoints, kV and mA. */
    setTube: (kv: number, ma: number) =>
      act(() => {
        if (s.kvSet === kv && s.maSet === ma) return [];
        s.kvSet = kv;
        s.maSet = ma;
        return ['setpoint'];
      }),
    injectFault: (kind: XrayFaultKind) =>
      act(() => {
        if (faults.has(kind)) return [];
        faults.add(kind);
        if (kind !== 'lamp') return [];
        s.lampOk = false;
        return ['lamp'];
      }),
    clearFault: (kind: XrayFaultKind) =>
      act(() => {
        if (!faults.delete(kind) || kind !== 'lamp') return [];
        s.lampOk = true;
        return ['lamp'];
      }),
    /** One device second: the belt moves bags past the light barrier and beam time accrues. */
    tick: () =>
      act(() => {
        if (s.beamOn) s.beamOnTime += 1;
        if (!s.beltRunning) return [];
        beltTicks += 1;
        const phase = beltTicks % bagEvery;
        const bag = phase >= 1 && phase <= bagTicks;
        if (bag === s.bagPresent) return [];
        s.bagPresent = bag;
        return ['bag'];
      }),
  };
}

export type XrayMachine = ReturnType<typeof createXrayMachine>;
