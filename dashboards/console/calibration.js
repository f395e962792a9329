// Calibration from a device tile: a technician records a calibration (factor, reference source,
// certificate, next due date, comment) and sees the device's history. The "Calibrate" button is
// shown to technicians only (calibration.css keys on body[data-role]); the server decides anyway.
import { notify, post } from './api.js';
import { runFormDialog } from './form-dialog.js';

const $ = (id) => document.querySelector(`[data-testid="${id}"]`);
const FACTOR_LABEL = {
  sensitivity: 'Sensitivity (CPM per µSv/h)',
  correction: 'Dose-rate correction factor (×)',
};

function formatDay(ms) {
  return new Date(ms).toISOString().slice(0, 10);
}

/** One history line: date, factor, source, technician, due date, comment. */
function describe(r) {
  const unit = r.kind === 'sensitivity' ? ' CPM per µSv/h' : '×';
  const ref = r.reference;
  const source = `${ref.nuclide}${ref.dose_rate_usvh ? ` ${ref.dose_rate_usvh} µSv/h` : ''}${ref.activity_bq ? ` ${ref.activity_bq} Bq` : ''}, cert. ${ref.certificate}`;
  const comment = r.comment ? `: “${r.comment}”` : '';
  return `${formatDay(r.calibrated_at)} · ${r.factor}${unit} · ${source} · by ${r.technician} · due ${r.due}${comment}`;
}

async function loadHistory(deviceId) {
  const list = $('calibration-history');
  list.replaceChildren();
  const res = await fetch(`/api/devices/${encodeURIComponent(deviceId)}/calibrations`);
  if (!res.ok) return null;
  const body = await res.json();
  for (const r of body.calibrations) {
    const li = document.createElement('li');
    li.setAttribute('data-testid', 'calibration-history-item');
    li.dataset.id = r.calibration_id;
    li.textContent = describe(r);
    list.append(li);
  }
  $('calibration-empty').hidden = body.calibrations.length > 0;
  return body;
}

/** Opens the dialog for one device; on confirm, records the calibration and reports the outcome. */
export async function openCalibrate(device) {
  const dialog = $('calibrate-dialog');
  const form = dialog.querySelector('form');
  form.reset();
  dialog.dataset.device = device.id;
  $('calibrate-target').textContent = `${device.name || device.id} (${device.profile})`;
  const history = await loadHistory(device.id);
  const kind = history?.kind ?? 'correction';
  $('calibrate-factor-label').textContent = FACTOR_LABEL[kind];
  // The factor in force (recorded, configured or the profile's default) is where a technician starts.
  // Six significant digits: the firmware's 10000/57 would otherwise show as 175.43859649122808.
  if (history) $('calibrate-factor').value = String(Number(history.factor_in_force.toPrecision(6)));
  $('calibrate-due').min = tomorrow();
  const path = `/api/devices/${encodeURIComponent(device.id)}/calibrations`;
  let pending = null;
  const recorded = await runFormDialog(dialog, async (data) => {
    const r = await post(path, bodyOf(data));
    // A factor outside the plausible range is not recorded but waits for a second person (202).
    if (r.status === 202) pending = r.body?.message ?? 'waiting for a second person to approve';
    return r;
  });
  if (!recorded) return;
  if (pending) notify(`Not in force yet: ${pending}`, 'error');
  else notify(`Calibration recorded for ${device.name || device.id}.`);
}

/** The request body from the dialog's fields. */
function bodyOf(data) {
  const doseRate = Number(data.get('dose_rate'));
  const comment = String(data.get('comment') ?? '').trim();
  return {
    factor: Number(data.get('factor')),
    due: String(data.get('due')),
    reference: {
      nuclide: String(data.get('nuclide')).trim(),
      ...(doseRate > 0 ? { dose_rate_usvh: doseRate } : {}),
      certificate: String(data.get('certificate')).trim(),
    },
    ...(comment ? { comment } : {}),
  };
}

/** Local date of tomorrow, YYYY-MM-DD: the earliest next-due date the server accepts. */
function tomorrow() {
  const d = new Date(Date.now() + 86_400_000);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

/** Wires the tiles' Calibrate buttons (one delegated listener: tiles come and go). */
export function setUpCalibration(getDevice) {
  $('device-grid').addEventListener('click', (ev) => {
    const button = ev.target.closest('[data-testid="calibrate-button"]');
    if (!button) return;
    const device = getDevice(button.closest('[data-device]')?.dataset.device);
    if (device) openCalibrate(device);
  });
}
