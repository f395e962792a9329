/**
 * Poisson tails for counting alarms. Counts in a window are Poisson with mean λ (background rate ×
 * window); the alarm threshold is the smallest count whose upper tail is at most the per-test
 * false-alarm probability. Exact sums (no Gaussian approximation): at 20 CPM a 1-s window has
 * λ ≈ 0.33 and the Gaussian tail would be wrong by orders of magnitude.
 */

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61503916999186, 12.507343278686905,
  -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (Lanczos, g = 7; ~15 significant digits). */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let a = LANCZOS[0] as number;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += (LANCZOS[i] as number) / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** P(X ≥ k) for X ~ Poisson(λ); k an integer ≥ 0, λ ≥ 0. */
export function poissonUpperTail(k: number, lambda: number): number {
  if (k <= 0) return 1;
  if (lambda <= 0) return 0;
  const top = Math.ceil(Math.max(k, lambda) + 12 * Math.sqrt(lambda) + 40);
  let pmf = Math.exp(top * Math.log(lambda) - lambda - logGamma(top + 1));
  let tail = 0;
  for (let j = top; j >= k; j--) {
    tail += pmf;
    pmf *= j / lambda;
  }
  return Math.min(1, tail);
}

const cache = new Map<string, number>();

/**
 * The smallest integer T with P(X ≥ T | λ) ≤ p: alarm when counts ≥ T. Memoised on λ rounded
 * *up* to 4 significant digits (so the cached threshold is never lower than the exact one).
 */
export function poissonThreshold(lambda: number, p: number): number {
  if (!(lambda > 0)) return 1;
  const lam = Number.parseFloat(lambda.toPrecision(4));
  const l = lam < lambda ? lam + 10 ** (Math.floor(Math.log10(lambda)) - 3) : lam;
  const key = `${l}|${p}`;
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  // Walk up the CDF until the remaining tail is ≤ p; the tail is computed exactly at the candidate.
  let k = Math.max(1, Math.floor(l));
  while (poissonUpperTail(k, l) > p) k++;
  while (k > 1 && poissonUpperTail(k - 1, l) <= p) k--;
  if (cache.size > 50_000) cache.clear();
  cache.set(key, k);
  return k;
}
