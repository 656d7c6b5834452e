// Saving the builder's show to the library, with the ETag / If-Match rule that keeps two
// tabs from silently overwriting each other. No DOM, no Preact.
//
//   saveShow(builder, recordId)      recordId null: a new record (POST /api/timelines);
//                                    else PUT /api/timelines/{id} with If-Match: builder.etag
//   saveCopy(builder)                the show under a new key and name "(copy)", as a new
//                                    record (one undo step renames it in the builder)
//   reloadStored(builder, recordId)  their version: the stored document replaces the show
//
// Each resolves with an outcome:
//   {outcome: 'saved', id, etag}        builder.markSaved(etag) was called
//   {outcome: 'conflict'}               412: someone saved this timeline since it was opened
//   {outcome: 'invalid', problems}      422: the server refused the show (problems located)
//   {outcome: 'refused', error}         any other refusal (ApiProblem in the API's words)
import { ApiProblem } from '../../api.js';
import { send } from '../../library_api.js';
import { locateAll } from './validation.js';

const MAX_KEY = 128;

function etagOf(answer) {
  return answer.headers?.get('etag') || answer.data?.etag || null;
}

function refusal(builder, doc, error) {
  if (!(error instanceof ApiProblem)) throw error;
  if (error.status === 412) return { outcome: 'conflict' };
  if (error.status === 422 && error.problems?.length) {
    const problems = locateAll(doc, error.problems);
    builder.setProblems(problems);
    return { outcome: 'invalid', problems };
  }
  return { outcome: 'refused', error };
}

export async function saveShow(builder, recordId) {
  const doc = builder.output();
  try {
    let answer;
    if (recordId === null || recordId === undefined) {
      answer = await send('POST', '/api/timelines', { json: doc });
    } else {
      const headers = builder.etag ? { 'if-match': builder.etag } : {};
      answer = await send('PUT', `/api/timelines/${encodeURIComponent(recordId)}`,
        { json: doc, headers });
    }
    const id = answer.data?.id ?? recordId;
    const etag = etagOf(answer);
    builder.markSaved(etag);
    return { outcome: 'saved', id, etag };
  } catch (error) {
    return refusal(builder, doc, error);
  }
}

// A key (timeline.id) and a name no stored timeline has: "marina_copy", "marina_copy_2"...
export function copyIdentity(timeline, stored) {
  const keys = new Set(stored.map((record) => record.key));
  const names = new Set(stored.map((record) => record.name));
  const base = `${String(timeline.id).replace(/_copy(_\d+)?$/, '')}`.slice(0, MAX_KEY - 10);
  const baseName = String(timeline.name).replace(/ \(copy( \d+)?\)$/, '');
  for (let n = 1; ; n += 1) {
    const key = n === 1 ? `${base}_copy` : `${base}_copy_${n}`;
    const name = n === 1 ? `${baseName} (copy)` : `${baseName} (copy ${n})`;
    if (!keys.has(key) && !names.has(name)) return { key, name };
  }
}

export async function saveCopy(builder) {
  let stored = [];
  try {
    stored = (await send('GET', '/api/timelines')).data?.timelines || [];
  } catch (error) {
    return refusal(builder, builder.output(), error);
  }
  const { key, name } = copyIdentity(builder.timeline, stored);
  builder.edit('Save as a copy', (draft) => {
    draft.timeline.id = key;
    draft.timeline.name = name;
  });
  return saveShow(builder, null);
}

export async function reloadStored(builder, recordId) {
  try {
    const answer = await send('GET', `/api/timelines/${encodeURIComponent(recordId)}`);
    builder.load(answer.data.document, { etag: etagOf(answer) });
    return { outcome: 'saved', id: recordId, etag: builder.etag };
  } catch (error) {
    return refusal(builder, builder.output(), error);
  }
}
