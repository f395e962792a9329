// A trainee's own training run (docs/training.md "Trainee runs"): the run a trainer assigned to
// the logged-in operator or technician, or one they started alone. Its alarms live in the run's
// own engine, never in the live list; the trainee works them here (evidence, acknowledge,
// disposition, reset) and every action is recorded and scored by the server. Items are built
// once per alarm and updated in place, so a half-filled disposition survives the 1-s refresh.

import { formatValue } from './alarm-list.js';
import { act } from './api.js';

const $ = (id) => document.querySelector(`[data-testid="${id}"]`);
const POLL_MS = 1000;
let timer;
let me;
let runId;
const items = new Map();

function el(tag, attrs = {}, text = '') {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text) node.textContent = text;
  return node;
}

const runPath = (suffix) => `/api/training/runs/${encodeURIComponent(runId)}${suffix}`;

/** One alarm action on the run; refusals are shown by act(). */
async function alarmAction(a, action, body, done) {
  await act(runPath(`/alarms/${encodeURIComponent(a.id)}/${action}`), body, done);
  refresh();
}

function buildItem(a) {
  const li = el('li', { class: 'trainee-alarm', 'data-testid': 'trainee-alarm', 'data-id': a.id });
  const head = el('div', { class: 'trainee-alarm-head', 'data-testid': 'trainee-alarm-head' });
  const status = el('div', { class: 'trainee-alarm-status', 'data-testid': 'trainee-alarm-status' });
  const evidence = el('div', { class: 'trainee-evidence', 'data-testid': 'trainee-evidence-text', hidden: '' });
  const buttons = el('div', { class: 'trainee-actions' });
  const button = (label, testid, onClick) => {
    const b = el('button', { type: 'button', 'data-testid': testid }, label);
    b.addEventListener('click', onClick);
    buttons.append(b);
    return b;
  };
  button('Evidence', 'trainee-evidence', async () => {
    const cur = li.alarm;
    evidence.textContent = `${formatValue(cur.evidence, cur.device)} (threshold ${formatValue({ ...cur.evidence, value: cur.evidence.threshold }, cur.device)}, peak ${formatValue({ ...cur.evidence, value: cur.peak }, cur.device)})`;
    evidence.hidden = false;
    await alarmAction(cur, 'view_evidence', {}, 'Evidence opened.');
  });
  const ack = button('Acknowledge', 'trainee-ack', () => alarmAction(li.alarm, 'acknowledge', {}, 'Training alarm acknowledged.'));
  const reset = button('Reset', 'trainee-reset', () => alarmAction(li.alarm, 'reset', {}, 'Training alarm reset.'));
  // The technician path (e.g. a drifting detector): take the alarm's device out of service, or back.
  const oos = button('Out of service', 'trainee-out-of-service', async () => {
    const on = !li.alarm.out_of_service;
    await act(
      runPath(`/devices/${encodeURIComponent(li.alarm.device)}/out-of-service`),
      { on },
      on ? 'Device out of service.' : 'Device back in service.',
    );
    refresh();
  });
  const form = el('form', { class: 'trainee-disposition', 'data-testid': 'trainee-disposition' });
  const value = el('select', { 'data-testid': 'trainee-disposition-value', 'aria-label': 'Disposition' });
  for (const [v, label] of [
    ['true', 'true alarm'],
    ['innocent', 'innocent (medical, NORM)'],
    ['false', 'false alarm'],
  ])
    value.append(el('option', { value: v }, label));
  const nuclide = el('input', {
    'data-testid': 'trainee-nuclide',
    maxlength: '32',
    placeholder: 'nuclide, e.g. Cs-137',
    'aria-label': 'Nuclide',
  });
  form.append(value, nuclide, el('button', { type: 'submit', 'data-testid': 'trainee-set-disposition' }, 'Set disposition'));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const body = { value: value.value, ...(nuclide.value.trim() ? { nuclide: nuclide.value.trim() } : {}) };
    alarmAction(li.alarm, 'disposition', body, `Disposition set: ${body.value}.`);
  });
  li.append(head, status, evidence, buttons, form);
  li.parts = { head, status, ack, reset, oos };
  return li;
}

function updateItem(li, a) {
  li.alarm = a;
  Object.assign(li.dataset, { rule: a.rule, severity: a.severity, state: a.state, acknowledged: String(Boolean(a.acknowledged)) });
  li.className = `trainee-alarm sev-${a.severity}`;
  const open = a.closed_at === undefined;
  li.parts.head.textContent = `${a.severity.toUpperCase()} · ${a.rule.replaceAll('_', ' ')} · ${a.device} · ${a.state === 'active' ? 'ACTIVE' : 'cleared'}`;
  const bits = [];
  if (a.acknowledged) bits.push(`acknowledged by ${a.acknowledged.user}`);
  if (a.disposition) bits.push(`disposition: ${a.disposition.value}${a.disposition.nuclide ? ` (${a.disposition.nuclide})` : ''}`);
  if (a.needs_reset && a.state === 'cleared') bits.push('latched: needs reset');
  if (a.out_of_service) bits.push('device out of service');
  if (!open) bits.push('closed');
  li.parts.status.textContent = bits.join(' · ');
  li.parts.ack.hidden = !open || Boolean(a.acknowledged);
  li.parts.reset.hidden = !(a.needs_reset && a.state === 'cleared');
  li.parts.oos.textContent = a.out_of_service ? 'Back in service' : 'Out of service';
}

