// The builder's edit buttons: undo / redo (named after the step they undo), copy, paste,
// delete, add a track. Each has the keyboard shortcut in its title.
import { html } from '../html.js';
import { useBuilder } from './hooks.js';

export function EditButtons({ builder, say }) {
  useBuilder(builder);
  const count = builder.selected().length;
  const plural = (n) => `${n} cue${n === 1 ? '' : 's'}`;
  const run = (done) => () => { const text = done(); if (text) say(text); };
  return html`
    <span class="toolbar-group">
      <button type="button" class="btn btn-small" disabled=${!builder.canUndo}
              title=${builder.canUndo ? `Undo ${builder.undoLabel} (Ctrl+Z)` : 'Nothing to undo'}
              onClick=${run(() => { const l = builder.undoLabel; return builder.undo() && `Undid: ${l}.`; })}>Undo</button>
      <button type="button" class="btn btn-small" disabled=${!builder.canRedo}
              title=${builder.canRedo ? `Redo ${builder.redoLabel} (Ctrl+Shift+Z)` : 'Nothing to redo'}
              onClick=${run(() => { const l = builder.redoLabel; return builder.redo() && `Redid: ${l}.`; })}>Redo</button>
    </span>
    <span class="toolbar-group">
      <button type="button" class="btn btn-small" disabled=${!count} title="Copy the selected cues (Ctrl+C)"
              onClick=${run(() => { const n = builder.copy(); return n && `Copied ${plural(n)}.`; })}>Copy</button>
      <button type="button" class="btn btn-small" disabled=${!builder.canPaste}
              title="Paste the copied cues at the playhead (Ctrl+V)"
              onClick=${run(() => { const ids = builder.paste(); return ids.length && `Pasted ${plural(ids.length)} at the playhead.`; })}>Paste</button>
      <button type="button" class="btn btn-small btn-danger" disabled=${!count}
              title="Delete the selected cues (Delete)" aria-label=${count ? `Delete ${plural(count)}` : 'Delete'}
              onClick=${run(() => builder.deleteCues() && `Deleted ${plural(count)}.`)}>Delete</button>
    </span>
    <span class="toolbar-group">
      <button type="button" class="btn btn-small" title="A new overlay track, drawn above the others"
              onClick=${run(() => builder.addTrack() && 'Added an overlay track on top.')}>Add overlay track</button>
    </span>
    <span class="toolbar-count muted" aria-live="polite">${count ? `${plural(count)} selected` : 'Nothing selected'}</span>`;
}
