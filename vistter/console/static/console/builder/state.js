// The timeline builder's editing model: pure JavaScript, no DOM, no Preact (unit-tested
// with `node --test`, see tests/builder/state.test.mjs). The canvas (canvas.js) and the side
// panels (panels/*.js) read from it and change the show only through it.
//
//   const builder = createBuilder(doc, { etag });   // doc: the spec's {"timeline": {...}}
//   builder.doc                  the current document (deep-frozen: never mutate it)
//   builder.edit(label, fn)      fn(draft) mutates a deep copy (or returns a new document);
//                                one undo step named `label`; no-op (false) if nothing changed
//   builder.undo() / redo()      canUndo / canRedo, undoLabel / redoLabel ("Move cue")
//   builder.subscribe(fn)        fn(builder, change) after every change; returns unsubscribe.
//                                change.kind: 'edit' | 'undo' | 'redo' | 'load' | 'select' |
//                                'problems' | 'saved' | 'playhead' | 'clipboard'
//   builder.select(ids, {add, toggle}) / selected() / selectedCues()
//   builder.copy() / paste({at}) / canPaste   the clipboard holds copies of the selected cues
//   builder.dirty / markSaved(etag) / etag / load(doc, {etag})  (load resets the history)
//   builder.setProblems(list) / problems / problemsFor(cueId)   each problem may carry cue_id
//   builder.playhead / setPlayhead(seconds)
//   builder.output()             the document to validate, save and put on air: the current
//                                document without the tracks switched off (see below)
//
// The spec's document has no "enabled" flag on a track, and the server refuses unknown
// fields, so switching an overlay track off is kept here (undoable, with the document) and
// output() leaves that track out. A track switched off is therefore not saved.
//
// Helpers for panels: tracksOf(doc), findCue(doc, id), cueEnd(cue), nextCueId(doc),
// nextTrackId(doc), roundTime(seconds), DEFAULTS, newTimelineDocument(overrides).
// The palette's cue kinds (labels, defaults, which track each goes on) are in kinds.js.
// A Preact hook that re-renders on every change: useBuilder(builder) in hooks.js.
//
// Where the side panels plug in (page.js): the page loads `./panels/index.js` if it exists
// and renders each of these named exports it finds (all optional), every one a Preact
// component given { builder, timelineId, setTimelineId, say }:
//   Toolbar  -- in the toolbar after undo/redo/copy/paste/delete (Save, Put on air next...)
//   Side     -- the column right of the canvas (properties, settings, repeat...)
//   Below    -- under the canvas (validation problems, range preview...)
// timelineId is the library id in the address (#/builder/<id>) or null for a new show;
// setTimelineId(id) changes the address after a first save; say(text) shows a short
// message in the page's status line (role=status).

export const DEFAULTS = Object.freeze({
  duration: 1800, fps: 30, resolution: '1280x720', loop: true,
});
const HISTORY_LIMIT = 300;

// A new, empty show: the defaults above (or `overrides`), a video track, one overlay track.
export function newTimelineDocument(overrides = {}) {
  const stamp = overrides.id || `timeline_${Date.now().toString(36)}`;
  return {
    timeline: {
      id: stamp,
      name: overrides.name || 'New timeline',
      duration: overrides.duration ?? DEFAULTS.duration,
      fps: overrides.fps ?? DEFAULTS.fps,
      resolution: overrides.resolution || DEFAULTS.resolution,
      loop: overrides.loop ?? DEFAULTS.loop,
      tracks: {
        video: { track_id: 'video_main', type: 'video', cues: [] },
        overlays: [{ track_id: 'overlay_1', type: 'overlay', layer: 1, cues: [] }],
      },
    },
  };
}

// Seconds kept to the millisecond, so dragging never writes 12.000000000004.
export function roundTime(seconds) {
  return Math.round(Number(seconds) * 1000) / 1000;
}

export function cueEnd(cue) {
  return roundTime(cue.start_time + cue.duration);
}

// Every track, the video track first then the overlay tracks as written:
// { track, kind: 'video' | 'overlay', index } (index into overlays; -1 for video).
export function tracksOf(doc) {
  const tracks = doc.timeline.tracks;
  return [
    { track: tracks.video, kind: 'video', index: -1 },
    ...(tracks.overlays || []).map((track, index) => ({ track, kind: 'overlay', index })),
  ];
}

