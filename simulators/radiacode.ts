import { z } from 'zod';
import { systemClock } from '../src/core/clock.ts';
import type { ControlApi, DeviceSimulator, DoseScenario, SimulatorWire } from '../src/core/simulator.ts';
import { doseRateAt, seededRandom } from './physics.ts';
import {
  BACKGROUND_CPS_PER_USVH,
  CHANNELS,
  drawSecond,
  RC102_CALIBRATION,
  SOURCE_CPS_PER_USVH,
  SOURCE_NUCLIDES,
  type SourceNuclide,
} from './radiacode-physics.ts';

/**
 * A RadiaCode-102 (firmware 4.x, SpecFormatVersion 1) from its protocol notes
 * (devices/radiacode/README.md): length-prefixed requests, replies echoing the 4-byte header,
 * RD_VIRT_STRING for the serial number, configuration, energy calibration, DATA_BUF and the
 * spectrum. One `tick_ms` is one device second: counts are drawn per channel
 * (radiacode-physics.ts), a RealTimeData record is logged every tick and a RareData record every
 * 10. Events of the scenario are dose rates of the current source nuclide (Cs-137 unless a
 * scenario calls `setSource`). Unknown commands get no reply, like the GQ and Rad Pro simulators.
 */

const SERIAL = 'RC-102-000115';
const CONFIGURATION = 'DeviceParams\nDeviceModel=RadiaCode-102\nSpecFormatVersion=1\nCHN_ChargeLevel=1\n';
const CMD = { SET_EXCHANGE: 0x0007, GET_STATUS: 0x0005, GET_VERSION: 0x000a, RD_VIRT_STRING: 0x0826, WR_VIRT_STRING: 0x0827 } as const;
const VS_ID = { CONFIGURATION: 2, SERIAL_NUMBER: 8, DATA_BUF: 0x100, SPECTRUM: 0x200, ENERGY_CALIB: 0x202, SPEC_ACCUM: 0x205 } as const;
/** Requests are short; anything claiming more is noise, and the receive buffer is cleared. */
const MAX_REQUEST_BODY = 1024;
/** Records DATA_BUF keeps between reads (oldest dropped). */
const MAX_RECORDS = 600;
/** 1 µSv/h in the device's dose unit (µSv/h = 10 000 × value). */
const USVH_TO_DEVICE = 1e-4;

export const radiacodeControlApi = {
  /** The nuclide the scenario's events are made of. */
  setSource: z.tuple([z.enum(SOURCE_NUCLIDES)]),
  /** Clears the accumulated spectrum, as the device's menu (or WR_VIRT_STRING SPECTRUM) does. */
  resetSpectrum: z.tuple([]),
  /**
   * A source held at the detector (a parcel on the belt beside it) until `removeSource`: this
   * nuclide adding this dose rate, µSv/h, on top of the scenario's events (which keep their nuclide).
   */
  placeSource: z.tuple([z.enum(SOURCE_NUCLIDES), z.number().positive().max(10_000)]),
  removeSource: z.tuple([]),
} satisfies ControlApi;

/** Format 1 (README.md §4): groups of up to 4095 values sharing one width code. */
export function compressCounts(counts: ArrayLike<number>): Buffer {
  const parts: Buffer[] = [];
  let last = 0;
  let i = 0;
  const codeOf = (v: number, prev: number): number => {
    const d = v - prev;
    if (v === 0) return 0;
    if (d >= -128 && d <= 127) return 2;
    if (v <= 255) return 1;
    if (d >= -32768 && d <= 32767) return 3;
    if (d >= -8388608 && d <= 8388607) return 4;
    return 5;
  };
  while (i < counts.length) {
    const code = codeOf(counts[i] as number, last);
    const values: Buffer[] = [];
    let n = 0;
    while (i < counts.length && n < 4095 && codeOf(counts[i] as number, last) === code) {
      const v = counts[i] as number;
      const d = v - last;
      const b = Buffer.alloc([0, 1, 1, 2, 3, 4][code] as number);
      if (code === 1) b.writeUInt8(v);
      else if (code === 2) b.writeInt8(d);
      else if (code === 3) b.writeInt16LE(d);
      else if (code === 4) b.writeIntLE(d, 0, 3);
      else if (code === 5) b.writeInt32LE(d);
      values.push(b);
      last = v;
      i++;
      n++;
    }
    const header = Buffer.alloc(2);
    header.writeUInt16LE((n << 4) | code);
    parts.push(header, ...values);
  }
  return Buffer.concat(parts);
}

