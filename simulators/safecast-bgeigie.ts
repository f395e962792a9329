import type { DeviceSimulator, DoseScenario, SimulatorWire } from '../src/core/simulator.ts';
import { doseRateAt, poisson, seededRandom } from './physics.ts';

/**
 * bGeigie Nano (firmware 1.4.x), from docs/protocols.md §3.6: on start the log header lines (LF
 * endings, as OpenLog writes them; the Nano's serial TX feeds both USB and OpenLog), then
 * every 5 simulated seconds one `$BNRDD` sentence with the modern field order (13 =
 * satellites, 14 = HDOP×100), an XOR checksum in upper-case hex, and CRLF. `tick_ms` is one
 * simulated second, so a sentence goes out every 5 × tick_ms. Input is ignored.
 */

/** Safecast's LND 7317 conversion (CPM per µSv/h), used to turn the scenario dose into counts. */
const LND7317_CPM_PER_USVH = 334;
const BIN_SECONDS = 5;
const RING_BINS = 12;

/** Where the simulated unit sits: a fixed survey point (Tokyo), NMEA degrees and minutes. */
export interface NanoPosition {
  latDeg: number;
  latMin: number;
  ns: 'N' | 'S';
  lonDeg: number;
  lonMin: number;
  ew: 'E' | 'W';
  altitudeM: number;
}

export const DEFAULT_POSITION: NanoPosition = {
  latDeg: 35,
  latMin: 38.5284,
  ns: 'N',
  lonDeg: 139,
  lonMin: 43.1506,
  ew: 'E',
  altitudeM: 41.2,
};

export interface NanoSample {
  deviceId: number;
  /** ms since the epoch; printed to the second. */
  time: number;
  cpm: number;
  counts5s: number;
  total: number;
  radiationValid: boolean;
  position: NanoPosition;
  satellites: number;
  hdop: number;
}

/** NMEA checksum: XOR of the bytes between `$` and `*`, two upper-case hex digits. */
export function nmeaChecksum(body: string): string {
  let cs = 0;
  for (const ch of Buffer.from(body, 'latin1')) cs ^= ch;
  return cs.toString(16).toUpperCase().padStart(2, '0');
}

/** `ddmm.mmmm` with the Nano's `%0Nld.%04ld` formatting: minutes truncated to 4 decimals. */
function formatNmea(degrees: number, minutes: number, intDigits: number): string {
  const tenThousandths = Math.floor(minutes * 10_000 + 1e-6);
  const whole = degrees * 100 + Math.floor(tenThousandths / 10_000);
  return `${String(whole).padStart(intDigits, '0')}.${String(tenThousandths % 10_000).padStart(4, '0')}`;
}

/** One sentence with its `\r\n`, exactly as the Nano prints it. */
export function formatNanoSentence(s: NanoSample): string {
  const p = s.position;
  const body = [
    'BNRDD',
    String(s.deviceId).padStart(4, '0'),
    `${new Date(Math.floor(s.time / 1000) * 1000).toISOString().slice(0, 19)}Z`,
    s.cpm,
    s.counts5s,
    s.total,
    s.radiationValid ? 'A' : 'V',
    formatNmea(p.latDeg, p.latMin, 4),
    p.ns,
    formatNmea(p.lonDeg, p.lonMin, 5),
    p.ew,
    p.altitudeM.toFixed(2),
    'A',
    s.satellites,
    Math.round(s.hdop * 100),
  ].join(',');
  return `$${body}*${nmeaChecksum(body)}\r\n`;
}

export function createSafecastBgeigieSimulator(wire: SimulatorWire, scenario: DoseScenario): DeviceSimulator {
  const random = seededRandom(scenario.seed);
  const ring: number[] = [];
  let timer: NodeJS.Timeout | undefined;
  let emissions = 0;
  let total = 0;
  let startTime = 0;
  return {
    start() {
      if (timer) return;
      wire.onData(() => {}); // the Nano never reads its serial port
      startTime = Math.floor(Date.now() / 1000) * 1000;
      wire.write(Buffer.from('# NEW LOG\n# format=1.4.5nano\n# deadtime=off\n', 'latin1'));
      timer = setInterval(() => {
        emissions += 1;
        const simSeconds = emissions * BIN_SECONDS;
        const mean = (doseRateAt(scenario, simSeconds) * LND7317_CPM_PER_USVH * BIN_SECONDS) / 60;
        const counts = poisson(mean, random);
        ring.push(counts);
        if (ring.length > RING_BINS) ring.shift();
        total += counts;
        const cpm = ring.reduce((a, b) => a + b, 0);
        const line = formatNanoSentence({
          deviceId: 2108,
          time: startTime + simSeconds * 1000,
          cpm,
          counts5s: counts,
          total,
          radiationValid: emissions > RING_BINS && cpm > 0,
          position: DEFAULT_POSITION,
          satellites: 8 + Math.floor(random() * 3),
          hdop: 0.9 + Math.floor(random() * 40) / 100,
        });
        wire.write(Buffer.from(line, 'latin1'));
      }, BIN_SECONDS * scenario.tick_ms);
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}
