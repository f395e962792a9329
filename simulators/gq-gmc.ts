import type { DeviceSimulator, DoseScenario, SimulatorFactory, SimulatorWire } from '../src/core/simulator.ts';
import { buildConfigBlock, GQ_SIM_MODELS, type GqSimModel, HistoryFlash, wallClock } from './gq-gmc-device.ts';
import { doseRateAt, poisson, seededRandom } from './physics.ts';

/**
 * GQ GMC Geiger counter, from docs/protocols.md §1.9: reads `<NAME[params]>>` commands and answers
 * byte-exact for the chosen model (default GMC-320), with no terminator; unknown commands get no
 * reply. Names match by prefix like the firmware (`<GETCPMXYZ>>` is GETCPM), longest name first.
 * One scenario tick is one device second: Poisson counts, a 60 s CPM ring, heartbeat samples.
 */

export interface GqGmcSimulatorOptions {
  /** Which unit to be; default GMC-320. */
  model?: GqSimModel;
  /** Zone the device clock is set to; default UTC. */
  timeZone?: string;
  /** Device clock minus real time at power-on (ms), to test clock-offset reporting. */
  clockSkewMs?: number;
}

/** Commands with raw binary parameters: how many bytes follow the name (they may contain `>`). */
const PARAMS: Record<string, number | ((wide: boolean) => number)> = {
  SETDATETIME: 6,
  SETDATEYY: 1,
  SETDATEMM: 1,
  SETDATEDD: 1,
  SETTIMEHH: 1,
  SETTIMEMM: 1,
  SETTIMESS: 1,
  SPIR: 5,
  WCFG: (wide) => (wide ? 3 : 2),
};

const AA = Buffer.from([0xaa]);

/** A factory for one model; `simulators/index.ts` registers the GMC-320 default. */
export function createGqGmcSimulatorFor(options: GqGmcSimulatorOptions = {}): SimulatorFactory {
  return (wire, scenario) => createSimulator(wire, scenario, options);
}

/** The registered simulator: a GMC-320 with its clock in UTC. */
export const createGqGmcSimulator: SimulatorFactory = createGqGmcSimulatorFor();

