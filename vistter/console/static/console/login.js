// The console login. When the appliance asks for one (GET /api/session answers 401: an admin
// password is set, or the API is reachable from the network), the page shows a login form
// instead of the console; the admin password opens a session (an HttpOnly cookie the page
// never sees, plus a CSRF token that api.js sends with every change). Logging out, or a 401
// later (the login expired, the appliance restarted), reloads the page onto the form, so
// nothing keeps polling an API that refuses it. Without a password on loopback there is no
// login at all, as before.
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from './html.js';
import { ApiProblem, get, post, setSession } from './api.js';

const ENDED = 'Your login has ended (it expired, or the appliance restarted). Log in again.';
const NOTICE_KEY = 'vistter.login.notice';
const RELOADED_KEY = 'vistter.login.reloadedAt';
const RELOAD_GUARD_MS = 10000;

function remembered(key, value) {
  try {
    if (value === undefined) {
      const kept = sessionStorage.getItem(key);
      sessionStorage.removeItem(key);
      return kept;
    }
    sessionStorage.setItem(key, value);
  } catch {
    // storage refused (private mode): the notice is simply not shown
  }
  return null;
}

// Start the page afresh on the login form, saying why; but never reload in a loop.
function restart(notice, fallback) {
  const last = Number(remembered(RELOADED_KEY)) || 0;
  if (Date.now() - last < RELOAD_GUARD_MS) {
    fallback(notice);
    return;
  }
  remembered(NOTICE_KEY, notice);
  remembered(RELOADED_KEY, String(Date.now()));
  window.location.reload();
}

export function LoginGate({ children, onReady }) {
  const [phase, setPhase] = useState('checking');  // checking | login | in
  const [who, setWho] = useState(null);
  const [notice, setNotice] = useState(null);
  const current = useRef({ phase: 'checking', ready: false });

  const show = (next, message = null) => {
    current.current.phase = next;
    setNotice(message);
    setPhase(next);
  };
  const enter = (info) => {
    setSession({ csrfToken: info?.csrf_token ?? null });
    setWho(info);
    show('in');
    if (!current.current.ready) {
      current.current.ready = true;
      onReady();
    }
  };
  const askLogin = (message) => {
    setSession({ csrfToken: null });
    show('login', message);
  };
  const logout = async () => {
    // From here a 401 from a poll still in flight is the logout itself, not an expired login.
    current.current.phase = 'leaving';
    try {
      await post('/api/logout');
    } catch {
      // the session is dropped on this side anyway; the server ends it at its expiry
    }
    restart('You are logged out.', askLogin);
  };

  useEffect(() => {
    setSession({
      onUnauthorized: () => current.current.phase === 'in' && restart(ENDED, askLogin),
    });
    const notice = remembered(NOTICE_KEY);
    get('/api/session').then(enter, (error) => {
      if (error instanceof ApiProblem && error.status === 401) askLogin(notice);
      else enter(null);  // unreachable: the console says so and keeps retrying
    });
  }, []);

  if (phase === 'checking') return html`<p class="boot">Checking your login…</p>`;
  if (phase === 'login') return html`<${LoginForm} notice=${notice} onLoggedIn=${enter} />`;
  return html`
    ${who?.via === 'session' && html`
      <div class="session-bar" data-testid="session-bar">
        <span>Logged in as the operator.</span>
        <button type="button" class="btn" onClick=${logout}>Log out</button>
      </div>`}
    ${children}`;
}

function LoginForm({ notice, onLoggedIn }) {
  const [password, setPassword] = useState('');
  const [problem, setProblem] = useState(null);
  const [busy, setBusy] = useState(false);
  const input = useRef(null);
  useEffect(() => input.current?.focus(), []);

  const submit = async (event) => {
    event.preventDefault();
    if (busy) return;
    setBusy(true);
    setProblem(null);
    try {
      onLoggedIn(await post('/api/login', { password }));
    } catch (error) {
      setProblem(error instanceof ApiProblem ? error
        : { problem: String(error), hint: 'Reload the page; if it persists, report it.' });
      setPassword('');
      setBusy(false);
      input.current?.focus();
    }
  };

  return html`
    <main class="login">
      <form class="panel login-form" onSubmit=${submit} aria-labelledby="login-title"
            data-testid="login-form">
        <h1 id="login-title">Vistter operator console</h1>
        <p>Log in with the admin password to run the show.</p>
        ${notice && html`<p class="login-notice" role="status" data-testid="login-notice">
          ${notice}</p>`}
        <label for="login-password">Admin password</label>
        <input id="login-password" type="password" name="password" required
               autocomplete="current-password" ref=${input} value=${password}
               aria-invalid=${problem ? 'true' : 'false'}
               aria-describedby=${problem ? 'login-problem' : undefined}
               onInput=${(event) => setPassword(event.currentTarget.value)} />
        ${problem && html`
          <div class="problem" role="alert" id="login-problem" data-testid="login-problem">
            <div>
              <strong>${problem.problem}</strong>
              ${problem.hint && html`<div>What to do: ${problem.hint}</div>`}
            </div>
          </div>`}
        <button type="submit" class="btn btn-go" disabled=${busy}>
          ${busy ? 'Logging in\u2026' : 'Log in'}</button>
      </form>
    </main>`;
}
