import type { RunReport } from './report.ts';

const esc = (v: unknown) =>
  String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
const mmss = (s: number | null) => (s === null ? '—' : `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, '0')}`);
const table = (head: string[], rows: unknown[][]) =>
  `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;

/** The after-action report as a self-contained printable page (no scripts, print-friendly CSS). */
export function reportHtml(r: RunReport): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>After-action report: ${esc(r.title)}</title>
<link rel="stylesheet" href="/report.css"></head><body>
<h1>After-action report</h1>
<p><b>${esc(r.title)}</b> (${esc(r.scenario)}) · run ${esc(r.run)} · trainee <b data-testid="report-trainee">${esc(r.trainee ?? '—')}</b>
 · started by ${esc(r.started_by)} (${esc(r.mode)}) · ${esc(new Date(r.started_at).toISOString())} · speed ${esc(r.speed)}× · ${esc(r.state)} at ${mmss(r.elapsed_s)} of ${mmss(r.duration_s)}</p>
<p class="score" data-testid="report-score">Score ${r.score.percent} %</p>
<p>${r.score.earned} of ${r.score.max} points, ${r.score.penalties} penalty points.</p>
<h2>Expected actions</h2>${table(
    ['Item', 'Status', 'Done at', 'Response (s)', 'Deadline', 'Points'],
    r.expected.map((x) => [x.label, x.status, mmss(x.done_at_s), x.response_s ?? '—', mmss(x.deadline_s), `${x.earned}/${x.points}`]),
  )}
<h2>Missed</h2>${r.missed.length ? `<ul>${r.missed.map((m) => `<li>${esc(m)}</li>`).join('')}</ul>` : '<p>Nothing missed.</p>'}
<h2>Errors</h2>${
    r.errors.length
      ? table(
          ['Error', 'At', 'Penalty'],
          r.errors.map((e) => [e.label, mmss(e.at_s), e.penalty]),
        )
      : '<p>None.</p>'
  }
<h2>Alarms</h2>${table(
    ['Raised', 'Device', 'Rule', 'Severity', 'Acknowledged', 'Response (s)', 'Cleared', 'Disposition'],
    r.alarms.map((a) => [
      mmss(a.raised_at_s),
      a.device,
      a.rule,
      a.severity,
      mmss(a.acknowledged_at_s),
      a.response_s ?? '—',
      mmss(a.cleared_at_s),
      a.disposition ? `${a.disposition}${a.nuclide ? ` (${a.nuclide})` : ''}` : '—',
    ]),
  )}
<h2>Trainee actions</h2><div data-testid="report-actions">${table(
    ['At', 'User', 'Action', 'Alarm', 'Response (s)', 'Result'],
    r.actions.map((a) => [
      mmss(a.at_s),
      a.user,
      a.kind,
      a.alarm_id ? `${a.rule} on ${a.device}` : (a.item ?? a.device ?? ''),
      a.response_s ?? '—',
      a.ok ? 'done' : `refused: ${a.error}`,
    ]),
  )}</div>
<h2>Timeline</h2>${table(
    ['At', 'What', ''],
    r.timeline.map((t) => [mmss(t.at_s), t.kind, t.text]),
  )}
</body></html>`;
}
