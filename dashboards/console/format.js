// Pure formatting helpers for the console (no DOM), kept apart so they are easy to reason about.

/**
 * Fallback display step per canonical unit, for a channel whose profile declares no
 * `resolution` (the catalogue test requires one on every µSv/h channel): counts are whole numbers.
 */
export const UNIT_RESOLUTION = { 'uSv/h': 0.01, cpm: 1, cps: 1 };

/** Device id → { channel key → step }, from each device view's `resolution` (its profile's channels). */
const deviceResolutions = new Map();

/** Remembers the display steps a device view carries; called whenever a view arrives. */
export function rememberResolutions(device) {
  if (device?.id && device.resolution) deviceResolutions.set(device.id, device.resolution);
}

/** The step to round `channel` of `deviceId` to: the profile's declaration, else the unit's rule. */
export function resolutionFor(deviceId, channel, unit = 'uSv/h') {
  return deviceResolutions.get(deviceId)?.[channel] ?? UNIT_RESOLUTION[unit] ?? UNIT_RESOLUTION['uSv/h'];
}

/** Decimal places that a resolution step (e.g. 0.01) shows. */
export function decimalsFor(resolution) {
  return resolution >= 1 ? 0 : Math.min(6, Math.round(-Math.log10(resolution)));
}

/**
 * Dose rate in µSv/h rounded to the channel's resolution (default 0.01 µSv/h: 0.05 shows as
 * "0.05", never "0.0500"); from 1000 µSv/h on, whole numbers (no exponents).
 */
export function formatDoseRate(v, resolution = UNIT_RESOLUTION['uSv/h']) {
  if (typeof v !== 'number' || !Number.isFinite(v)) return '—';
  if (Math.abs(v) >= 1000) return Math.round(v).toString();
  return v.toFixed(decimalsFor(resolution));
}

export function formatCount(v) {
  if (typeof v !== 'number' || !Number.isFinite(v)) return '—';
  return Math.round(v).toLocaleString('en-GB');
}

const pad = (n) => String(n).padStart(2, '0');

/**
 * Local date and 24-hour time, "2026-12-02 14:03:07": a log-book entry needs the day as well
 * (a shift crosses midnight; alarms stay in the list for days).
 */
export function formatDateTime(ms) {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return '—';
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** 24-hour local wall-clock time only (the header clock, chart axis ends). */
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
