// Acknowledge and shelve dialogs (both take a comment) and the alarm detail view with its
// evidence chart, history and disposition.
import { formatValue } from './alarm-list.js';
import { act, notify, post } from './api.js';
import { drawEvidenceChart } from './chart.js';
import { runFormDialog } from './form-dialog.js';
import { formatDateTime } from './format.js';
import { addParcelFacts } from './parcels.js';

const $ = (id) => document.querySelector(`[data-testid="${id}"]`);
const path = (a, verb) => `/api/alarms/${encodeURIComponent(a.id)}/${verb}`;
const label = (a, devices) => `${devices.get(a.device)?.name ?? a.device}: ${a.message}`;

/** Opens a fresh form dialog that stays open (input kept, reason shown) until the server accepts. */
function ask(dialog, submit) {
  dialog.querySelector('form').reset();
  return runFormDialog(dialog, submit);
}

/** Asks for an optional comment, then acknowledges. */
export async function openAck(a, devices) {
  $('ack-target').textContent = label(a, devices);
  const done = await ask($('ack-dialog'), (data) => {
    const comment = String(data.get('comment') ?? '').trim();
    return post(path(a, 'ack'), comment ? { comment } : {});
  });
  if (done) notify('Alarm acknowledged.');
}

/** Asks for a duration and a (required) reason, then shelves. */
export async function openShelve(a, devices) {
  $('shelve-target').textContent = label(a, devices);
  const done = await ask($('shelve-dialog'), (data) =>
    post(path(a, 'shelve'), { duration_s: Number(data.get('duration')), comment: String(data.get('comment')).trim() }),
  );
  if (done) notify('Alarm shelved.');
}

export const silence = (a) => act(path(a, 'silence'), {}, 'Alarm silenced for 30 s (still unacknowledged).');
export const unshelve = (a) => act(path(a, 'unshelve'), {}, 'Alarm unshelved.');
export const reset = (a) => act(path(a, 'reset'), {}, 'Alarm reset.');

function fact(dl, term, value) {
  if (value === undefined || value === null || value === '') return;
  const dt = document.createElement('dt');
  const dd = document.createElement('dd');
  dt.textContent = term;
  dd.textContent = String(value);
  dl.append(dt, dd);
}

/** Shows one alarm: evidence chart, facts, full history (fetched), N42 link and disposition. */
export async function openDetail(a, devices) {
  const dialog = $('alarm-detail');
  dialog.dataset.id = a.id;
  $('detail-title').textContent = `${devices.get(a.device)?.name ?? a.device} · ${a.rule.replaceAll('_', ' ')} · ${a.severity}`;
  $('detail-message').textContent = a.message;
  drawEvidenceChart($('evidence-chart'), a);
  const ev = a.evidence;
  const dl = $('detail-facts');
  dl.replaceChildren();
  fact(dl, 'Value', formatValue(ev, a.device));
  fact(dl, ev.unit === 'bool' ? 'Trips on' : 'Threshold', formatValue({ ...ev, value: ev.threshold }, a.device));
  if (ev.background !== undefined) fact(dl, 'Background', formatValue({ ...ev, value: ev.background }, a.device));
  fact(dl, 'Counts', ev.counts);
  fact(dl, 'Window', ev.window_s !== undefined ? `${ev.window_s} s` : undefined);
  fact(dl, 'Raised', formatDateTime(a.raised_at));
  fact(dl, 'Source', a.source);
  for (const [k, v] of Object.entries(ev.params ?? {})) fact(dl, k, v);
  void addParcelFacts(dl, a);
  $('detail-n42').href = path(a, 'n42');
  const history = $('detail-history');
  history.replaceChildren();
  fetch(`/api/alarms/${encodeURIComponent(a.id)}`)
    .then((r) => (r.ok ? r.json() : { history: [] }))
    .then((body) => {
      for (const t of body.history) {
        const li = document.createElement('li');
        li.setAttribute('data-testid', 'history-item');
        li.textContent = `${formatDateTime(t.ts)} ${t.kind}${t.user ? ` by ${t.user}` : ''}${t.comment ? `: “${t.comment}”` : ''}`;
        history.append(li);
      }
    });
  if (!dialog.open) dialog.showModal();
}

/** Saves the disposition chosen in the open detail view. */
export function setUpDisposition(getAlarm) {
  $('disposition-save').addEventListener('click', async () => {
    const a = getAlarm($('alarm-detail').dataset.id);
    if (!a) return;
    const nuclide = $('disposition-nuclide').value.trim();
    const comment = $('disposition-comment').value.trim();
    const body = { value: $('disposition-value').value, ...(nuclide ? { nuclide } : {}), ...(comment ? { comment } : {}) };
    await act(path(a, 'disposition'), body, 'Disposition saved.');
  });
}
