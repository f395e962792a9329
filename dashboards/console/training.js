// Training desk for a logged-in trainer: lists the shipped scenarios, starts and stops one run at a
// time, and shows the running one. Runs go through the live pipeline with devices `training-<id>`;
// their alarms land in the training list, never in the live one. Reading is open; start/stop
// need the trainer role (the server checks and audits it).
import { act, notify } from './api.js';

const $ = (id) => document.querySelector(`[data-testid="${id}"]`);
const POLL_MS = 1000;
let timer;

const mmss = (s) => `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, '0')}`;

function el(tag, attrs = {}, text = '') {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  if (text) node.textContent = text;
  return node;
}

function renderScenarios(scenarios, running) {
  const list = $('training-scenarios');
  list.replaceChildren();
  for (const s of scenarios) {
    const item = el('li', { class: 'scenario', 'data-testid': 'training-scenario', 'data-name': s.name });
    const head = el('div', { class: 'scenario-head' });
    head.append(el('strong', {}, s.title), el('span', { class: 'scenario-len' }, mmss(s.duration_s)));
    const start = el('button', { type: 'button', 'data-testid': 'training-start' }, 'Start');
    // A recorded replay plays only on a trainee run's own engine: Assign, never Start.
    start.disabled = Boolean(running) || !s.broker;
    start.hidden = !s.broker;
    start.addEventListener('click', async () => {
      start.disabled = true;
      const speed = Number($('training-speed').value) || 1;
      await act(`/api/training/scenarios/${encodeURIComponent(s.name)}/start`, { speed }, `Training started: ${s.title}`);
      refresh();
    });
    // Assign: a trainee run on its own engine and clock, for the trainee named above the list.
    const assign = el('button', { type: 'button', 'data-testid': 'training-assign' }, 'Assign');
    assign.hidden = !s.trainee;
    assign.addEventListener('click', async () => {
      const trainee = $('trainee-name').value.trim();
      if (!trainee) return notify('Name the trainee first.', 'error');
      const speed = Number($('training-speed').value) || 1;
      await act(`/api/training/scenarios/${encodeURIComponent(s.name)}/runs`, { trainee, speed }, `${s.title} assigned to ${trainee}`);
      refresh();
    });
    head.append(start, assign);
    item.append(head, el('p', { class: 'scenario-desc' }, s.description));
    list.append(item);
  }
}

function renderRun(run) {
  const box = $('training-run');
  box.hidden = !run;
  if (!run) return;
  box.dataset.state = run.state;
  box.dataset.run = run.run;
  $('training-run-title').textContent = run.title;
  $('training-run-state').textContent = run.state;
  $('training-run-progress').textContent =
    `${mmss(run.elapsed_s)} / ${mmss(run.duration_s)} · ${run.readings_published} readings · ${run.alarms_raised} training alarm(s)` +
    (run.speed !== 1 ? ` · ${run.speed}×` : '');
  $('training-run-action').textContent = run.last_action ?? '';
  $('training-stop').hidden = run.state !== 'running';
}

/** The named trainee's runs (newest first) with their state, score and a link to the report. */
async function refreshTraineeRuns() {
  const name = $('trainee-name').value.trim();
  const list = $('trainee-runs');
  if (!name) return list.replaceChildren();
  const r = await fetch(`/api/training/trainees/${encodeURIComponent(name)}/runs`);
  if (!r.ok) return;
  const { runs } = await r.json();
  list.replaceChildren(
    ...runs.map((run) => {
      const li = el('li', { 'data-testid': 'trainee-run', 'data-run': run.run, 'data-state': run.state });
      const score = run.state === 'running' ? 'running' : `${run.state} · score ${run.score_percent} %`;
      li.append(el('span', { 'data-testid': 'trainee-run-summary' }, `${run.title} · ${score} · `));
      const link = el(
        'a',
        {
          'data-testid': 'trainee-run-report',
          href: `/api/training/runs/${encodeURIComponent(run.run)}/report.html`,
          target: '_blank',
          rel: 'noopener',
        },
        'After-action report',
      );
      li.append(link);
      return li;
    }),
  );
}

/** Re-reads scenarios and runs; the newest run shows until another starts. */
async function refresh() {
  try {
    const [sc, rs] = await Promise.all([fetch('/api/training/scenarios'), fetch('/api/training/runs')].map((p) => p.then((r) => r.json())));
    const latest = rs.runs[0];
    const running = latest?.state === 'running' ? latest : undefined;
    $('training-unavailable').hidden = sc.available;
    renderScenarios(sc.scenarios, running || !sc.available);
    renderRun(latest);
    await refreshTraineeRuns();
  } catch {
    // The stream state already tells the user the server is unreachable.
  }
}

/** Shows the desk to trainers only and polls it while shown; call on every login change. */
export function showTraining(user) {
  const panel = $('training-panel');
  const isTrainer = user?.role === 'trainer';
  panel.hidden = !isTrainer;
  clearInterval(timer);
  if (!isTrainer) return;
  refresh();
  timer = setInterval(refresh, POLL_MS);
}

$('training-stop').addEventListener('click', async () => {
  const id = $('training-run').dataset.run;
  if (id) await act(`/api/training/runs/${encodeURIComponent(id)}/stop`, {}, 'Training run stopped.');
  refresh();
});
