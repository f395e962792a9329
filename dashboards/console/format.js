// Pure formatting helpers for the console (no DOM), kept apart so they are easy to reason about.

/** Dose rate with 3 significant digits below 100 µSv/h and whole numbers above (no exponents). */
export function formatDoseRate(v) {
  if (typeof v !== 'number' || !Number.isFinite(v)) return '—';
  if (v === 0) return '0.00';
  if (Math.abs(v) < 100) return v.toPrecision(3);
  return Math.round(v).toString();
}

export function formatCount(v) {
  if (typeof v !== 'number' || !Number.isFinite(v)) return '—';
  return Math.round(v).toLocaleString('en-GB');
}

/** 24-hour local wall-clock time: what an operator writes in a log book. */
export function formatTime(ms) {
  if (typeof ms !== 'number') return '—';
  return new Date(ms).toLocaleTimeString('en-GB', { hour12: false });
}

export function formatAgo(ms, now) {
  if (typeof ms !== 'number') return 'never';
  const s = Math.max(0, Math.round((now - ms) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  return `${Math.floor(s / 3600)} h ago`;
}

/** Operator wording for a reading's quality; `suspect` is what a Geiger kit reports while warming up. */
export function describeQuality(q) {
  if (q === 'suspect') return 'Warming up / suspect reading';
  if (q === 'invalid') return 'Invalid reading — not used for alarms';
  if (q === 'stale') return 'Stale value';
  return '';
}
