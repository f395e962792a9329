// DOM rendering. Everything from the network is written with textContent, never innerHTML.
import { describeQuality, formatAgo, formatCount, formatDoseRate, formatTime } from './format.js';

const tpl = () => document.getElementById('device-tile');

function q(root, id) {
  return root.querySelector(`[data-testid="${id}"]`);
}

/** Creates or updates the tile of one device inside `grid`. */
export function renderTile(grid, device, activeAlarm, now) {
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
  q(tile, 'device-alarm').hidden = !activeAlarm;
  q(tile, 'dose-rate').textContent = formatDoseRate(reading?.values?.dose_rate);
  q(tile, 'cpm').textContent = formatCount(reading?.values?.cpm);
  const last = q(tile, 'last-update');
  last.dataset.at = device.last_reading_at ?? '';
  last.textContent = reading ? `${formatTime(reading.ts)} (${formatAgo(device.last_reading_at, now)})` : 'never';
  const quality = q(tile, 'quality');
  const words = describeQuality(reading?.quality);
  quality.hidden = !words;
  quality.textContent = words;
  quality.dataset.quality = reading?.quality ?? '';
  return tile;
}

/** Refreshes the "n s ago" part of every tile without waiting for data. */
export function tickAges(grid, devices, now) {
  for (const d of devices) {
    const tile = grid.querySelector(`[data-device="${CSS.escape(d.id)}"]`);
    if (!tile || !d.last_reading) continue;
    q(tile, 'last-update').textContent = `${formatTime(d.last_reading.ts)} (${formatAgo(d.last_reading_at, now)})`;
  }
}

function line(cls, text) {
  const el = document.createElement('div');
  el.className = cls;
  el.textContent = text;
  return el;
}

/** Active alarms first (newest first, red), then cleared ones (newest first, greyed). */
export function sortAlarms(alarms) {
  const active = alarms.filter((a) => a.state === 'active').sort((a, b) => b.raised_at - a.raised_at);
  const rest = alarms.filter((a) => a.state !== 'active').sort((a, b) => (b.cleared_at ?? 0) - (a.cleared_at ?? 0));
  return [...active, ...rest];
}

export function renderAlarms(list, alarms, devicesById, limit = 50) {
  const items = sortAlarms(alarms)
    .slice(0, limit)
    .map((a) => {
      const li = document.createElement('li');
      li.className = `alarm alarm-${a.state}`;
      li.setAttribute('data-testid', 'alarm-item');
      li.dataset.state = a.state;
      li.dataset.device = a.device;
      const name = devicesById.get(a.device)?.name ?? a.device;
      const head = document.createElement('div');
      head.className = 'alarm-head';
      head.append(line('alarm-device', name), line('alarm-state', a.state === 'active' ? 'ACTIVE' : 'cleared'));
      const rule = line('alarm-rule', a.rule === 'dose_rate_high' ? 'High dose rate' : a.rule.replaceAll('_', ' '));
      const ev = a.evidence;
      const value = line('alarm-value', `${formatDoseRate(ev.value)} µSv/h`);
      value.setAttribute('data-testid', 'alarm-value');
      const facts = line('alarm-facts', `threshold ${formatDoseRate(ev.threshold)} µSv/h · peak ${formatDoseRate(a.peak)}`);
      const times =
        a.state === 'active'
          ? `raised ${formatTime(a.raised_at)}`
          : `raised ${formatTime(a.raised_at)} · cleared ${formatTime(a.cleared_at)}`;
      li.append(head, rule, value, facts, line('alarm-time', times));
      return li;
    });
  list.replaceChildren(...items);
  return items.length;
}