export function createRadiacodeSimulator(wire: SimulatorWire, scenario: DoseScenario) {
  const clock = scenario.clock ?? systemClock;
  const random = seededRandom(scenario.seed);
  let source: SourceNuclide = 'Cs-137';
  let placed: { nuclide: SourceNuclide; usvh: number } | undefined;
  let rx = Buffer.alloc(0);
  let timer: unknown;
  let seconds = 0;
  let recordSeq = 0;
  let records: Buffer[] = [];
  let spectrum = new Float64Array(CHANNELS);
  let spectrumSeconds = 0;
  let dose = 0;

  function record(gid: number, body: Buffer): void {
    const head = Buffer.alloc(7);
    head.writeUInt8(recordSeq, 0);
    head.writeUInt8(0, 1);
    head.writeUInt8(gid, 2);
    head.writeInt32LE(seconds * 100, 3); // 10 ms units
    recordSeq = (recordSeq + 1) % 256;
    records.push(Buffer.concat([head, body]));
    if (records.length > MAX_RECORDS) records = records.slice(-MAX_RECORDS);
  }

  function tick(): void {
    seconds += 1;
    spectrumSeconds += 1;
    const total = doseRateAt(scenario, seconds);
    const sourceUsvh = Math.max(0, total - scenario.background_usvh);
    const bgCps = scenario.background_usvh * BACKGROUND_CPS_PER_USVH;
    const srcCps = sourceUsvh * SOURCE_CPS_PER_USVH;
    let counts = drawSecond(bgCps, source, srcCps, random);
    if (placed) {
      // Drawn separately so the placed nuclide keeps its own lines beside the scenario's.
      const extra = drawSecond(0, placed.nuclide, placed.usvh * SOURCE_CPS_PER_USVH, random);
      counts = counts.map((c, i) => c + (extra[i] as number));
    }
    let n = 0;
    for (let i = 0; i < CHANNELS; i++) {
      n += counts[i] as number;
      spectrum[i] = (spectrum[i] as number) + (counts[i] as number);
    }
    // The dose rate the device shows follows its counts: true rate × observed / expected counts.
    const placedCps = placed ? placed.usvh * SOURCE_CPS_PER_USVH : 0;
    const expected = bgCps + srcCps + placedCps;
    const usvh = expected > 0 ? ((total + (placed?.usvh ?? 0)) * n) / expected : 0;
    dose += usvh / 3600;
    const rt = Buffer.alloc(15);
    rt.writeFloatLE(n, 0);
    rt.writeFloatLE(usvh * USVH_TO_DEVICE, 4);
    rt.writeUInt16LE(Math.min(1000, Math.round(1000 / Math.sqrt(Math.max(n, 1)))), 8); // ×0.1 %
    rt.writeUInt16LE(Math.min(1000, Math.round(1000 / Math.sqrt(Math.max(n, 1)))), 10);
    record(0, rt);
    if (seconds % 10 === 0) {
      const rare = Buffer.alloc(14);
      rare.writeUInt32LE(seconds, 0);
      rare.writeFloatLE(dose * USVH_TO_DEVICE, 4);
      rare.writeUInt16LE(2000 + 2150, 8); // 21.5 °C
      rare.writeUInt16LE(Math.max(0, 9000 - Math.floor(seconds / 36)), 10); // 90 %, −1 % an hour
      record(3, rare);
    }
  }

  function spectrumBytes(): Buffer {
    const head = Buffer.alloc(16);
    head.writeUInt32LE(spectrumSeconds, 0);
    for (const [k, c] of RC102_CALIBRATION.entries()) head.writeFloatLE(c, 4 + 4 * k);
    return Buffer.concat([head, compressCounts(spectrum)]);
  }

  function virtualString(id: number): Buffer | undefined {
    if (id === VS_ID.SERIAL_NUMBER) return Buffer.from(SERIAL, 'latin1');
    if (id === VS_ID.CONFIGURATION) return Buffer.from(CONFIGURATION, 'latin1');
    if (id === VS_ID.ENERGY_CALIB) {
      const b = Buffer.alloc(12);
      for (const [k, c] of RC102_CALIBRATION.entries()) b.writeFloatLE(c, 4 * k);
      return b;
    }
    if (id === VS_ID.DATA_BUF) {
      const out = Buffer.concat(records);
      records = [];
      return out;
    }
    if (id === VS_ID.SPECTRUM || id === VS_ID.SPEC_ACCUM) return spectrumBytes();
    return undefined;
  }

  /** GET_VERSION part: u16 minor, u16 major, u8 length + ASCII date (values of this simulated unit). */
  function version(major: number, minor: number, date: string): Buffer {
    const b = Buffer.alloc(5);
    b.writeUInt16LE(minor, 0);
    b.writeUInt16LE(major, 2);
    b.writeUInt8(date.length, 4);
    return Buffer.concat([b, Buffer.from(date, 'latin1')]);
  }

  function u32s(...xs: number[]): Buffer {
    const b = Buffer.alloc(4 * xs.length);
    for (const [k, x] of xs.entries()) b.writeUInt32LE(x >>> 0, 4 * k);
    return b;
  }

  /** Reply payload for one request, or undefined for no reply. */
  function answer(command: number, args: Buffer): Buffer | undefined {
    if (command === CMD.SET_EXCHANGE) return Buffer.alloc(0);
    if (command === CMD.GET_STATUS) return u32s(0);
    if (command === CMD.GET_VERSION) return Buffer.concat([version(4, 1, 'Feb  8 2022'), version(4, 12, 'Jul 22 2024\0')]);
    if (command === CMD.RD_VIRT_STRING && args.length >= 4) {
      const data = virtualString(args.readUInt32LE(0));
      return data ? Buffer.concat([u32s(1, data.length), data]) : u32s(0, 0);
    }
    if (command === CMD.WR_VIRT_STRING && args.length >= 8 && args.readUInt32LE(0) === VS_ID.SPECTRUM && args.readUInt32LE(4) === 0) {
      resetSpectrum();
      return u32s(1);
    }
    return undefined;
  }

  function onRequest(body: Buffer): void {
    const header = body.subarray(0, 4);
    const payload = answer(header.readUInt16LE(0), body.subarray(4));
    if (!payload) return;
    const len = Buffer.alloc(4);
    len.writeUInt32LE(4 + payload.length);
    wire.write(Buffer.concat([len, header, payload]));
  }

  function resetSpectrum(): void {
    spectrum = new Float64Array(CHANNELS);
    spectrumSeconds = 0;
  }

  wire.onData((chunk) => {
    rx = Buffer.concat([rx, chunk]);
    while (rx.length >= 4) {
      const len = rx.readUInt32LE(0);
      if (len < 4 || len > MAX_REQUEST_BODY) {
        rx = Buffer.alloc(0);
        return;
      }
      if (rx.length < 4 + len) return;
      const body = rx.subarray(4, 4 + len);
      rx = rx.subarray(4 + len);
      onRequest(body);
    }
  });

  const sim: DeviceSimulator & {
    setSource(n: SourceNuclide): void;
    resetSpectrum(): void;
    placeSource(n: SourceNuclide, usvh: number): void;
    removeSource(): void;
  } = {
    start() {
      if (timer === undefined) timer = clock.setInterval(tick, scenario.tick_ms);
    },
    stop() {
      if (timer !== undefined) clock.clearInterval(timer);
      timer = undefined;
    },
    setSource(n) {
      source = n;
    },
    resetSpectrum,
    placeSource(nuclide, usvh) {
      placed = { nuclide, usvh };
    },
    removeSource() {
      placed = undefined;
    },
  };
  return sim;
}
