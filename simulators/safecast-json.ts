import type { DeviceSimulator, DoseScenario, SimulatorWire } from '../src/core/simulator.ts';
import { doseRateAt, poisson, seededRandom } from './physics.ts';

/**
 * A fixed Safecast-style device (nGeigie / Solarcast) publishing JSON telemetry, written from
 * devices/safecast-json/README.md, not from the decoder: one object per tick, one MQTT message
 * per `wire.write`. CPM is a Poisson count over one minute for the scenario's dose rate.
 */

/** LND 7317/7318 pancake, Cs-137 (the README's convention). */
const LND_7318_CPM_PER_USVH = 334;
/** The compensated tube counts fewer low-energy photons; a plausible ratio, not a datasheet value. */
const COMPENSATED_RATIO = 0.9;
/** LND 7128 energy-compensated tube, CPM per µSv/h (smaller, less sensitive tube). */
const LND_7128_CPM_PER_USVH = 108;

/** One telemetry object as the README's "Format" section describes it. `now` is ms since the epoch. */
export function safecastTelemetry(
  deviceNumber: number,
  now: number,
  cpm: { u: number; c: number; ec: number },
  env: { lat: number; lon: number; batteryV: number; tempC: number },
): Record<string, unknown> {
  return {
    device_urn: `safecast:${deviceNumber}`,
    device: deviceNumber,
    when_captured: new Date(now).toISOString(),
    lnd_7318u: cpm.u,
    lnd_7318c: cpm.c,
    lnd_7128ec: cpm.ec,
    loc_lat: env.lat,
    loc_lon: env.lon,
    bat_voltage: env.batteryV,
    env_temp: env.tempC,
    // Provenance as a TTServe relay adds it; the decoder ignores these.
    service_transport: 'radscreen-sim:mqtt',
    service_uploaded: new Date(now).toISOString(),
  };
}

/** Publishes one telemetry object per `scenario.tick_ms`; the device number is 1000000 + seed. */
export function createSafecastJsonSimulator(wire: SimulatorWire, scenario: DoseScenario): DeviceSimulator {
  const random = seededRandom(scenario.seed);
  const deviceNumber = 1_000_000 + Math.abs(scenario.seed);
  let timer: NodeJS.Timeout | undefined;
  let tick = 0;
  let batteryV = 4.15;
  return {
    start() {
      if (timer) return;
      wire.onData(() => {}); // Safecast devices take no commands over this path
      timer = setInterval(() => {
        tick += 1;
        const usvh = doseRateAt(scenario, tick);
        batteryV = Math.max(3.3, batteryV - 0.0001);
        const telemetry = safecastTelemetry(
          deviceNumber,
          Date.now(),
          {
            u: poisson(usvh * LND_7318_CPM_PER_USVH, random),
            c: poisson(usvh * LND_7318_CPM_PER_USVH * COMPENSATED_RATIO, random),
            ec: poisson(usvh * LND_7128_CPM_PER_USVH, random),
          },
          { lat: 35.6581, lon: 139.7017, batteryV: Number(batteryV.toFixed(3)), tempC: Number((21 + (random() - 0.5)).toFixed(1)) },
        );
        wire.write(Buffer.from(JSON.stringify(telemetry), 'utf8'));
      }, scenario.tick_ms);
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}