export function findTrack(doc, trackId) {
  return tracksOf(doc).find((entry) => entry.track.track_id === trackId) || null;
}

// { track, kind, cue, cueIndex } for the cue with this id, or null.
export function findCue(doc, cueId) {
  for (const entry of tracksOf(doc)) {
    const cueIndex = (entry.track.cues || []).findIndex((cue) => cue.id === cueId);
    if (cueIndex >= 0) return { ...entry, cue: entry.track.cues[cueIndex], cueIndex };
  }
  return null;
}

function allIds(doc) {
  const ids = new Set();
  for (const { track } of tracksOf(doc)) {
    ids.add(track.track_id);
    for (const cue of track.cues || []) ids.add(cue.id);
  }
  return ids;
}

function nextId(doc, prefix, taken = allIds(doc)) {
  let highest = 0;
  const pattern = new RegExp(`^${prefix}_(\\d+)$`);
  for (const id of taken) {
    const match = pattern.exec(id);
    if (match) highest = Math.max(highest, Number(match[1]));
  }
  return `${prefix}_${highest + 1}`;
}

export const nextCueId = (doc, taken) => nextId(doc, 'cue', taken);
export const nextTrackId = (doc) => nextId(doc, 'overlay');

function deepFreeze(value) {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze(value[key]);
  }
  return value;
}

const copyOf = (value) => JSON.parse(JSON.stringify(value));
const sameJson = (a, b) => JSON.stringify(a) === JSON.stringify(b);

function checkDocument(doc) {
  const timeline = doc && doc.timeline;
  if (!timeline || typeof timeline !== 'object' || !timeline.tracks || !timeline.tracks.video) {
    throw new TypeError('A timeline document is {"timeline": {..., "tracks": {"video": ...}}}.');
  }
}

// A snapshot of what undo restores: the document and the tracks switched off.
function snapshot(doc, disabled) {
  return deepFreeze({ doc: copyOf(doc), disabled: [...disabled].sort() });
}

