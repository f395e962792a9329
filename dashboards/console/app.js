// Operator console: loads the station picture once, then follows /api/stream.
// EventSource reconnects by itself; every (re)connect starts with a `snapshot` event,
// so nothing that happened while disconnected is missed. Reading needs no login; every
// action does (the server checks the role and audits it).
import { isTraining, renderAlarms } from './alarm-list.js';
import { setUpLogin } from './api.js';
import { setUpCalibration } from './calibration.js';
import { openAck, openDetail, openShelve, reset, setUpDisposition, silence, unshelve } from './dialogs.js';
import { formatDateTime } from './format.js';
import { setUpParcels } from './parcels.js';
import { removeTile, renderTile, tickAges } from './render.js';
import { beep, setSound } from './sound.js';
import { showTrainee } from './trainee.js';
import { showTraining } from './training.js';

const TREND_POINTS = 60;
const devices = new Map();
const alarms = new Map();
/** Recent dose rates per device for the tile sparklines (not persisted: a reload starts afresh). */
const trends = new Map();
/** The logged-in user's role ('' when anonymous) and whether the live stream is down. */
const view = { role: '', stale: false, downSince: 0 };
const $ = (id) => document.querySelector(`[data-testid="${id}"]`);

const handlers = {
  ack: (a) => openAck(a, devices),
  shelve: (a) => openShelve(a, devices),
  silence,
  unshelve,
  reset,
  detail: (a) => openDetail(a, devices),
};

function activeAlarmFor(deviceId) {
  for (const a of alarms.values()) if (a.state === 'active' && a.device === deviceId && !isTraining(a)) return a;
  return undefined;
}

function renderDevice(d) {
  renderTile($('device-grid'), d, activeAlarmFor(d.id), Date.now(), trends.get(d.id) ?? []);
  $('no-devices').hidden = devices.size > 0;
}

function renderAllDevices() {
  for (const d of devices.values()) renderDevice(d);
}

function renderAlarmPanel() {
  const all = [...alarms.values()];
  const live = all.filter((a) => !isTraining(a));
  const training = all.filter(isTraining);
  const n = renderAlarms($('alarm-list'), live, devices, handlers, view);
  $('no-alarms').hidden = n > 0;
  $('training-section').hidden = renderAlarms($('training-list'), training, devices, handlers, view) === 0;
  renderActHint(n > 0);
  const active = live.filter((a) => a.state === 'active').length;
  const summary = $('alarm-summary');
  const count = active === 0 ? 'No active alarms' : `${active} active alarm${active > 1 ? 's' : ''}`;
  summary.textContent = view.stale ? `${count} (stale)` : count;
  summary.className = `pill ${view.stale ? 'pill-stale' : active ? 'pill-alarm' : 'pill-ok'}`;
  summary.dataset.stale = String(view.stale);
  document.title = active ? `(${active}) ALARM · radscreen` : 'radscreen · operator console';
  const detail = $('alarm-detail');
  if (detail.open && alarms.has(detail.dataset.id)) openDetail(alarms.get(detail.dataset.id), devices);
}

/** Instead of buttons the server would refuse: say who may act. */
function renderActHint(any) {
  const hint = $('act-hint');
  hint.hidden = !any || view.role === 'operator';
  hint.textContent = view.role
    ? `Logged in as ${view.role}: only an operator acts on live alarms.`
    : 'Log in to act on alarms (acknowledge, silence, shelve).';
}

function setStation(station) {
  $('station-name').textContent = station.name;
  $('station-id').textContent = station.id;
}

function pushTrend(r) {
  const v = r.values?.dose_rate;
  if (typeof v !== 'number' || r.source === 'training' || r.source === 'replay') return;
  const t = trends.get(r.device) ?? [];
  t.push(v);
  if (t.length > TREND_POINTS) t.shift();
  trends.set(r.device, t);
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
  // A training reading must not move the live tile.
  if (r.source === 'training' || r.source === 'replay') return;
  const d = devices.get(r.device) ?? { id: r.device, name: r.device, profile: r.profile, status: 'online' };
  d.last_reading = r;
  d.last_reading_at = Date.now();
  devices.set(r.device, d);
  pushTrend(r);
  renderDevice(d);
}

function onAlarm(t) {
  alarms.set(t.alarm.id, t.alarm);
  renderAlarmPanel();
  const d = devices.get(t.alarm.device);
  if (d) renderDevice(d);
  if (t.annunciate && !isTraining(t.alarm)) beep();
}

async function refreshHealth() {
  try {
    // 503 is the degraded answer, not a failure: its body says why.
    const h = await (await fetch('/healthz')).json();
    setStation(h.station);
    $('storage-banner').hidden = h.storage.enabled;
    $('storage-detail').textContent = h.storage.detail ? `(${h.storage.detail})` : '';
    // Storage has its own banner; every other reason (spool, outbox, no device online) goes here.
    const others = (h.reasons ?? []).filter((r) => r.code !== 'storage_off').map((r) => r.message);
    $('health-banner').hidden = others.length === 0;
    $('health-reasons').textContent = others.join(' · ');
    const k = await (await fetch('/api/alarms/kpis?window_h=1')).json();
    $('flood-banner').hidden = !k.flood?.active;
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
  const down = state === 'down';
  if (down && !view.stale) view.downSince = Date.now();
  document.body.dataset.stream = state;
  $('stream-banner').hidden = !down;
  $('stream-banner-since').textContent = down ? `since ${formatDateTime(view.downSince)}` : '';
  if (down !== view.stale) {
    view.stale = down;
    renderAlarmPanel();
  }
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
  es.addEventListener(
    'device_removed',
    parse(({ id }) => {
      devices.delete(id);
      trends.delete(id);
      removeTile(id);
    }),
  );
}

/** While a live alarm is unacknowledged and not silenced or shelved, the cue repeats every 10 s. */
function repeatCue() {
  const now = Date.now();
  const waiting = [...alarms.values()].some(
    (a) => !isTraining(a) && (a.isa_state === 'unacknowledged' || a.isa_state === 'rtn_unacknowledged') && !(a.silenced_until > now),
  );
  if (waiting) beep();
}

function tickClock() {
  $('clock').textContent = new Date().toLocaleTimeString('en-GB', { hour12: false });
  tickAges($('device-grid'), devices.values(), Date.now());
}

// The Training desk sits below the station view; trainers jump to it from the header.
$('training-link').addEventListener('click', () => $('training-panel').scrollIntoView({ block: 'start' }));
$('sound-toggle').addEventListener('change', (ev) => setSound(ev.target.checked));
setUpLogin((user) => {
  view.role = user?.role ?? '';
  $('training-link').hidden = view.role !== 'trainer';
  renderAlarmPanel();
  showTraining(user);
  showTrainee(user);
});
setUpDisposition((id) => alarms.get(id));
setUpCalibration((id) => devices.get(id));
setUpParcels();
tickClock();
// Twice a second so the clock never lags the "last update" times by a whole second.
setInterval(tickClock, 500);
setInterval(repeatCue, 10_000);
// Storage can go down while the console is open: re-check every 30 s.
setInterval(refreshHealth, 30_000);
refreshHealth();
loadInitial()
  .catch(() => setStreamState('down', 'server unreachable'))
  .finally(follow);
