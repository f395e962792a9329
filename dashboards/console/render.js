// DOM rendering. Everything from the network is written with textContent, never innerHTML.
import { drawSparkline } from './chart.js';
import { describeQuality, formatAgo, formatCount, formatDateTime, formatDoseRate, rememberResolutions, resolutionFor } from './format.js';

const tpl = () => document.getElementById('device-tile');

function q(root, id) {
  return root.querySelector(`[data-testid="${id}"]`);
}

/** Whether the configured calibration date (YYYY-MM-DD) has been reached. */
export function calibrationDue(device, now) {
  return Boolean(device.calibration_due) && Date.parse(`${device.calibration_due}T00:00:00`) <= now;
}

const NOT_READING = new Set(['error', 'offline', 'connecting']);
const textOf = (v) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);

/**
 * Why a device is not reading, from its agent's status detail (`reason`, else `error`/`message`,
 * with `code`); '' while it reads. A device its agent never reported says so.
 */
export function statusReason(device) {
  if (!NOT_READING.has(device.status)) return '';
  const d = device.status_detail ?? {};
  const reason =
    textOf(d.reason) ??
    textOf(d.error) ??
    textOf(d.message) ??
    (device.reported_status ? 'the agent gave no reason' : 'no status from its agent yet');
  const code = textOf(d.code);
  return code ? `${reason} (${code})` : reason;
}

/** Creates or updates the tile of one device inside `grid`; `trend` is its recent dose rates, oldest first. */
export function renderTile(grid, device, activeAlarm, now, trend = []) {
  let tile = grid.querySelector(`[data-device="${CSS.escape(device.id)}"]`);
  if (!tile) {
    tile = tpl().content.firstElementChild.cloneNode(true);
    tile.dataset.device = device.id;
    grid.append(tile);
  }
  const reading = device.last_reading;
  q(tile, 'device-name').textContent = device.name || device.id;
  q(tile, 'device-id').textContent = device.id;
  q(tile, 'device-profile').textContent = device.profile;
  const badge = q(tile, 'device-status');
  badge.textContent = device.status;
  badge.dataset.status = device.status;
  tile.dataset.status = device.status;
  tile.classList.toggle('in-alarm', Boolean(activeAlarm));
  // A trainer's scenario devices share the grid while a run lasts, marked so nobody mistakes them.
  const training = device.id.startsWith('training-') || reading?.source === 'training';
  tile.classList.toggle('tile-training', training);
  q(tile, 'training-badge').hidden = !training;
  q(tile, 'device-alarm').hidden = !activeAlarm;
  const cal = calibrationDue(device, now);
  q(tile, 'calibration-due').hidden = !cal;
  tile.dataset.calibration = cal ? 'due' : 'ok';
  q(tile, 'calibration-date').textContent = device.calibration_due ?? '—';
  drawSparkline(q(tile, 'sparkline'), trend);
  const values = reading?.values ?? {};
  // A scanner's number that matters to an operator is the leakage 5 cm from the tunnel; its
  // beam, interlocks and belt replace the count rate a Geiger counter shows.
  // The profile declares its tile (DeviceProfile.tile), so a new family needs no change here.
  const scanner = device.tile === 'scanner';
  rememberResolutions(device);
  const doseChannel = scanner ? 'leakage_dose_rate' : 'dose_rate';
  q(tile, 'dose-rate').textContent = formatDoseRate(values[doseChannel], resolutionFor(device.id, doseChannel));
  q(tile, 'dose-label').hidden = !scanner;
  q(tile, 'count-fact').hidden = scanner;
  q(tile, 'cpm').textContent = formatCount(values.cpm);
  for (const id of ['beam-fact', 'interlock-fact', 'belt-fact']) q(tile, id).hidden = !scanner;
  if (scanner) renderScannerFacts(tile, values);
  const last = q(tile, 'last-update');
  last.dataset.at = device.last_reading_at ?? '';
  last.textContent = reading ? `${formatDateTime(reading.ts)} (${formatAgo(device.last_reading_at, now)})` : 'never';
  const quality = q(tile, 'quality');
  const words = describeQuality(reading?.quality);
  quality.hidden = !words;
  quality.textContent = words;
  quality.dataset.quality = reading?.quality ?? '';
  const why = q(tile, 'status-reason');
  why.textContent = statusReason(device);
  why.hidden = why.textContent === '';
  return tile;
}

const onOff = (v) => (v === true ? 'ON' : v === false ? 'off' : '—');

function renderScannerFacts(tile, v) {
  const tube = typeof v.tube_voltage === 'number' ? ` ${Math.round(v.tube_voltage)} kV · ${Number(v.tube_current ?? 0).toFixed(2)} mA` : '';
  q(tile, 'beam').textContent = `${onOff(v.beam_on)}${v.beam_on ? tube : ''}`;
  const interlocks = q(tile, 'interlocks');
  interlocks.textContent = v.interlocks_closed === true ? 'closed' : v.interlocks_closed === false ? 'OPEN' : '—';
  interlocks.dataset.state = v.interlocks_closed === false ? 'open' : 'closed';
  q(tile, 'belt').textContent = v.belt_running ? `${Number(v.belt_speed ?? 0).toFixed(2)} m/s` : onOff(v.belt_running);
}

/** Takes a forgotten device's tile off the grid (a training run ended). */
export function removeTile(id) {
  // Tiles only: alarm items carry data-device too, and since the alarm list comes first in the
  // page an unscoped selector removed the device's alarm item and left its tile behind.
  document.querySelector(`[data-testid="device-tile"][data-device="${CSS.escape(id)}"]`)?.remove();
}

/** Refreshes the "n s ago" part of every tile without waiting for data. */
export function tickAges(grid, devices, now) {
  for (const d of devices) {
    const tile = grid.querySelector(`[data-device="${CSS.escape(d.id)}"]`);
    if (!tile || !d.last_reading) continue;
    q(tile, 'last-update').textContent = `${formatDateTime(d.last_reading.ts)} (${formatAgo(d.last_reading_at, now)})`;
  }
}
