import type { DeviceSimulator, DoseScenario, SimulatorWire } from '../src/core/simulator.ts';
import { doseRateAt, poisson, seededRandom } from './physics.ts';

/**
 * A generic networked detector for the `mqtt-json` profile, written from
 * devices/mqtt-json/README.md ("The simulated detector"): nested JSON in its own units (nSv/h,
 * CPS, mV, °F, epoch seconds), so the README's example mapping, and its unit conversions, are
 * exercised end to end. One message per tick.
 */

/** The detector's tube, CPM per µSv/h; it only sets how many counts a dose rate gives. */
const CPM_PER_USVH = 334;

/** One message as the README shows it. `now` in ms since the epoch; `nsvh` in nSv/h. */
export function genericDetectorMessage(
  now: number,
  rad: { nsvh: number; cps: number; total: number },
  batteryMv: number,
  tempF: number,
): Record<string, unknown> {
  return {
    t: now / 1000,
    radiation: { rate: { value: rad.nsvh, unit: 'nSv/h' }, cps: rad.cps, total: rad.total },
    power: { battery_mv: batteryMv },
    temp_f: tempF,
  };
}

export function createMqttJsonSimulator(wire: SimulatorWire, scenario: DoseScenario): DeviceSimulator {
  const random = seededRandom(scenario.seed);
  let timer: NodeJS.Timeout | undefined;
  let tick = 0;
  let total = 0;
  return {
    start() {
      if (timer) return;
      wire.onData(() => {}); // read-only device
      timer = setInterval(() => {
        tick += 1;
        const usvh = doseRateAt(scenario, tick);
        const cps = poisson((usvh * CPM_PER_USVH) / 60, random);
        total += cps;
        // The detector's own rate estimate: the scenario's dose rate with ±2 % meter noise, whole nSv/h.
        const nsvh = Math.round(usvh * 1000 * (0.98 + 0.04 * random()));
        const tempF = Number((69.8 + (random() - 0.5)).toFixed(1));
        const message = genericDetectorMessage(Date.now(), { nsvh, cps, total }, 3950 - Math.min(tick, 500), tempF);
        wire.write(Buffer.from(JSON.stringify(message), 'utf8'));
      }, scenario.tick_ms);
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}