function renderAlarms(alarms) {
  const list = $('my-training-alarms');
  const seen = new Set();
  for (const a of alarms) {
    let li = items.get(a.id);
    if (!li) {
      li = buildItem(a);
      items.set(a.id, li);
    }
    updateItem(li, a);
    seen.add(a.id);
  }
  for (const [id, li] of items)
    if (!seen.has(id)) {
      li.remove();
      items.delete(id);
    }
  list.replaceChildren(...alarms.map((a) => items.get(a.id)));
  $('my-training-none').hidden = alarms.length > 0;
}

/** The scenario's checklist (things done off the console, e.g. a phone call), ticked once each. */
function renderChecklist(items) {
  $('my-training-checklist').replaceChildren(
    ...items.map((c) => {
      const b = el(
        'button',
        { type: 'button', 'data-testid': 'trainee-checklist-item', 'data-item': c.id, 'data-done': String(c.done) },
        `${c.done ? '✓ ' : ''}${c.label}`,
      );
      b.disabled = c.done;
      b.addEventListener('click', async () => {
        b.disabled = true;
        await act(runPath(`/checklist/${encodeURIComponent(c.id)}`), {}, `Done: ${c.label}`);
        refresh();
      });
      const li = el('li');
      li.append(b);
      return li;
    }),
  );
}

async function refresh() {
  if (!me) return;
  try {
    const r = await fetch(`/api/training/trainees/${encodeURIComponent(me.name)}/runs`);
    if (!r.ok) return;
    const latest = (await r.json()).runs[0];
    const box = $('my-training');
    box.hidden = !latest;
    if (!latest) return;
    if (latest.run !== runId) {
      items.clear();
      $('my-training-alarms').replaceChildren();
    }
    runId = latest.run;
    Object.assign(box.dataset, { run: latest.run, state: latest.state });
    $('my-training-title').textContent =
      `${latest.title} (${latest.mode === 'self_paced' ? 'self-paced' : `assigned by ${latest.started_by}`})`;
    $('my-training-state').textContent = latest.state === 'running' ? 'running' : `${latest.state} · score ${latest.score_percent} %`;
    $('my-training-end').hidden = latest.state !== 'running';
    $('my-training-report').setAttribute('href', runPath('/report.html'));
    const view = latest.state === 'running' ? await (await fetch(runPath('/alarms'))).json() : { alarms: [], checklist: [] };
    renderAlarms(view.alarms);
    renderChecklist(view.checklist ?? []);
  } catch {
    // The stream state already tells the user the server is unreachable.
  }
}

/** Self-paced training: the scenarios a run on its own engine can play, each with a Start button. */
async function renderSelfPaced() {
  const list = $('self-paced-scenarios');
  try {
    const { scenarios } = await (await fetch('/api/training/scenarios')).json();
    list.replaceChildren(
      ...scenarios
        .filter((sc) => sc.trainee)
        .map((sc) => {
          const li = el('li', { 'data-testid': 'self-paced-scenario', 'data-name': sc.name });
          const b = el('button', { type: 'button', 'data-testid': 'self-paced-start' }, 'Start alone');
          b.addEventListener('click', async () => {
            const speed = Number($('self-paced-speed').value) || 1;
            await act(`/api/training/scenarios/${encodeURIComponent(sc.name)}/self`, { speed }, `Training started: ${sc.title}`);
            refresh();
          });
          li.append(el('span', {}, `${sc.title} `), b);
          return li;
        }),
    );
  } catch {
    // The stream state already tells the user the server is unreachable.
  }
}

/** Shows the trainee's own run to operators and technicians; call on every login change. */
export function showTrainee(user) {
  me = user && user.role !== 'trainer' ? user : undefined;
  clearInterval(timer);
  runId = undefined;
  items.clear();
  $('my-training').hidden = true;
  // Who may start a run alone: the roles with training.act (the server checks it).
  const mayPractise = me && (me.role === 'operator' || me.role === 'technician');
  $('self-paced').hidden = !mayPractise;
  if (!me) return;
  if (mayPractise) renderSelfPaced();
  refresh();
  timer = setInterval(refresh, POLL_MS);
}

$('my-training-end').addEventListener('click', async () => {
  if (runId) await act(runPath('/end'), {}, 'Training run ended; your report is ready.');
  refresh();
});
