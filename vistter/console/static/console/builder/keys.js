// The builder's keyboard: Delete, Ctrl+C / Ctrl+V, Ctrl+Z / Ctrl+Shift+Z (and Ctrl+Y),
// Ctrl+A, and the arrow keys to nudge the selected cues (a second; a frame with Shift).
// Keys typed into a field (the properties panel's inputs) are the field's own.
import { roundTime } from './state.js';

const TYPING = 'input, textarea, select, [contenteditable=""], [contenteditable="true"]';

// What each key does; returns true when it handled the key. `say` reports in words.
export function handleKey(builder, event, say) {
  if (event.target?.closest?.(TYPING)) return false;
  const command = event.ctrlKey || event.metaKey;
  const key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
  if (command && key === 'z') {
    const label = event.shiftKey ? builder.redoLabel : builder.undoLabel;
    if (event.shiftKey ? builder.redo() : builder.undo()) say(`${event.shiftKey ? 'Redid' : 'Undid'}: ${label}.`);
    return true;
  }
  if (command && key === 'y') {
    const label = builder.redoLabel;
    if (builder.redo()) say(`Redid: ${label}.`);
    return true;
  }
  if (command && key === 'c') {
    const count = builder.copy();
    if (count) say(`Copied ${count} cue${count === 1 ? '' : 's'}.`);
    return count > 0;
  }
  if (command && key === 'v') {
    const ids = builder.paste();
    if (ids.length) say(`Pasted ${ids.length} cue${ids.length === 1 ? '' : 's'} at the playhead.`);
    return true;
  }
  if (command && key === 'a') {
    const ids = [];
    for (const track of [builder.timeline.tracks.video, ...(builder.timeline.tracks.overlays || [])]) {
      for (const cue of track.cues || []) ids.push(cue.id);
    }
    builder.select(ids);
    return true;
  }
  if (!command && (key === 'Delete' || key === 'Backspace')) {
    const count = builder.selected().length;
    if (count && builder.deleteCues()) say(`Deleted ${count} cue${count === 1 ? '' : 's'}.`);
    return count > 0;
  }
  if (!command && (key === 'ArrowLeft' || key === 'ArrowRight') && builder.selected().length) {
    const fps = builder.timeline.fps || 30;
    const sign = key === 'ArrowLeft' ? -1 : 1;
    // A frame step lands on the frame grid (12 frames are 0.4 s, not 12 x 0.033 s).
    const moved = (start) => (event.shiftKey ? (Math.round(start * fps) + sign) / fps : start + sign);
    const show = Number(builder.timeline.duration);
    const cues = builder.selectedCues();
    const changes = cues.map(({ cue }) => ({ id: cue.id,
      start_time: roundTime(Math.min(Math.max(0, moved(cue.start_time)), show - cue.duration)) }));
    builder.moveCues(changes, cues.length === 1 ? 'Nudge cue' : `Nudge ${cues.length} cues`);
    return true;
  }
  return false;
}
