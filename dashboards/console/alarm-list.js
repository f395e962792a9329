// The alarm list: open alarms by priority then time, unacknowledged ones blinking, the first-out
// marked, each with its action buttons. Everything from the network goes in with textContent.
import { formatDateTime, formatDoseRate, resolutionFor } from './format.js';

const RANK = { emergency: 3, high: 2, medium: 1, low: 0 };
const RULE_NAMES = { dose_rate_high: 'High dose rate', device_fault: 'Device fault' };

/** Sources that are not the live station: shown in their own list, never mixed with live alarms. */
export function isTraining(a) {
  return a.source === 'training' || a.source === 'replay';
}

/**
 * Roles that may act on an alarm (mirrors src/server/auth/roles.ts: `alarm.operate` for live
 * alarms, `training.act` for a training run's). The server decides anyway; this only keeps
 * buttons that would be refused off the screen.
 */
export function mayAct(a, role) {
  if (!role) return false;
  return isTraining(a) ? role === 'operator' || role === 'technician' : role === 'operator';
}

/** 0: condition active; 1: cleared but still with the operator (unacknowledged or latched); 2: closed. */
function group(a) {
  if (a.state === 'active') return 0;
  return a.closed_at === undefined ? 1 : 2;
}

/** Active first, then cleared-but-open, then closed; within the first two by priority then newest raised. */
export function sortAlarms(alarms) {
  return [...alarms].sort((a, b) => {
    const g = group(a) - group(b);
    if (g !== 0) return g;
    if (group(a) === 2) return (b.cleared_at ?? 0) - (a.cleared_at ?? 0);
    return (RANK[b.severity] ?? 0) - (RANK[a.severity] ?? 0) || b.raised_at - a.raised_at;
  });
}

/** The earliest-raised open alarm when more than one is open: where a cascade started. */
export function firstOutId(alarms) {
  const open = alarms.filter((a) => a.closed_at === undefined);
  if (open.length < 2) return undefined;
  return open.reduce((first, a) => (a.raised_at < first.raised_at ? a : first)).id;
}

/**
 * Boolean conditions carry value 1 when abnormal (src/alarms/zone-rule.ts); these words say what
 * "abnormal" means for each channel, so the operator never reads a bare "yes".
 */
const ABNORMAL = {
  interlocks_closed: 'interlocks open',
  beam_on: 'beam on',
  belt_running: 'belt stopped',
  status: 'device not reading',
};
const abnormalWords = (channel) => ABNORMAL[channel] ?? `${String(channel).replaceAll('_', ' ')} abnormal`;

/** The facts line under the value: threshold and peak, or for a condition what trips it and the worst seen. */
export function describeFacts(ev, peak, device) {
  if (ev.unit === 'bool') return `trips on: ${abnormalWords(ev.channel)} · worst seen: ${peak ? abnormalWords(ev.channel) : 'normal'}`;
  return `threshold ${formatValue({ ...ev, value: ev.threshold }, device)} · peak ${formatValue({ ...ev, value: peak }, device)}`;
}

/** An evidence value in operator units, rounded to the step `device`'s profile declares for the channel. */
export function formatValue(ev, device) {
  if (ev.unit === 'uSv/h') return `${formatDoseRate(ev.value, resolutionFor(device, ev.channel))} µSv/h`;
  if (ev.unit === 'bool') return ev.value ? abnormalWords(ev.channel) : 'normal';
  if (ev.unit === 'cpm' || ev.unit === 'cps' || ev.unit === 'counts')
    return `${Math.round(ev.value)} ${ev.unit === 'counts' ? 'counts' : ev.unit.toUpperCase()}`;
  // Canonical unit codes are ASCII (uSv/h); operators read µSv/h.
  return `${Number(ev.value.toPrecision(4))} ${String(ev.unit)
    .replace(/^uSv/, 'µSv')
    .replace(/\/min$/, ' per min')}`;
}

function div(cls, text, testid) {
  const el = document.createElement('div');
  el.className = cls;
  if (text !== undefined) el.textContent = text;
  if (testid) el.setAttribute('data-testid', testid);
  return el;
}

function badge(text, cls, testid) {
  const el = document.createElement('span');
  el.className = `abadge ${cls}`;
  el.textContent = text;
  if (testid) el.setAttribute('data-testid', testid);
  return el;
}

function button(label, testid, onClick) {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = label;
  b.setAttribute('data-testid', testid);
  b.addEventListener('click', onClick);
  return b;
}