function createSimulator(wire: SimulatorWire, scenario: DoseScenario, options: GqGmcSimulatorOptions): DeviceSimulator {
  const spec = GQ_SIM_MODELS[options.model ?? 'GMC-320'];
  const timeZone = options.timeZone ?? 'UTC';
  const random = seededRandom(scenario.seed);
  let cfg = buildConfigBlock(spec);
  const flash = new HistoryFlash(spec.flashBytes);
  const ring: number[] = [];
  let lastCps = 0;
  let maxCps = 0;
  let tick = 0;
  let skewMs = options.clockSkewMs ?? 0;
  let heartbeat = false;
  let pending = Buffer.alloc(0);
  let timer: NodeJS.Timeout | undefined;

  const now = () => wallClock(Date.now() + skewMs, timeZone);
  const cpm = () => ring.reduce((a, b) => a + b, 0);
  const count = (v: number) => {
    if (spec.wide) {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(Math.min(v, 0xffffffff));
      return b;
    }
    const b = Buffer.alloc(2);
    b.writeUInt16BE(Math.min(v, 0xffff));
    return b;
  };
  // RFC1201 CPS has 14 data bits; the simulator sends the reserved bits as 0 (§1.4).
  const cps = (v: number) => count(spec.wide ? v : Math.min(v, 0x3fff));

  /** Sets the device clock so it now shows these wall-clock fields. */
  function setClock(fields: number[]): void {
    const asUtc = (f: number[]) => Date.UTC(2000 + (f[0] ?? 0), (f[1] ?? 1) - 1, f[2] ?? 1, f[3] ?? 0, f[4] ?? 0, f[5] ?? 0);
    skewMs += asUtc(fields) - asUtc(now());
  }

  /** The reply to one command, or undefined for none. */
  function answer(name: string, params: Buffer): Buffer | undefined {
    switch (name) {
      case 'GETVER':
        return Buffer.from(spec.version, 'latin1');
      case 'GETCPM':
        return count(cpm());
      case 'GETCPS':
        return cps(lastCps);
      case 'GETCPML':
      case 'GETCPMH':
      case 'GETCPSL':
      case 'GETCPSH':
      case 'GETMAXCPS': {
        if (!spec.wide) return undefined;
        // The second (high-dose) tube sees about 1/150 of the first one's counts.
        const values: Record<string, number> = {
          GETCPML: cpm(),
          GETCPMH: Math.floor(cpm() / 150),
          GETCPSL: lastCps,
          GETCPSH: Math.floor(lastCps / 150),
          GETMAXCPS: maxCps,
        };
        return count(values[name] ?? 0);
      }
      case 'HEARTBEAT1':
        heartbeat = true;
        return undefined;
      case 'HEARTBEAT0':
        heartbeat = false;
        return undefined;
      case 'GETVOLT':
        return spec.volt;
      case 'GETSERIAL':
        return spec.serial;
      case 'GETDATETIME':
        return Buffer.from([...now(), 0xaa]);
      case 'SETDATETIME':
        setClock([...params]);
        return AA;
      case 'SETDATEYY':
      case 'SETDATEMM':
      case 'SETDATEDD':
      case 'SETTIMEHH':
      case 'SETTIMEMM':
      case 'SETTIMESS': {
        const fields = now();
        fields[['SETDATEYY', 'SETDATEMM', 'SETDATEDD', 'SETTIMEHH', 'SETTIMEMM', 'SETTIMESS'].indexOf(name)] = params[0] ?? 0;
        setClock(fields);
        return AA;
      }
      case 'GETTEMP':
        return spec.temp ? Buffer.from([22, 50, 0, 0xaa]) : undefined;
      case 'GETGYRO':
        return spec.gyro ? Buffer.from([0xff, 0x04, 0x00, 0x10, 0x00, 0x4c, 0xaa]) : undefined;
      case 'GETCFG':
        return Buffer.from(cfg);
      case 'ECFG':
        cfg = Buffer.alloc(cfg.length, 0xff);
        return AA;
      case 'WCFG': {
        const address = spec.wide ? params.readUInt16BE(0) : (params[0] ?? 0);
        const data = params[params.length - 1] ?? 0xff;
        // Flash semantics: a write can only clear bits.
        if (address < cfg.length) cfg[address] = (cfg[address] ?? 0xff) & data;
        return AA;
      }
      case 'CFGUPDATE':
      case 'FACTORYRESET':
        return AA;
      case 'SPIR': {
        const address = params.readUIntBE(0, 3);
        const length = params.readUInt16BE(3);
        const out = Buffer.alloc(length, 0xff);
        flash.bytes.copy(out, 0, Math.min(address, flash.bytes.length), Math.min(address + length, flash.bytes.length));
        return out;
      }
      case 'GetSPISA': {
        const b = Buffer.alloc(4);
        b.writeUIntBE(flash.address, 0, 3);
        b[3] = 0xaa;
        return b;
      }
      default:
        return undefined; // KEY0-3, POWEROFF/ON, REBOOT and unknown commands: silence
    }
  }

  /** Known names, longest first, so prefix matching picks GETCPML over GETCPM. */
  const NAMES = [
    ...[
      'GETVER',
      'GETCPM',
      'GETCPS',
      'GETCPML',
      'GETCPMH',
      'GETCPSL',
      'GETCPSH',
      'GETMAXCPS',
      'HEARTBEAT1',
      'HEARTBEAT0',
      'GETVOLT',
      'GETSERIAL',
      'GETDATETIME',
      'GETTEMP',
      'GETGYRO',
      'GETCFG',
      'ECFG',
      'CFGUPDATE',
      'FACTORYRESET',
      'GetSPISA',
      'KEY0',
      'KEY1',
      'KEY2',
      'KEY3',
      'POWEROFF',
      'POWERON',
      'REBOOT',
    ],
    ...Object.keys(PARAMS),
  ].sort((a, b) => b.length - a.length);

  /** Consumes complete commands from `pending`; keeps a partial one for the next chunk. */
  function parse(): void {
    for (;;) {
      const lt = pending.indexOf(0x3c);
      if (lt === -1) {
        pending = Buffer.alloc(0);
        return;
      }
      pending = pending.subarray(lt);
      const text = pending.toString('latin1', 1);
      const withParams = Object.keys(PARAMS).find((n) => text.startsWith(n));
      let name: string | undefined;
      let params = Buffer.alloc(0);
      let end: number;
      if (withParams) {
        const p = PARAMS[withParams];
        const n = typeof p === 'function' ? p(spec.wide) : (p ?? 0);
        end = 1 + withParams.length + n + 2;
        if (pending.length < end) return;
        params = pending.subarray(1 + withParams.length, 1 + withParams.length + n);
        if (pending.toString('latin1', end - 2, end) === '>>') name = withParams;
      } else {
        const close = pending.indexOf('>>', 1, 'latin1');
        if (close === -1) {
          if (pending.length > 64) pending = pending.subarray(1); // garbage, not a command
          return;
        }
        end = close + 2;
        const body = pending.toString('latin1', 1, close);
        name = NAMES.find((n) => body.startsWith(n) && !(n in PARAMS));
      }
      pending = pending.subarray(end);
      const reply = name ? answer(name, Buffer.from(params)) : undefined;
      if (reply && reply.length > 0) wire.write(reply);
    }
  }

  return {
    start() {
      if (timer) return;
      wire.onData((chunk) => {
        pending = Buffer.concat([pending, chunk]);
        parse();
      });
      flash.tag(now());
      timer = setInterval(() => {
        tick += 1;
        const mean = (doseRateAt(scenario, tick) * spec.sensitivity) / 60;
        lastCps = poisson(mean, random);
        maxCps = Math.max(maxCps, lastCps);
        ring.push(lastCps);
        if (ring.length > 60) ring.shift();
        if (tick % 60 === 0) flash.sample(cpm(), now);
        if (heartbeat) wire.write(cps(lastCps));
      }, scenario.tick_ms);
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      heartbeat = false;
    },
  };
}
