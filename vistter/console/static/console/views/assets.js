// The assets page: the stills, logos and video clips timelines use, each with its thumbnail,
// type, size, dimensions, duration and the timelines that use it; upload more (upload.js)
// and delete one, which the appliance refuses while a stored timeline uses it (the refusal
// names those timelines).
import { useEffect, useState } from 'preact/hooks';
import { html } from '../html.js';
import { del } from '../api.js';
import { bytes, duration } from '../format.js';
import { Problem } from './problem.js';
import { Confirm } from './confirm.js';
import { UploadQueue } from './upload.js';
import { asProblem, readAssets } from './library_rows.js';

const RELOAD_MS = 15000;
const KINDS = { image: 'Image', video: 'Video', audio: 'Audio' };

function typeWords(row) {
  const kind = KINDS[row.kind] || (row.kind ? row.kind[0].toUpperCase() + row.kind.slice(1)
    : 'File');
  const format = row.mime.split('/')[1]?.replace(/^x-/, '').toUpperCase();
  return format ? `${kind} (${format})` : kind;
}

function AssetThumb({ row }) {
  const [broken, setBroken] = useState(false);
  if (!row.thumbnail || broken) {
    return html`<span class="asset-thumb asset-thumb-none" aria-hidden="true">
      ${KINDS[row.kind] || 'File'}</span>`;
  }
  return html`<img class="asset-thumb" src=${row.thumbnail} alt="" loading="lazy"
    data-testid="asset-thumb" onError=${() => setBroken(true)} />`;
}

function UsedBy({ usedBy }) {
  if (usedBy == null) return html`<span class="muted">—</span>`;
  if (usedBy.length === 0) return html`<span class="muted">not used</span>`;
  return html`<ul class="plain used-by">${usedBy.map((timeline) => html`
    <li><a href=${`#/builder/${timeline.id}`}>${timeline.name}</a></li>`)}</ul>`;
}

function AssetRow({ row, confirming, setConfirming, remove, busy, highlight }) {
  const size = row.width && row.height ? `${row.width} × ${row.height}` : '—';
  const seconds = row.kind === 'image' ? 'still' : duration(row.seconds);
  const inUse = row.usedBy?.length > 0;
  return html`
    <tr data-testid=${`asset-${row.id}`} class=${highlight ? 'row-new' : ''}>
      <td data-label="Preview" class="cell-thumb"><${AssetThumb} row=${row} /></td>
      <td data-label="Name" class="cell-name">
        <strong data-testid="asset-name">${row.name}</strong>
        <div class="small muted">${row.path}</div>
      </td>
      <td data-label="Type">${typeWords(row)}</td>
      <td data-label="Size" class="num">${bytes(row.size)}</td>
      <td data-label="Dimensions" class="num" data-testid="asset-dimensions">${size}</td>
      <td data-label="Duration" class="num">${seconds}</td>
      <td data-label="Used by" data-testid="asset-used-by"><${UsedBy} usedBy=${row.usedBy} /></td>
      <td data-label="Actions" class="cell-actions">
        ${confirming
          ? html`<${Confirm} label=${`Delete ${row.name}?`} yes="Yes, delete it" busy=${busy}
              question=${inUse ? `Delete ${row.name}? The appliance refuses while a timeline uses it.`
                : `Delete ${row.name}? The file is removed from the appliance.`}
              onYes=${() => remove(row)} onNo=${() => setConfirming(null)} />`
          : html`<button type="button" class="btn btn-small btn-danger" disabled=${busy}
              onClick=${() => setConfirming(row.id)} aria-label=${`Delete ${row.name}`}>
              Delete</button>`}
      </td>
    </tr>`;
}

function EmptyAssets() {
  return html`
    <div class="empty" data-testid="assets-empty">
      <p><strong>No assets yet.</strong> Assets are the pictures and clips a timeline shows:
        a still between cameras, a logo in a corner, a lower third, a video clip.</p>
      <p>Drop image files (PNG, JPEG) or video files (MP4) on the box above, or use
        <em>Choose files…</em>. Then pick them in the builder.</p>
    </div>`;
}

export function AssetsPage() {
  const [rows, setRows] = useState(null);
  const [readProblem, setReadProblem] = useState(null);
  const [confirming, setConfirming] = useState(null);
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState(null);
  const [notice, setNotice] = useState(null);
  const [highlight, setHighlight] = useState(null);
  const reload = async () => {
    try {
      setRows(await readAssets());
      setReadProblem(null);
    } catch (error) {
      setReadProblem(asProblem('Reading the assets', error));
    }
  };
  useEffect(() => {
    reload();
    const timer = setInterval(reload, RELOAD_MS);
    return () => clearInterval(timer);
  }, []);
  const remove = async (row) => {
    setBusy(true);
    setProblem(null);
    setNotice(null);
    try {
      await del(`/api/assets/${row.id}`);
      setNotice(`Deleted ${row.name}.`);
    } catch (error) {
      // in use (409): say so in words, naming the timelines as this page lists them
      const users = row.usedBy?.map((timeline) => `“${timeline.name}”`).join(', ');
      const refusal = error.status === 409 && users
        ? { ...error, problem: `${row.name} is used by ${users}, so it is kept: a timeline `
            + 'that uses it would have nothing to show there.' }
        : error;
      setProblem(asProblem(`Delete ${row.name}`, refusal));
    } finally {
      setConfirming(null);
      setBusy(false);
      await reload();
    }
  };
  const uploaded = (asset) => {
    setHighlight(asset?.id ?? null);
    reload();
  };
  return html`
    <${UploadQueue} onUploaded=${uploaded} />
    <section class="panel" aria-labelledby="assets-title">
      <h2 id="assets-title">Assets</h2>
      ${problem && html`<div data-testid="assets-problem">
        <${Problem} problem=${problem} onDismiss=${() => setProblem(null)} /></div>`}
      ${notice && html`<p class="notice" role="status" data-testid="assets-notice">${notice}</p>`}
      ${readProblem && html`<${Problem} problem=${readProblem} />`}
      ${rows == null && !readProblem && html`<p class="muted">Loading the assets…</p>`}
      ${rows != null && rows.length === 0 && html`<${EmptyAssets} />`}
      ${rows != null && rows.length > 0 && html`
        <table class="rows assets-table" data-testid="assets-table">
          <caption class="sr-only">Stored assets</caption>
          <thead><tr>
            <th scope="col"><span class="sr-only">Preview</span></th><th scope="col">Name</th>
            <th scope="col">Type</th><th scope="col">Size</th><th scope="col">Dimensions</th>
            <th scope="col">Duration</th><th scope="col">Used by</th>
            <th scope="col"><span class="sr-only">Actions</span></th>
          </tr></thead>
          <tbody>${rows.map((row) => html`
            <${AssetRow} key=${row.id} row=${row} confirming=${confirming === row.id}
              setConfirming=${setConfirming} remove=${remove} busy=${busy}
              highlight=${row.id === highlight} />`)}
          </tbody>
        </table>`}
    </section>`;
}
