// The library page: every stored timeline with its length, tracks, cues, last run and
// whether it is on air; search; and per timeline: open in the builder, load into the show,
// rename (If-Match: a rename never overwrites a change made elsewhere), clone, export and
// delete (refused while on air, in words; nothing is lost). Timeline files are imported
// below the list (import.js).
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from '../html.js';
import { del, post } from '../api.js';
import { isMissingRoute, send } from '../library_api.js';
import { duration } from '../format.js';
import { Problem } from './problem.js';
import { Confirm } from './confirm.js';
import { ImportBox } from './import.js';
import { asProblem, readTimelines, resultTone, resultWords, when } from './library_rows.js';

const RELOAD_MS = 10000;
const PENDING_RELOAD_MS = 1000;
const PENDING_READS = 15;

// PATCH {"name"} with the row's ETag; an appliance without PATCH gets the document back with
// the new name (PUT), under the ETag its GET answered.
async function renameTimeline(row, name) {
  const path = `/api/timelines/${row.id}`;
  let etag = row.etag;
  let record = null;
  if (!etag) {
    const read = await send('GET', path);
    record = read.data;
    etag = read.headers.get('etag');
  }
  const headers = etag ? { 'if-match': etag } : {};
  try {
    return (await send('PATCH', path, { json: { name }, headers })).data;
  } catch (error) {
    if (!isMissingRoute(error)) throw error;
  }
  record = record || (await send('GET', path)).data;
  const document = { ...record.document, timeline: { ...record.document.timeline, name } };
  return (await send('PUT', path, { json: document, headers })).data;
}

function RunCell({ run }) {
  if (!run) return html`<span class="muted">never run</span>`;
  const tone = resultTone(run.result);
  return html`
    <span class=${`run run-${tone}`}>${resultWords(run.result)}</span>
    <span class="small muted"> · ${when(run.started_at)}</span>`;
}

function NameForm({ label, initial, submit, cancel, busy, testid }) {
  const [value, setValue] = useState(initial);
  const field = useRef(null);
  useEffect(() => {
    field.current?.focus();
    field.current?.select();
  }, []);
  const onSubmit = (event) => {
    event.preventDefault();
    if (value.trim()) submit(value.trim());
  };
  return html`
    <form class="inline-form" onSubmit=${onSubmit} data-testid=${testid}
          onKeyDown=${(e) => e.key === 'Escape' && cancel()}>
      <label class="sr-only" for=${`${testid}-name`}>${label}</label>
      <input id=${`${testid}-name`} ref=${field} value=${value} maxlength="200" required
             aria-label=${label} onInput=${(e) => setValue(e.target.value)} />
      <button type="submit" class="btn btn-small" disabled=${busy}>${label}</button>
      <button type="button" class="btn btn-small" onClick=${cancel}>Cancel</button>
    </form>`;
}

