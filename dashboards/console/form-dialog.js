// Modal forms that stay open until the server accepts them. A refused submit must not lose what
// the operator typed (a technician's certificate number, a shelve reason), so the dialog shows
// the reason inside itself, in words, and keeps every field as it was (issue 10).

/** Field paths in the server's messages ("body.due", "body.reference.certificate") → the form's labels. */
const FIELD_LABELS = {
  factor: 'Factor',
  due: 'Next calibration due',
  calibrated_at: 'Calibration date',
  'reference.nuclide': 'Nuclide',
  'reference.dose_rate_usvh': 'Reference dose rate',
  'reference.activity_bq': 'Reference activity',
  'reference.certificate': 'Certificate',
  comment: 'Comment',
  duration_s: 'Duration',
};

/** zod's wording (src/server/app.ts passes it through) → words for a person at a console. */
const PHRASES = [
  [/^Too small: expected string to have >=?1 characters?$/, 'is required'],
  [/^Too small: expected number to be >0$/, 'must be more than 0'],
  [/^Too big: expected string to have <=(\d+) characters$/, 'may have at most $1 characters'],
  [/^Invalid ISO date$/, 'is not a date (YYYY-MM-DD)'],
  [/^Invalid input: expected (\w+), received (\w+)$/, 'is missing or not a $1'],
];

function humanField(path) {
  return FIELD_LABELS[path] ?? path.replaceAll('_', ' ').replaceAll('.', ' ');
}

function humanPhrase(text) {
  for (const [re, words] of PHRASES) if (re.test(text)) return text.replace(re, words);
  return text;
}

/**
 * One sentence per problem from a refused request ({ status, body } from api.js `post`):
 * "Next calibration due: 2026-01-01 must be after the calibration date 2026-12-07." instead of
 * "body.due: …"; log-in and role refusals say what to do.
 */
export function describeRefusal(r) {
  if (r.status === 0) return 'The server cannot be reached, so nothing was saved. Submit again when it is back.';
  if (r.status === 401) return 'You are not logged in (or your session ended). Log in and submit again: your input is kept.';
  if (r.status === 403) return `Your role may not do this${r.body?.message ? ` (${r.body.message})` : ''}.`;
  const message = String(r.body?.message ?? `the server answered HTTP ${r.status}`);
  if (r.body?.code === 'RS_ERR_CALIBRATION_IMPLAUSIBLE') return `Factor: ${message}.`;
  return message
    .split('; ')
    .map((part) => {
      const m = /^(?:body|querystring|params)\.([\w.]+): (.*)$/.exec(part);
      const sentence = m ? `${humanField(m[1])}: ${humanPhrase(m[2])}` : part;
      return sentence.endsWith('.') ? sentence : `${sentence}.`;
    })
    .join(' ');
}

/**
 * Shows `dialog` (a <dialog> holding a form whose confirm button has value "ok") and resolves to
 * true once `submit(formData)` succeeded, false when cancelled. `submit` resolves to the
 * `{ ok, status, body }` of its request; a refusal is shown in the dialog's
 * `[data-role="dialog-error"]` element and the dialog stays open with its fields untouched.
 */
export function runFormDialog(dialog, submit) {
  const form = dialog.querySelector('form');
  const error = dialog.querySelector('[data-role="dialog-error"]');
  const confirm = form.querySelector('button[value="ok"]');
  error.hidden = true;
  error.textContent = '';
  return new Promise((resolve) => {
    const onSubmit = async (ev) => {
      // Cancel (formnovalidate, value "cancel") closes the dialog the browser's own way.
      if (ev.submitter?.value !== 'ok') return;
      ev.preventDefault();
      confirm.disabled = true;
      try {
        const r = await submit(new FormData(form));
        if (r.ok) return dialog.close('ok');
        error.textContent = describeRefusal(r);
        error.hidden = false;
      } finally {
        confirm.disabled = false;
      }
    };
    form.addEventListener('submit', onSubmit);
    dialog.addEventListener(
      'close',
      () => {
        form.removeEventListener('submit', onSubmit);
        resolve(dialog.returnValue === 'ok');
      },
      { once: true },
    );
    dialog.returnValue = '';
    dialog.showModal();
  });
}
