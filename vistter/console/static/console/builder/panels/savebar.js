// Save to the library. A show with problems cannot be saved (the server would refuse it, and
// it must never replace a good one): Save is disabled and says why; the show can still be
// downloaded as a file. Two tabs on one timeline: the later save gets a conflict (412) and a
// choice: reload theirs, or save mine as a copy. (Leaving with unsaved changes: page.js asks.)
import { useState } from 'preact/hooks';
import { html } from '../../html.js';
import { useBuilder } from '../hooks.js';
import { reloadStored, saveCopy, saveShow } from './saving.js';

export const CONFLICT = 'Someone saved this timeline after you opened it (in another tab or on '
  + 'another computer). Nothing was overwritten: your changes are only in this page.';

// Why the show cannot be saved now, or null.
export function saveRefusal(builder) {
  const count = builder.problems.length;
  if (!count) return null;
  return `Cannot save: ${count === 1 ? 'there is 1 problem' : `there are ${count} problems`} to fix `
    + 'first (see Problems). A timeline with problems never replaces a good one.';
}

function download(builder) {
  const doc = builder.output();
  const blob = new Blob([`${JSON.stringify(doc, null, 2)}\n`], { type: 'application/json' });
  const link = document.createElement('a');
  link.href = URL.createObjectURL(blob);
  link.download = `${String(doc.timeline.id).replace(/[^A-Za-z0-9._-]+/g, '_')}.timeline.json`;
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}

// session: {recordId, outcome, busy, setBusy, run} (see index.js).
export function SaveBar({ builder, session }) {
  useBuilder(builder);
  const { recordId, outcome, busy } = session;
  const refusal = saveRefusal(builder);
  const [confirmReload, setConfirmReload] = useState(false);
  const status = recordId === null ? 'Not saved yet'
    : builder.dirty ? 'Unsaved changes' : 'All changes saved';
  const act = (what) => async () => {
    setConfirmReload(false);
    await session.run(what);
  };
  return html`
    <section class="panel builder-panel save-bar" aria-label="Save" data-testid="save-bar">
      <div class="save-row">
        <button type="button" class="btn btn-go" data-testid="save" disabled=${Boolean(refusal) || busy !== null
          || (recordId !== null && !builder.dirty)} onClick=${act(() => saveShow(builder, recordId))}>
          ${busy === 'save' ? 'Saving…' : 'Save'}</button>
        <span class="save-status" data-testid="save-status" role="status">${status}</span>
        <button type="button" class="btn btn-small" data-testid="download" onClick=${() => download(builder)}>
          Download a copy</button>
      </div>
      ${refusal && html`<p class="save-refusal" data-testid="save-refusal">${refusal}</p>`}
      ${outcome?.outcome === 'conflict' && html`
        <div class="conflict" role="alert" data-testid="conflict">
          <p><strong>This timeline was changed elsewhere.</strong> ${CONFLICT}</p>
          <div class="buttons">
            ${confirmReload ? html`
              <button type="button" class="btn btn-danger" data-testid="conflict-reload-confirm"
                onClick=${act(() => reloadStored(builder, recordId))}>Yes, drop my changes and load theirs</button>
              <button type="button" class="btn" onClick=${() => setConfirmReload(false)}>Keep mine</button>`
            : html`
              <button type="button" class="btn" data-testid="conflict-reload" onClick=${() => setConfirmReload(true)}>
                Reload theirs</button>
              <button type="button" class="btn btn-go" data-testid="conflict-copy" disabled=${Boolean(refusal)}
                onClick=${act(() => saveCopy(builder))}>Save mine as a copy</button>`}
          </div>
        </div>`}
      ${outcome?.outcome === 'refused' && html`
        <div class="problem" role="alert" data-testid="save-problem">
          <div class="problem-text"><strong>Not saved.</strong> ${outcome.error.problem}
            ${outcome.error.hint && html`<div>What to do: ${outcome.error.hint}</div>`}</div>
          ${outcome.error.status === 409 && html`<button type="button" class="btn" data-testid="save-copy"
            onClick=${act(() => saveCopy(builder))}>Save as a copy</button>`}
        </div>`}
      ${outcome?.outcome === 'invalid' && html`<p class="save-refusal" role="alert" data-testid="save-problem">
        Not saved: the appliance found problems (see Problems).</p>`}
      ${outcome?.outcome === 'saved' && outcome.note && html`<p class="muted" role="status"
        data-testid="save-note">${outcome.note}</p>`}
    </section>`;
}
