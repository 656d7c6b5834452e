// The library and asset routes where api.js's request() does not fit: a timeline file's raw
// text (import), an If-Match precondition (rename), an answer's headers (ETag), and an
// upload whose progress the page shows (XMLHttpRequest: fetch() reports no upload progress).
// Every refusal is an ApiProblem; an invalid timeline's `problems` [{path, message, hint}]
// are kept on it (error.problems) so the page can show each one at its field.
import { ApiProblem, changeHeaders, unauthorized } from './api.js';

const UNREACHABLE = ['The appliance does not answer.',
  'Check that the appliance is running, then try again.'];

function problemOf(status, data, method, path) {
  const error = data && typeof data.problem === 'string'
    ? new ApiProblem(data.problem, data.hint, status)
    : new ApiProblem(`The appliance answered ${status} to ${method} ${path}.`,
      'Retry; if it keeps happening, the appliance log says why.', status);
  error.problems = Array.isArray(data?.problems) ? data.problems : [];
  error.code = data?.error || '';
  return error;
}

// send('PATCH', path, { json, text, contentType, headers }) -> { data, headers }
export async function send(method, path, { json, text, contentType, headers = {} } = {}) {
  const init = { method, cache: 'no-store', headers: { accept: 'application/json', ...headers } };
  if (!['GET', 'HEAD'].includes(method)) Object.assign(init.headers, changeHeaders());
  if (json !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(json);
  } else if (text !== undefined) {
    init.headers['content-type'] = contentType || 'application/json';
    init.body = text;
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiProblem(...UNREACHABLE, 0);
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    if (response.status === 401) unauthorized(data);
    throw problemOf(response.status, data, method, path);
  }
  return { data, headers: response.headers };
}

// A route (or a verb on it) this appliance does not serve yet: 405, or 404 "no route".
export function isMissingRoute(error) {
  return error instanceof ApiProblem && (error.status === 405
    || (error.status === 404 && /^There is no route/.test(error.problem)));
}

// Upload one file as the raw body of POST /api/assets (its name in ?name=). Returns
// { promise, abort }; onProgress(sent, total) follows the bytes as they leave the browser.
// The promise resolves with the stored asset, or rejects with an ApiProblem (status 0:
// the connection broke or the upload was cancelled; error.cancelled tells which).
export function uploadAsset(file, onProgress) {
  const xhr = new XMLHttpRequest();
  let cancelled = false;
  const promise = new Promise((resolve, reject) => {
    xhr.open('POST', `/api/assets?name=${encodeURIComponent(file.name)}`);
    xhr.setRequestHeader('accept', 'application/json');
    xhr.setRequestHeader('content-type', file.type || 'application/octet-stream');
    for (const [name, value] of Object.entries(changeHeaders())) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => {
      onProgress(event.loaded, event.lengthComputable ? event.total : file.size);
    };
    xhr.onload = () => {
      let data = null;
      try {
        data = JSON.parse(xhr.responseText);
      } catch {
        data = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(file.size, file.size);
        resolve(data);
        return;
      }
      if (xhr.status === 401) unauthorized(data);
      reject(problemOf(xhr.status, data, 'POST', '/api/assets'));
    };
    const broke = () => {
      const error = cancelled
        ? new ApiProblem('The upload was cancelled; nothing was stored.', '', 0)
        : new ApiProblem('The connection broke during the upload; nothing was stored.',
          'If the file is large, the appliance may have refused it for its size; otherwise '
          + 'check that the appliance is running and upload it again.', 0);
      error.cancelled = cancelled;
      reject(error);
    };
    xhr.onerror = broke;
    xhr.onabort = broke;
    xhr.send(file);
  });
  return {
    promise,
    abort: () => {
      cancelled = true;
      xhr.abort();
    },
  };
}
