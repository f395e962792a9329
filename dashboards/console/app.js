// Operator console: loads the station picture once, then follows /api/stream.
// EventSource reconnects by itself; every (re)connect starts with a `snapshot` event,
// so nothing that happened while disconnected is missed.
import { renderAlarms, renderTile, tickAges } from './render.js';

const devices = new Map();
const alarms = new Map();
const $ = (id) => document.querySelector(`[data-testid="${id}"]`);

function activeAlarmFor(deviceId) {
  for (const a of alarms.values()) if (a.state === 'active' && a.device === deviceId) return a;
  return undefined;
}

function renderDevice(d) {
  renderTile($('device-grid'), d, activeAlarmFor(d.id), Date.now());
  $('no-devices').hidden = devices.size > 0;
}

function renderAllDevices() {
  for (const d of devices.values()) renderDevice(d);
}

function renderAlarmPanel() {
  const n = renderAlarms($('alarm-list'), [...alarms.values()], devices);
  $('no-alarms').hidden = n > 0;
  const active = [...alarms.values()].filter((a) => a.state === 'active').length;
  const summary = $('alarm-summary');
  summary.textContent = active === 0 ? 'No active alarms' : `${active} active alarm${active > 1 ? 's' : ''}`;
  summary.className = `pill ${active ? 'pill-alarm' : 'pill-ok'}`;
  document.title = active ? `(${active}) ALARM · radscreen` : 'radscreen · operator console';
}

function setStation(station) {
  $('station-name').textContent = station.name;
  $('station-id').textContent = station.id;
}

function applySnapshot(snap) {
  setStation(snap.station);
  for (const d of snap.devices) devices.set(d.id, d);
  alarms.clear();
  for (const a of snap.alarms) alarms.set(a.id, a);
  renderAllDevices();
  renderAlarmPanel();
}

function onReading(r) {
  const d = devices.get(r.device) ?? { id: r.device, name: r.device, profile: r.profile, status: 'online' };
  d.last_reading = r;
  d.last_reading_at = Date.now();
  devices.set(r.device, d);
  renderDevice(d);
}

function onAlarm(t) {
  alarms.set(t.alarm.id, t.alarm);
  renderAlarmPanel();
  const d = devices.get(t.alarm.device);
  if (d) renderDevice(d);
}

async function refreshHealth() {
  try {
    const h = await (await fetch('/healthz')).json();
    setStation(h.station);
    $('storage-banner').hidden = h.storage.enabled;
    $('storage-detail').textContent = h.storage.detail ? `(${h.storage.detail})` : '';
  } catch {
    // The stream state already tells the operator the server is unreachable.
  }
}

async function loadInitial() {
  const [devs, al] = await Promise.all([fetch('/api/devices').then((r) => r.json()), fetch('/api/alarms').then((r) => r.json())]);
  applySnapshot({ station: devs.station, devices: devs.devices, alarms: al.alarms });
}

function setStreamState(state, text) {
  const el = $('stream-state');
  el.dataset.state = state;
  el.textContent = text;
}

function follow() {
  const es = new EventSource('/api/stream');
  const parse = (fn) => (ev) => fn(JSON.parse(ev.data));
  es.addEventListener('open', () => setStreamState('live', 'live'));
  es.addEventListener('error', () => setStreamState('down', 'reconnecting…'));
  es.addEventListener('snapshot', parse(applySnapshot));
  es.addEventListener('reading', parse(onReading));
  es.addEventListener(
    'status',
    parse((d) => {
      devices.set(d.id, d);
      renderDevice(d);
    }),
  );
  es.addEventListener('alarm', parse(onAlarm));
}

function tickClock() {
  $('clock').textContent = new Date().toLocaleTimeString('en-GB', { hour12: false });
  tickAges($('device-grid'), devices.values(), Date.now());
}

tickClock();
// Twice a second so the clock never lags the "last update" times by a whole second.
setInterval(tickClock, 500);
// Storage can go down while the console is open: re-check every 30 s.
setInterval(refreshHealth, 30_000);
refreshHealth();
loadInitial()
  .catch(() => setStreamState('down', 'server unreachable'))
  .finally(follow);
