import type { DoseScenario } from '../src/core/simulator.ts';

/**
 * Small deterministic PRNG (mulberry32): scenarios must replay the same counts for a given
 * seed, which Math.random cannot promise.
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A Poisson-distributed count with mean `lambda`: Knuth for small means, normal approximation above 30. */
export function poisson(lambda: number, random: () => number): number {
  if (lambda <= 0) return 0;
  if (lambda > 30) {
    const u = 1 - random();
    const v = random();
    const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * z));
  }
  const limit = Math.exp(-lambda);
  let k = 0;
  let p = 1;
  do {
    k += 1;
    p *= random();
  } while (p > limit);
  return k - 1;
}

/**
 * Dose rate (µSv/h) the scenario sets at `t_s` seconds after start: background plus every
 * event in progress. A `pass` rises and falls as a parcel moves by (sine bump); a `step`
 * holds its peak for the whole duration.
 */
export function doseRateAt(scenario: DoseScenario, t_s: number): number {
  let rate = scenario.background_usvh;
  for (const e of scenario.events) {
    let local = t_s - e.at_s;
    if (local < 0) continue;
    if (e.every_s !== undefined) local %= e.every_s;
    if (local >= e.duration_s) continue;
    rate += e.shape === 'step' ? e.peak_usvh : e.peak_usvh * Math.sin((Math.PI * local) / e.duration_s);
  }
  return rate;
}
