import { systemClock } from '../src/core/clock.ts';
import type { DeviceSimulator, DoseScenario, SimulatorWire } from '../src/core/simulator.ts';
import { doseRateAt, poisson, seededRandom } from './physics.ts';

/**
 * MightyOhm kit firmware 1.00, from docs/protocols.md §4: banner, then once per tick
 * `CPS, c, CPM, m, uSv/hr, x.yy, MODE\r\n`, with the firmware's 60-slot ring (8-bit slots),
 * FAST/INST rules and truncating ×57/100 arithmetic. Input is ignored, as on the kit.
 */
const SBM20_CPM_PER_USVH = 175.4;

export function mightyohmLine(cps: number, cpm: number, mode: 'SLOW' | 'FAST' | 'INST'): string {
  const x = Math.floor((cpm * 57) / 100);
  const frac = String(x % 100).padStart(2, '0');
  return `CPS, ${cps}, CPM, ${cpm}, uSv/hr, ${Math.floor(x / 100)}.${frac}, ${mode}\r\n`;
}

/** Firmware averaging: SLOW sums the ring; FAST when the last 5 s × 12 > 1000; INST when this second > 255. */
export function firmwareCpm(ring: readonly number[], cps: number): { cpm: number; mode: 'SLOW' | 'FAST' | 'INST' } {
  if (cps > 255) return { cpm: cps * 60, mode: 'INST' };
  const last5 = ring.slice(-5).reduce((a, b) => a + b, 0);
  if (last5 * 12 > 1000) return { cpm: last5 * 12, mode: 'FAST' };
  return { cpm: ring.reduce((a, b) => a + b, 0), mode: 'SLOW' };
}

export function createMightyOhmSimulator(wire: SimulatorWire, scenario: DoseScenario): DeviceSimulator {
  const random = seededRandom(scenario.seed);
  const ring: number[] = [];
  let timer: unknown;
  const clock = scenario.clock ?? systemClock;
  let tick = 0;
  return {
    start() {
      if (timer) return;
      wire.onData(() => {}); // the firmware enables RX but ignores it
      wire.write(Buffer.from('mightyohm.com Geiger Counter 1.00\r\nhttp://mightyohm.com/geiger\r\n', 'latin1'));
      timer = clock.setInterval(() => {
        tick += 1;
        const meanCps = (doseRateAt(scenario, tick) * SBM20_CPM_PER_USVH) / 60;
        const cps = Math.min(65535, poisson(meanCps, random));
        ring.push(Math.min(255, cps));
        if (ring.length > 60) ring.shift();
        const { cpm, mode } = firmwareCpm(ring, cps);
        wire.write(Buffer.from(mightyohmLine(cps, cpm, mode), 'latin1'));
      }, scenario.tick_ms);
    },
    stop() {
      if (timer) clock.clearInterval(timer);
      timer = undefined;
    },
  };
}