export function createBuilder(initialDoc, { etag = null } = {}) {
  checkDocument(initialDoc);
  let current = snapshot(initialDoc, []);
  let saved = current;
  let savedEtag = etag;
  let undoStack = [];  // [{ label, state }] states before each edit
  let redoStack = [];
  let selection = [];
  let clipboard = [];  // [{ trackId, kind, cue }] copies, in start order
  let problems = [];
  let playhead = 0;
  const listeners = new Set();

  function notify(change) {
    for (const listener of [...listeners]) {
      try {
        listener(builder, change);
      } catch (error) {
        // One broken panel must not stop the others from hearing about the change.
        console.error('A builder subscriber failed:', error);
      }
    }
  }

  function pruneSelection() {
    const ids = allIds(current.doc);
    selection = selection.filter((id) => ids.has(id));
  }

  function restore(state) {
    current = state;
    pruneSelection();
  }

  const builder = {
    get doc() { return current.doc; },
    get timeline() { return current.doc.timeline; },
    get disabledTracks() { return current.disabled; },
    get canUndo() { return undoStack.length > 0; },
    get canRedo() { return redoStack.length > 0; },
    get undoLabel() { return undoStack.length ? undoStack[undoStack.length - 1].label : null; },
    get redoLabel() { return redoStack.length ? redoStack[redoStack.length - 1].label : null; },
    get dirty() { return !sameJson(current, saved); },
    get etag() { return savedEtag; },
    get problems() { return problems; },
    get playhead() { return playhead; },
    get canPaste() { return clipboard.length > 0; },
    get clipboard() { return clipboard; },

    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    // fn(draft, {disabled}) mutates the draft document (or returns a replacement); `disabled`
    // is a Set of the overlay track ids switched off, which fn may change as well.
    edit(label, fn) {
      const draft = copyOf(current.doc);
      const disabled = new Set(current.disabled);
      const returned = fn(draft, { disabled });
      const doc = returned === undefined ? draft : returned;
      checkDocument(doc);
      const next = snapshot(doc, disabled);
      if (sameJson(next, current)) return false;
      undoStack.push({ label, state: current });
      if (undoStack.length > HISTORY_LIMIT) undoStack = undoStack.slice(-HISTORY_LIMIT);
      redoStack = [];
      restore(next);
      notify({ kind: 'edit', label });
      return true;
    },

    undo() {
      const step = undoStack.pop();
      if (!step) return false;
      redoStack.push({ label: step.label, state: current });
      restore(step.state);
      notify({ kind: 'undo', label: step.label });
      return true;
    },

    redo() {
      const step = redoStack.pop();
      if (!step) return false;
      undoStack.push({ label: step.label, state: current });
      restore(step.state);
      notify({ kind: 'redo', label: step.label });
      return true;
    },

    // Replace the whole show (opened from the library, or reloaded after a conflict): the
    // history starts again and the loaded document counts as saved.
    load(doc, { etag: loadedEtag = null } = {}) {
      checkDocument(doc);
      current = snapshot(doc, []);
      saved = current;
      savedEtag = loadedEtag;
      undoStack = [];
      redoStack = [];
      selection = [];
      problems = [];
      notify({ kind: 'load' });
    },

    markSaved(newEtag = null) {
      saved = current;
      savedEtag = newEtag;
      notify({ kind: 'saved', etag: newEtag });
    },

    output() {
      const doc = copyOf(current.doc);
      if (current.disabled.length) {
        const off = new Set(current.disabled);
        doc.timeline.tracks.overlays = (doc.timeline.tracks.overlays || [])
          .filter((track) => !off.has(track.track_id));
      }
      return doc;
    },

    isTrackEnabled(trackId) {
      return !current.disabled.includes(trackId);
    },

    // --- selection -----------------------------------------------------------------------
    select(ids, { add = false, toggle = false } = {}) {
      const known = allIds(current.doc);
      const wanted = (Array.isArray(ids) ? ids : [ids]).filter((id) => known.has(id));
      let next;
      if (toggle) {
        next = [...selection];
        for (const id of wanted) {
          const at = next.indexOf(id);
          if (at >= 0) next.splice(at, 1); else next.push(id);
        }
      } else if (add) {
        next = [...selection, ...wanted.filter((id) => !selection.includes(id))];
      } else {
        next = [...new Set(wanted)];
      }
      if (sameJson(next, selection)) return;
      selection = next;
      notify({ kind: 'select' });
    },
    selected() { return [...selection]; },
    selectedCues() {
      return selection.map((id) => findCue(current.doc, id)).filter(Boolean);
    },

    // --- clipboard -----------------------------------------------------------------------
    copy() {
      const cues = builder.selectedCues()
        .map(({ track, kind, cue }) => ({ trackId: track.track_id, kind, cue: copyOf(cue) }))
        .sort((a, b) => a.cue.start_time - b.cue.start_time);
      if (!cues.length) return 0;
      clipboard = cues;
      notify({ kind: 'clipboard' });
      return cues.length;
    },

    // Paste the copied cues so that the earliest starts at `at` (default: the playhead);
    // each goes back to its own track, or to the first track of its kind if that is gone.
    // The pasted cues become the selection. Returns their ids.
    paste({ at = playhead } = {}) {
      if (!clipboard.length) return [];
      const offset = roundTime(Math.max(0, at) - clipboard[0].cue.start_time);
      const pasted = [];
      builder.edit(clipboard.length === 1 ? 'Paste cue' : `Paste ${clipboard.length} cues`,
        (draft) => {
          const taken = allIds(draft);
          for (const { trackId, kind, cue } of clipboard) {
            const entry = findTrack(draft, trackId)
              || tracksOf(draft).find((candidate) => candidate.kind === kind);
            if (!entry) continue;
            const id = nextCueId(draft, taken);
            taken.add(id);
            entry.track.cues.push({ ...copyOf(cue), id,
              start_time: roundTime(cue.start_time + offset) });
            pasted.push(id);
          }
        });
      builder.select(pasted);
      return pasted;
    },

    // --- problems from the server's validation (F3's panel sets them) --------------------
    setProblems(list) {
      problems = Array.isArray(list) ? list : [];
      notify({ kind: 'problems' });
    },
    problemsFor(cueId) {
      return problems.filter((problem) => problem && problem.cue_id === cueId);
    },

    setPlayhead(seconds) {
      const limit = Number(current.doc.timeline.duration) || 0;
      const next = roundTime(Math.min(Math.max(0, Number(seconds) || 0), limit));
      if (next === playhead) return;
      playhead = next;
      notify({ kind: 'playhead' });
    },

    // --- common edits (each one undo step) ------------------------------------------------
    addCue(trackId, cue) {
      let id = null;
      builder.edit(`Add ${cue.label || 'cue'}`, (draft) => {
        const entry = findTrack(draft, trackId);
        if (!entry) throw new RangeError(`There is no track ${trackId}.`);
        const { label: _label, ...plain } = cue;
        id = plain.id && !allIds(draft).has(plain.id) ? plain.id : nextCueId(draft);
        entry.track.cues.push({ ...plain, id });
      });
      if (id) builder.select([id]);
      return id;
    },

    // changes: [{ id, start_time?, duration?, trackId? }]: moved, resized or sent to another
    // track of the same kind, all in one undo step.
    moveCues(changes, label = 'Move cue') {
      return builder.edit(label, (draft) => {
        for (const change of changes) {
          const found = findCue(draft, change.id);
          if (!found) continue;
          const cue = found.cue;
          if (change.start_time !== undefined) cue.start_time = roundTime(change.start_time);
          if (change.duration !== undefined) cue.duration = roundTime(change.duration);
          if (change.trackId && change.trackId !== found.track.track_id) {
            const target = findTrack(draft, change.trackId);
            if (target && target.kind === found.kind) {
              found.track.cues.splice(found.cueIndex, 1);
              target.track.cues.push(cue);
            }
          }
        }
      });
    },

    deleteCues(ids = selection) {
      const doomed = new Set(ids);
      if (!doomed.size) return false;
      return builder.edit(doomed.size === 1 ? 'Delete cue' : `Delete ${doomed.size} cues`,
        (draft) => {
          for (const { track } of tracksOf(draft)) {
            track.cues = (track.cues || []).filter((cue) => !doomed.has(cue.id));
          }
        });
    },

    // A new overlay track on top of the others; returns its id.
    addTrack() {
      let id = null;
      builder.edit('Add track', (draft) => {
        const overlays = draft.timeline.tracks.overlays || (draft.timeline.tracks.overlays = []);
        id = nextTrackId(draft);
        const layer = Math.min(1000, overlays.reduce((top, t) => Math.max(top, t.layer || 1), 0) + 1);
        overlays.push({ track_id: id, type: 'overlay', layer, cues: [] });
      });
      return id;
    },

    removeTrack(trackId) {
      return builder.edit('Remove track', (draft, { disabled }) => {
        const overlays = draft.timeline.tracks.overlays || [];
        const at = overlays.findIndex((track) => track.track_id === trackId);
        if (at < 0) throw new RangeError('Only an overlay track can be removed.');
        overlays.splice(at, 1);
        disabled.delete(trackId);
      });
    },

    // Move an overlay track one layer up (+1, drawn above) or down (-1). Layers are then
    // renumbered 1..n in the new order, and the array keeps the same order as the layers.
    moveTrack(trackId, direction) {
      return builder.edit(direction > 0 ? 'Move track up' : 'Move track down', (draft) => {
        const overlays = [...(draft.timeline.tracks.overlays || [])]
          .sort((a, b) => (a.layer || 1) - (b.layer || 1));
        const at = overlays.findIndex((track) => track.track_id === trackId);
        const to = at + (direction > 0 ? 1 : -1);
        if (at < 0 || to < 0 || to >= overlays.length) return;
        [overlays[at], overlays[to]] = [overlays[to], overlays[at]];
        overlays.forEach((track, index) => { track.layer = index + 1; });
        draft.timeline.tracks.overlays = overlays;
      });
    },

    setTrackEnabled(trackId, enabled) {
      return builder.edit(enabled ? 'Switch track on' : 'Switch track off', (draft, { disabled }) => {
        if (!findTrack(draft, trackId) || findTrack(draft, trackId).kind !== 'overlay') {
          throw new RangeError('Only an overlay track can be switched off.');
        }
        if (enabled) disabled.delete(trackId); else disabled.add(trackId);
      });
    },
  };
  return builder;
}
