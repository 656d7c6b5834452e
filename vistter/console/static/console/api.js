// The control API as the page uses it: JSON in, JSON out. Every refusal becomes an
// ApiProblem carrying the API's own `problem` and `hint`, which the page shows as they are.

export class ApiProblem extends Error {
  constructor(problem, hint, status) {
    super(problem);
    this.problem = problem;
    this.hint = hint || '';
    this.status = status;
  }
}

const UNREACHABLE_HINT =
  'Check that the appliance is running (scripts/demo.sh or vistter run) and that this page ' +
  'was opened from it. The page keeps retrying by itself.';

// The console login (login.js): the session's CSRF token goes with every change, and a 401
// (no login, or it ended) is handed to the login view.
const session = { csrfToken: null, onUnauthorized: null };
export function setSession(patch) {
  Object.assign(session, patch);
}
// The headers a change sends besides its body (the CSRF token), for requests made without
// request() below: raw-body imports and XMLHttpRequest uploads (library_api.js).
export function changeHeaders() {
  return session.csrfToken ? { 'x-csrf-token': session.csrfToken } : {};
}
// A 401 outside request() goes to the login view the same way.
export function unauthorized(data) {
  if (session.onUnauthorized) session.onUnauthorized(data);
}

export async function request(method, path, body) {
  const init = { method, cache: 'no-store', headers: { accept: 'application/json' } };
  if (session.csrfToken && !['GET', 'HEAD'].includes(method)) {
    init.headers['x-csrf-token'] = session.csrfToken;
  }
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiProblem('The appliance does not answer.', UNREACHABLE_HINT, 0);
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    if (response.status === 401 && path !== '/api/login' && session.onUnauthorized) {
      session.onUnauthorized(data);
    }
    if (data && typeof data.problem === 'string') {
      const listed = Array.isArray(data.problems) ? data.problems
        .map((p) => `${p.path ? `${p.path}: ` : ''}${p.message}${p.hint ? ` (${p.hint})` : ''}`)
        .join('; ') : '';
      throw new ApiProblem(data.problem, listed ? `${data.hint} ${listed}` : data.hint,
        response.status);
    }
    throw new ApiProblem(
      `The appliance answered ${response.status} to ${method} ${path}.`,
      'Retry; if it keeps happening, the appliance log says why.',
      response.status,
    );
  }
  return data;
}

export const get = (path) => request('GET', path);
export const post = (path, body) => request('POST', path, body);
export const del = (path) => request('DELETE', path);

// A route another part of the appliance may not serve yet: 404 (no such route) and 405
// answer `missing` instead of throwing, so the page can use the older route meanwhile.
export async function optional(method, path, body, missing = undefined) {
  try {
    return await request(method, path, body);
  } catch (error) {
    if (error instanceof ApiProblem && (error.status === 405
        || (error.status === 404 && /^There is no route/.test(error.problem)))) {
      return missing;
    }
    throw error;
  }
}
