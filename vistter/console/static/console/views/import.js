// Import timeline files (the spec's JSON format, e.g. one exported from another appliance):
// each file's text goes as it is to POST /api/timelines/import, which validates it against
// this appliance's cameras and assets. A refused file stores nothing; its problems are
// listed one per field, each with what to do about it.
import { useState } from 'preact/hooks';
import { html } from '../html.js';
import { send } from '../library_api.js';
import { bytes } from '../format.js';
import { DropZone } from './dropzone.js';

// A timeline file is text of a few kilobytes; a file far larger is almost surely the wrong
// one (a video picked by mistake), and is not read into the page at all.
const MAX_TIMELINE_FILE = 16 * 1024 * 1024;

async function importFile(file) {
  if (file.size > MAX_TIMELINE_FILE) {
    return { file: file.name, ok: false, problems: [], hint: 'Choose the timeline\'s .json file.',
      problem: `${file.name} is ${bytes(file.size)}: far too large for a timeline file, `
        + 'which is text of a few kilobytes.' };
  }
  const text = await file.text();
  try {
    const { data } = await send('POST', '/api/timelines/import',
      { text, contentType: 'application/json' });
    return { file: file.name, ok: true, record: data };
  } catch (error) {
    return { file: file.name, ok: false, problem: error.problem ?? String(error),
      hint: error.hint || '', problems: error.problems || [], status: error.status };
  }
}

function FieldProblems({ problems }) {
  return html`
    <ul class="field-problems" data-testid="import-problems">
      ${problems.map((p) => html`
        <li data-testid="import-problem">
          <code class="field-path">${p.path || '(the whole file)'}</code>
          <span class="field-message">${p.message}</span>
          ${p.hint && html`<span class="field-hint">What to do: ${p.hint}</span>`}
        </li>`)}
    </ul>`;
}

function Report({ report }) {
  if (report.ok) {
    return html`
      <li class="import-ok" data-testid="import-ok">
        <strong>✓ Imported “${report.record?.name}”</strong> from ${report.file}.
      </li>`;
  }
  const many = report.problems.length;
  return html`
    <li class="import-failed" role="alert" data-testid="import-failed">
      <strong>✗ ${report.file} was not imported; nothing was stored.</strong>
      <div>${many > 0 ? `The timeline has ${many} problem${many === 1 ? '' : 's'}:`
        : report.problem}</div>
      ${many > 0 ? html`<${FieldProblems} problems=${report.problems} />`
        : report.hint && html`<div>What to do: ${report.hint}</div>`}
    </li>`;
}

export function ImportBox({ onImported }) {
  const [reports, setReports] = useState([]);
  const [busy, setBusy] = useState(false);
  const importAll = async (files) => {
    setBusy(true);
    const done = [];
    for (const file of files) {
      done.push(await importFile(file));  // one by one: the reports keep the files' order
      setReports([...done]);
    }
    setBusy(false);
    const imported = done.filter((report) => report.ok).map((report) => report.record);
    if (imported.length > 0) onImported(imported);
  };
  return html`
    <section class="panel" aria-labelledby="import-title">
      <h2 id="import-title">Import a timeline file</h2>
      <${DropZone} testid="import-drop" accept=".json,application/json" disabled=${busy}
        title=${busy ? 'Importing…' : 'Drop a timeline file (.json) here'}
        help="A timeline in the spec's JSON format, e.g. one exported from this page. It is checked against this appliance's cameras and assets before it is stored."
        button="Choose a file…" onFiles=${importAll} />
      ${reports.length > 0 && html`
        <ul class="import-reports" aria-live="polite">
          ${reports.map((report) => html`<${Report} report=${report} />`)}
        </ul>
        <button type="button" class="btn btn-small" onClick=${() => setReports([])}>
          Clear these messages</button>`}
    </section>`;
}