function TimelineRow({ row, mode, setMode, act, busy, loaded, highlight }) {
  const name = row.name;
  // the version seen when the form opened is the one the new name is based on
  const open = (next) => setMode(next ? { id: row.id, kind: next, etag: row.etag } : null);
  const rename = async (value) => {
    const seen = { ...row, etag: mode?.etag ?? row.etag };
    await act(`Rename “${name}”`, () => renameTimeline(seen, value),
      (record) => `Renamed “${name}” to “${record?.name ?? value}”.`, null,
      'Nothing was overwritten. The list now shows the timeline as stored: rename it again '
      + 'if you still want to.');
    open(null);
  };
  const clone = (value) => act(`Clone “${name}”`,
    () => post(`/api/timelines/${row.id}/clone`, { name: value }),
    (record) => `Cloned “${name}” as “${record.name}”.`, (record) => record.id);
  const remove = async () => {
    await act(`Delete “${name}”`, () => del(`/api/timelines/${row.id}`),
      () => `Deleted “${name}”.`);
    open(null);  // refused or not, the question is answered
  };
  const load = () => act(`Load “${name}” into the show`,
    () => post('/api/show/load', { timeline_id: row.id }),
    () => `“${name}” is loaded into the show: GO LIVE on the Live page puts it on air.`, null,
    'Stop the show on the Live page first, then load this timeline: what is on air is '
    + 'never replaced without a Stop.');
  const editing = mode?.id === row.id ? mode.kind : null;
  return html`
    <tr class=${`${row.onAir ? 'row-on-air' : ''}${highlight ? ' row-new' : ''}`}
        data-testid=${`timeline-${row.id}`}>
      <td data-label="Name" class="cell-name">
        ${editing === 'rename'
          ? html`<${NameForm} label="Rename" initial=${name} busy=${busy} testid="rename-form"
              submit=${rename} cancel=${() => open(null)} />`
          : html`<strong data-testid="timeline-name-cell">${name}</strong>`}
        ${row.onAir && html` <span class="badge badge-live" data-testid="on-air-badge">ON AIR</span>`}
        ${!row.onAir && loaded && html` <span class="badge badge-active">LOADED</span>`}
        <div class="small muted">${row.key}${row.loop === true ? ' · loops' : ''}</div>
      </td>
      <td data-label="Duration" class="num">${duration(row.seconds)}</td>
      <td data-label="Tracks" class="num">${row.tracks ?? '—'}</td>
      <td data-label="Cues" class="num">${row.cues ?? '—'}</td>
      <td data-label="Last run" data-testid="last-run"><${RunCell} run=${row.lastRun} /></td>
      <td data-label="Actions" class="cell-actions">
        ${editing === 'clone' && html`<${NameForm} label="Clone" initial=${`${name} (copy)`}
            busy=${busy} testid="clone-form" submit=${clone} cancel=${() => open(null)} />`}
        ${editing === 'delete' && html`<${Confirm} label=${`Delete ${name}?`}
            question=${`Delete “${name}”? Its run history stays.`} yes="Yes, delete it"
            onYes=${remove} onNo=${() => open(null)} busy=${busy} />`}
        ${!editing && html`<div class="buttons">
          <a class="btn btn-small" href=${`#/builder/${row.id}`}
             aria-label=${`Open ${name} in the builder`}>Open in builder</a>
          <button type="button" class="btn btn-small" disabled=${busy} onClick=${load}
                  aria-label=${`Load ${name} into the show`}>Load into show</button>
          <button type="button" class="btn btn-small" disabled=${busy}
                  onClick=${() => open('rename')} aria-label=${`Rename ${name}`}>Rename</button>
          <button type="button" class="btn btn-small" disabled=${busy}
                  onClick=${() => open('clone')} aria-label=${`Clone ${name}`}>Clone</button>
          <a class="btn btn-small" href=${`/api/timelines/${row.id}/export`} download
             aria-label=${`Export ${name}`}>Export</a>
          <button type="button" class="btn btn-small btn-danger" disabled=${busy}
                  onClick=${() => open('delete')} aria-label=${`Delete ${name}`}>Delete</button>
        </div>`}
      </td>
    </tr>`;
}

function matches(row, query) {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  const text = `${row.name} ${row.key} ${row.description}`.toLowerCase();
  return words.every((word) => text.includes(word));
}

function EmptyLibrary() {
  return html`
    <div class="empty" data-testid="library-empty">
      <p><strong>The library is empty.</strong> A timeline says what goes on air and when:
        which camera, which still or video, which logo and lower third.</p>
      <ul>
        <li><a href="#/builder">Build one in the builder</a> and save it here, or</li>
        <li>import a timeline file (.json) below, for example one exported from another
          appliance.</li>
      </ul>
    </div>`;
}

