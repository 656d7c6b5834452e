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

export async function request(method, path, body) {
  const init = { method, cache: 'no-store', headers: { accept: 'application/json' } };
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
    if (data && typeof data.problem === 'string') {
      throw new ApiProblem(data.problem, data.hint, response.status);
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
