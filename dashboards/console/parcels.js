// Recent parcels through the scanner tunnel (GET /api/parcels): verdict, category, nuclides and
// times in and out; and, in an alarm's detail, the parcel it was raised during. DOM calls and
// textContent only (strict CSP, no markup from data). Polled: parcels are few (one every few
// seconds at most) and the list is small, so no stream event is needed for them.
import { formatTime } from './format.js';

const $ = (id) => document.querySelector(`[data-testid="${id}"]`);
const POLL_MS = 2000;

function cell(row, text, testid) {
  const td = document.createElement('td');
  td.textContent = text;
  if (testid) td.setAttribute('data-testid', testid);
  row.append(td);
}

const nuclideNames = (p) => (p.nuclides.length ? p.nuclides.map((n) => n.nuclide).join(', ') : '—');

function render(parcels) {
  const body = $('parcel-rows');
  body.replaceChildren();
  for (const p of parcels) {
    const tr = document.createElement('tr');
    tr.setAttribute('data-testid', 'parcel-row');
    tr.dataset.id = p.id;
    tr.className = `parcel parcel-${p.verdict}`;
    cell(tr, formatTime(p.opened_at), 'parcel-in');
    cell(tr, formatTime(p.closed_at), 'parcel-out');
    cell(tr, p.verdict, 'parcel-verdict');
    cell(tr, p.category ?? '—', 'parcel-category');
    cell(tr, nuclideNames(p), 'parcel-nuclides');
    cell(tr, p.alarms.length ? String(p.alarms.length) : '', 'parcel-alarms');
    body.append(tr);
  }
  $('no-parcels').hidden = parcels.length > 0;
}

async function poll() {
  try {
    const res = await fetch('/api/parcels?limit=20');
    if (res.ok) {
      const body = await res.json();
      $('parcels-panel').hidden = !body.enabled;
      if (body.enabled) render(body.parcels);
    }
  } catch {
    // The stream banner already tells the operator the server is unreachable.
  }
}

/** Starts polling the parcel list; the panel stays hidden on a station without parcel records. */
export function setUpParcels() {
  void poll();
  setInterval(poll, POLL_MS);
}

function fact(dl, term, value, testid) {
  const dt = document.createElement('dt');
  const dd = document.createElement('dd');
  dt.textContent = term;
  dd.textContent = value;
  dd.setAttribute('data-testid', testid);
  dl.append(dt, dd);
}

/**
 * Adds the parcel an alarm was raised during (category, nuclides, verdict) to its detail facts:
 * from its evidence once the parcel is identified (transition `identified`), else from the parcel
 * list (the parcel may still be in the tunnel when the detail opens).
 */
export async function addParcelFacts(dl, alarm) {
  const alarmId = alarm.id;
  if (alarm.evidence.parcel) {
    showParcel(dl, alarm.evidence.parcel);
    return;
  }
  try {
    const res = await fetch(`/api/parcels?alarm=${encodeURIComponent(alarmId)}`);
    if (!res.ok) return;
    const [p] = (await res.json()).parcels;
    // The detail may have moved on to another alarm while this was in flight.
    if (!p || dl.closest('dialog')?.dataset.id !== alarmId) return;
    showParcel(dl, p);
  } catch {
    // No parcel facts is the same as no parcel: the rest of the detail stands.
  }
}

function showParcel(dl, p) {
  fact(dl, 'Parcel', p.verdict, 'detail-parcel');
  fact(dl, 'Category', p.category ?? 'none identified', 'detail-category');
  fact(dl, 'Nuclides', nuclideNames(p), 'detail-nuclides');
}