export function LibraryPage({ state, controller }) {
  const [rows, setRows] = useState(null);
  const [readProblem, setReadProblem] = useState(null);
  const [query, setQuery] = useState('');
  const [mode, setMode] = useState(null);
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState(null);
  const [problem, setProblem] = useState(null);
  const [highlight, setHighlight] = useState(null);
  const reload = async () => {
    try {
      setRows(await readTimelines());
      setReadProblem(null);
    } catch (error) {
      setReadProblem(asProblem('Reading the library', error));
    }
  };
  useEffect(() => {
    reload();
    const timer = setInterval(reload, RELOAD_MS);
    return () => clearInterval(timer);
  }, []);
  const showState = state.show?.state;
  const loadedId = state.show?.timeline?.db_id ?? null;
  useEffect(() => {
    reload();
  }, [showState, loadedId]);
  // The show goes live a moment before its run is in the execution log: until the on-air row's
  // run says "on air now", read again every second rather than every ten.
  // (At most PENDING_READS times per change of the show: a show that stays on air with its run
  // ended, e.g. the slate between shows, goes back to the ten-second reads.)
  const pendingReads = useRef(0);
  useEffect(() => {
    pendingReads.current = 0;
  }, [showState, loadedId]);
  const runPending = Boolean(rows?.some((row) => row.onAir && row.lastRun?.result !== 'running'));
  useEffect(() => {
    if (!runPending || pendingReads.current >= PENDING_READS) return undefined;
    const timer = setTimeout(() => {
      pendingReads.current += 1;
      reload();
    }, PENDING_RELOAD_MS);
    return () => clearTimeout(timer);
  }, [runPending, rows]);

  // act(action, call, success(result) -> words, pick(result) -> id to highlight, conflict hint)
  const act = async (action, call, success, pick, conflict) => {
    setBusy(true);
    setProblem(null);
    setNotice(null);
    try {
      const result = await call();
      setMode(null);
      setNotice(success(result));
      setHighlight(pick ? pick(result) : null);
      controller.scheduleRefresh(50);
    } catch (error) {
      // a conflict (412: changed elsewhere; 409: the show's state) gets this page's advice
      const hint = error.status === 412 || error.status === 409 ? conflict : undefined;
      setProblem(asProblem(action, error, hint));
    } finally {
      setBusy(false);
      await reload();
    }
  };
  const imported = (records) => {
    setNotice(null);
    setProblem(null);
    setHighlight(records[records.length - 1]?.id ?? null);
    reload();
  };

  const shown = rows ? rows.filter((row) => matches(row, query)) : [];
  return html`
    <section class="panel library" aria-labelledby="library-title">
      <div class="library-head">
        <h2 id="library-title">Library</h2>
        <label class="search">
          <span class="sr-only">Search timelines</span>
          <input type="search" value=${query} placeholder="Search by name…"
                 aria-label="Search timelines" data-testid="library-search"
                 onInput=${(e) => setQuery(e.target.value)} />
        </label>
        <a class="btn btn-small" href="#/builder">New timeline</a>
      </div>
      ${problem && html`<div data-testid="library-problem">
        <${Problem} problem=${problem} onDismiss=${() => setProblem(null)} /></div>`}
      ${notice && html`<p class="notice" role="status" data-testid="library-notice">${notice}</p>`}
      ${readProblem && html`<${Problem} problem=${readProblem} />`}
      ${rows == null && !readProblem && html`<p class="muted">Loading the library…</p>`}
      ${rows != null && rows.length === 0 && html`<${EmptyLibrary} />`}
      ${rows != null && rows.length > 0 && shown.length === 0 && html`
        <p class="empty" data-testid="library-no-match">No timeline matches “${query}”.
          <button type="button" class="btn btn-small" onClick=${() => setQuery('')}>
            Show all</button></p>`}
      ${shown.length > 0 && html`
        <table class="rows library-table" data-testid="library-table">
          <caption class="sr-only">Stored timelines</caption>
          <thead><tr>
            <th scope="col">Name</th><th scope="col">Duration</th><th scope="col">Tracks</th>
            <th scope="col">Cues</th><th scope="col">Last run</th>
            <th scope="col"><span class="sr-only">Actions</span></th>
          </tr></thead>
          <tbody>${shown.map((row) => html`
            <${TimelineRow} key=${row.id} row=${row} mode=${mode} setMode=${setMode} act=${act}
              busy=${busy} loaded=${row.id === loadedId} highlight=${row.id === highlight} />`)}
          </tbody>
        </table>`}
    </section>
    <${ImportBox} onImported=${imported} />`;
}