/** What the alarm is waiting for, in operator words. */
function statusLine(a, now) {
  const bits = [];
  if (a.acknowledged) bits.push(`acknowledged by ${a.acknowledged.user}${a.acknowledged.comment ? `: “${a.acknowledged.comment}”` : ''}`);
  if (a.shelved && a.shelved.until > now) bits.push(`shelved by ${a.shelved.user} until ${formatDateTime(a.shelved.until)}`);
  if (a.silenced_until && a.silenced_until > now) bits.push(`silenced until ${formatDateTime(a.silenced_until)}`);
  if (a.out_of_service) bits.push(`out of service (${a.out_of_service.user})`);
  if (a.suppressed) bits.push(`suppressed: ${a.suppressed.reason}`);
  if (a.needs_reset && a.state === 'cleared') bits.push('latched: needs reset');
  if (a.disposition) bits.push(`disposition: ${a.disposition.value}`);
  return bits.join(' · ');
}

function renderItem(a, devicesById, firstOut, on, now, view) {
  const li = document.createElement('li');
  const unack = !a.acknowledged && a.closed_at === undefined;
  li.className = `alarm alarm-${a.state} sev-${a.severity}${unack ? ' unack' : ''}`;
  li.setAttribute('data-testid', 'alarm-item');
  Object.assign(li.dataset, { state: a.state, isa: a.isa_state, severity: a.severity, device: a.device, id: a.id, source: a.source });
  const head = div('alarm-head');
  head.append(
    div('alarm-device', devicesById.get(a.device)?.name ?? a.device),
    div('alarm-state', a.state === 'active' ? 'ACTIVE' : 'cleared'),
  );
  const badges = div('alarm-badges');
  badges.append(badge(a.severity, `sev sev-${a.severity}`, 'alarm-severity'));
  if (unack) badges.append(badge('UNACK', 'blink', 'unack-badge'));
  if (a.id === firstOut) badges.append(badge('FIRST OUT', 'first-out', 'first-out'));
  // While the live stream is down this is the last known state, not the present one.
  if (view.stale) badges.append(badge('STALE', 'stale', 'stale-badge'));
  const value = div('alarm-value', formatValue(a.evidence, a.device), 'alarm-value');
  const facts = div('alarm-facts', describeFacts(a.evidence, a.peak, a.device), 'alarm-facts');
  const times =
    a.state === 'active'
      ? `raised ${formatDateTime(a.raised_at)}`
      : `raised ${formatDateTime(a.raised_at)} · cleared ${formatDateTime(a.cleared_at)}`;
  li.append(head, badges, div('alarm-rule', RULE_NAMES[a.rule] ?? a.rule.replaceAll('_', ' ')), value, facts, div('alarm-time', times));
  // A device fault says why the device is not reading (the agent's reason and code).
  const why = a.evidence.params?.reason;
  if (typeof why === 'string') li.append(div('alarm-reason', `${why} (${a.evidence.params.code ?? 'unknown'})`, 'alarm-reason'));
  const status = statusLine(a, now);
  if (status) li.append(div('alarm-status', status, 'alarm-status'));
  const actions = div('alarm-actions');
  const open = a.closed_at === undefined;
  if (!mayAct(a, view.role)) {
    actions.append(button('Details', 'detail-button', () => on.detail(a)));
    li.append(actions);
    return li;
  }
  if (open && !a.acknowledged) actions.append(button('Acknowledge', 'ack-button', () => on.ack(a)));
  if (open && !a.acknowledged && a.severity !== 'emergency' && !(a.silenced_until > now))
    actions.append(button('Silence', 'silence-button', () => on.silence(a)));
  if (open && !(a.shelved && a.shelved.until > now)) actions.append(button('Shelve', 'shelve-button', () => on.shelve(a)));
  if (a.shelved && a.shelved.until > now) actions.append(button('Unshelve', 'unshelve-button', () => on.unshelve(a)));
  if (a.needs_reset && a.state === 'cleared') actions.append(button('Reset', 'reset-button', () => on.reset(a)));
  actions.append(button('Details', 'detail-button', () => on.detail(a)));
  li.append(actions);
  return li;
}

/**
 * Renders `alarms` into `list`; `on` holds the action handlers; `view` is `{ role, stale }`: the
 * logged-in role ('' when anonymous: no action buttons) and whether the live stream is down.
 * Returns how many were drawn.
 */
export function renderAlarms(list, alarms, devicesById, on, view = { role: '', stale: false }, limit = 50) {
  const now = Date.now();
  const firstOut = firstOutId(alarms);
  const items = sortAlarms(alarms)
    .slice(0, limit)
    .map((a) => renderItem(a, devicesById, firstOut, on, now, view));
  list.replaceChildren(...items);
  return items.length;
}
