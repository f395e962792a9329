// Talking to the server for actions and the session. The session is an HttpOnly cookie the
// browser sends by itself (SameSite=Strict), so no token is ever visible to this code.

const $ = (id) => document.querySelector(`[data-testid="${id}"]`);
let toastTimer;

/** Shows a short message to the operator; `kind` is ok | error. */
export function notify(text, kind = 'ok') {
  const el = $('toast');
  el.textContent = text;
  el.dataset.kind = kind;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    el.hidden = true;
  }, 6000);
}

/** POSTs JSON; resolves to { ok, status, body } and never throws on HTTP errors. */
export async function post(path, body = {}) {
  try {
    const res = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const text = await res.text();
    let parsed = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = { message: text };
    }
    return { ok: res.ok, status: res.status, body: parsed };
  } catch (e) {
    return { ok: false, status: 0, body: { message: `server unreachable (${e.message})` } };
  }
}

/** Runs an alarm action and tells the operator what happened; a refusal is shown, never hidden. */
export async function act(path, body, doneText) {
  const r = await post(path, body);
  if (r.ok) notify(doneText);
  else if (r.status === 401) notify('Refused: log in first to act on alarms.', 'error');
  else if (r.status === 403) notify(`Refused: ${r.body?.message ?? 'your role may not do this'}.`, 'error');
  else notify(`Refused: ${r.body?.message ?? `HTTP ${r.status}`}`, 'error');
  return r;
}

/** The logged-in user, or null. */
export async function fetchMe() {
  try {
    return (await (await fetch('/api/me')).json()).user;
  } catch {
    return null;
  }
}

/** Wires the login form and logout button; calls `onChange(user|null)` whenever the session changes. */
export function setUpLogin(onChange) {
  const form = $('login-form');
  const show = (user) => {
    form.hidden = Boolean(user);
    $('whoami').hidden = !user;
    $('whoami-name').textContent = user?.name ?? '';
    $('whoami-role').textContent = user?.role ?? '';
    document.body.dataset.role = user?.role ?? '';
    onChange(user);
  };
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const data = new FormData(form);
    const r = await post('/api/login', { username: data.get('username'), password: data.get('password') });
    form.reset();
    if (!r.ok)
      return notify(r.status === 429 ? 'Too many failed logins; wait a few minutes.' : 'Login failed: bad user name or password.', 'error');
    notify(`Logged in as ${r.body.user.name} (${r.body.user.role}).`);
    show(r.body.user);
  });
  $('logout').addEventListener('click', async () => {
    await post('/api/logout');
    show(null);
  });
  fetchMe().then(show);
}
