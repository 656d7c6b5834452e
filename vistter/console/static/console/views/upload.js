// The upload queue of the assets page: files dropped (or chosen) wait in line and go up one
// at a time, each with a real progress bar (the bytes the browser has sent). A refusal is
// shown on its file in words: too large (with the appliance's limit), a kind of file the
// appliance cannot use, a name already taken; the other files go on.
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from '../html.js';
import { bytes } from '../format.js';
import { uploadAsset } from '../library_api.js';
import { DropZone } from './dropzone.js';

const ACCEPT = 'image/png,image/jpeg,image/gif,image/webp,video/mp4,video/quicktime,'
  + 'video/webm,.png,.jpg,.jpeg,.gif,.webp,.mp4,.mov,.m4v,.webm';

let nextKey = 1;

// What went wrong with one file, in words an operator can act on.
export function uploadRefusal(name, error) {
  const status = error.status;
  if (status === 413) {
    const limit = /limit of (\d+) bytes/.exec(error.problem || '');
    return {
      problem: limit
        ? `${name} is too large: the appliance takes files up to ${bytes(Number(limit[1]))}.`
        : `${name} is too large: ${error.problem}`,
      hint: error.hint,
    };
  }
  if (status === 415) {
    return { problem: `${name} is not a kind of file the appliance can use: ${error.problem}`,
      hint: error.hint };
  }
  return { problem: `${name}: ${error.problem}`, hint: error.hint };
}

function percentOf(item) {
  if (item.state === 'done') return 100;
  return item.total > 0 ? Math.floor((100 * item.sent) / item.total) : 0;
}

const STATES = { waiting: 'Waiting', uploading: 'Uploading', done: 'Uploaded',
  failed: 'Not uploaded', cancelled: 'Cancelled' };

function QueueItem({ item, cancel }) {
  const percent = percentOf(item);
  return html`
    <li class=${`upload upload-${item.state}`} data-testid="upload-item"
        data-state=${item.state}>
      <div class="upload-head">
        <strong class="upload-name">${item.name}</strong>
        <span class="small">${bytes(item.size)}</span>
        <span class="upload-state" data-testid="upload-state">${STATES[item.state]}${
          item.state === 'uploading' ? ` ${percent} %` : ''}</span>
        ${(item.state === 'waiting' || item.state === 'uploading') && html`
          <button type="button" class="btn btn-small" onClick=${() => cancel(item)}
                  aria-label=${`Cancel the upload of ${item.name}`}>Cancel</button>`}
      </div>
      ${item.state !== 'failed' && item.state !== 'cancelled' && html`
        <progress max="100" value=${percent} data-testid="upload-progress"
                  aria-label=${`${item.name}: ${percent} % sent`}></progress>
        <span class="small muted">${bytes(item.state === 'done' ? item.size : item.sent)} of
          ${bytes(item.size)}</span>`}
      ${item.state === 'failed' && html`
        <div class="upload-problem" role="alert" data-testid="upload-problem">
          <div>${item.problem}</div>
          ${item.hint && html`<div>What to do: ${item.hint}</div>`}
        </div>`}
    </li>`;
}

export function UploadQueue({ onUploaded }) {
  const [items, setItems] = useState([]);
  const running = useRef(null);  // { key, abort } of the upload in flight
  const update = (key, patch) => setItems((list) => list.map(
    (item) => (item.key === key ? { ...item, ...patch } : item)));
  const start = (item) => {
    const upload = uploadAsset(item.file, (sent, total) => update(item.key, { sent, total }));
    running.current = { key: item.key, abort: upload.abort };
    update(item.key, { state: 'uploading', sent: 0, total: item.size });
    upload.promise
      .then((asset) => {
        update(item.key, { state: 'done', asset, file: null });
        onUploaded(asset);
      })
      .catch((error) => update(item.key, error.cancelled ? { state: 'cancelled', file: null }
        : { state: 'failed', file: null, ...uploadRefusal(item.name, error) }))
      .finally(() => {
        running.current = null;
        setItems((list) => [...list]);  // the next one in line starts (effect below)
      });
  };
  useEffect(() => {
    if (running.current) return;
    const next = items.find((item) => item.state === 'waiting');
    if (next) start(next);
  }, [items]);
  const add = (files) => setItems((list) => [...list, ...files.map((file) => ({
    key: nextKey++, file, name: file.name, size: file.size, state: 'waiting', sent: 0,
    total: file.size }))]);
  const cancel = (item) => {
    if (running.current?.key === item.key) running.current.abort();
    else update(item.key, { state: 'cancelled', file: null });
  };
  const finished = items.filter((item) => !['waiting', 'uploading'].includes(item.state));
  const active = items.length - finished.length;
  return html`
    <section class="panel" aria-labelledby="upload-title">
      <h2 id="upload-title">Upload</h2>
      <${DropZone} testid="asset-drop" accept=${ACCEPT}
        title=${active > 0 ? `Uploading ${active} file${active === 1 ? '' : 's'}…`
          : 'Drop images or video files here'}
        help="Stills, logos and lower thirds (PNG, JPEG) and video clips (MP4). Several at once: they go up one after the other."
        button="Choose files…" onFiles=${add} />
      ${items.length > 0 && html`
        <ul class="uploads" aria-live="polite" data-testid="upload-queue">
          ${items.map((item) => html`<${QueueItem} key=${item.key} item=${item} cancel=${cancel} />`)}
        </ul>`}
      ${finished.length > 0 && html`
        <button type="button" class="btn btn-small" onClick=${() => setItems(
          (list) => list.filter((item) => ['waiting', 'uploading'].includes(item.state)))}>
          Clear finished uploads</button>`}
    </section>`;
}
