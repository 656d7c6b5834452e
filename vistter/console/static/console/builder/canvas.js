// The builder's canvas: vis-timeline with a group per track and an item per cue. It keeps
// no show of its own: every drag, drop and resize becomes one builder edit (state.js), and
// the timeline is redrawn from the builder's document after each change (sync()).
import { useEffect, useRef } from 'preact/hooks';
import { html } from '../html.js';
// vis-timeline's peer build (it injects no <style>: its sheet is builder.css's @import);
// DataSet and moment come from the modules it imports itself (index.html's import map).
import { Timeline } from '../../vendor/vis-timeline/vis-timeline-graph2d.min.mjs';
import { DataSet } from 'vis-data/peer/esm/vis-data.js';
import moment from 'moment';
import { findCue, findTrack, roundTime } from './state.js';
import { groupsOf, itemsOf, cueElement, trackElement } from './blocks.js';
import { toDate, toSeconds, axisFormat, formatClock } from './timeaxis.js';
import { snapEdges, snapSeconds, nearestEdge } from './snap.js';
import { addCueAt } from './adding.js';
import { CanvasBar } from './canvasbar.js';

const MIN_WINDOW_MS = 2000;

// Put `list` into a vis DataSet, touching only what changed since the last call (`cache`:
// id -> the JSON last written).
function diffInto(dataset, list, cache) {
  const wanted = new Map(list.map((entry) => [entry.id, entry]));
  const gone = [...cache.keys()].filter((id) => !wanted.has(id));
  if (gone.length) dataset.remove(gone);
  for (const id of gone) cache.delete(id);
  const changed = [];
  for (const [id, entry] of wanted) {
    const text = JSON.stringify(entry);
    if (cache.get(id) !== text) {
      changed.push(entry);
      cache.set(id, text);
    }
  }
  if (changed.length) dataset.update(changed);
}

function timelineOptions(builder, handlers) {
  const seconds = Number(builder.timeline.duration);
  return {
    moment: (date) => moment(date).utc(),
    start: toDate(0), end: toDate(seconds), min: toDate(0), max: toDate(seconds),
    zoomMin: MIN_WINDOW_MS, zoomMax: Math.max(seconds * 1000, MIN_WINDOW_MS),
    format: axisFormat(builder.timeline.fps || 30), showMajorLabels: false,
    showCurrentTime: false, orientation: { axis: 'top', item: 'top' },
    stack: false, multiselect: true, selectable: true, groupOrder: 'order',
    // No per-block delete cross: on a short block it covers the next one. Delete is the
    // key and the toolbar button.
    editable: { add: true, updateTime: true, updateGroup: true, remove: false,
      overrideItems: false },
    itemsAlwaysDraggable: { item: true, range: true },
    margin: { item: { horizontal: 0, vertical: 8 }, axis: 6 },
    minHeight: 200, maxHeight: 520, verticalScroll: true, zoomKey: 'ctrlKey',
    horizontalScroll: true, tooltip: { followMouse: true, overflowMethod: 'flip', delay: 300 },
    template: (item) => cueElement(item),
    groupTemplate: (group) => (group ? trackElement(group) : ''),
    ...handlers,
  };
}

// The moving and resizing rules, applied while a block is dragged and when it is dropped:
// inside the show, at least one frame long, on a track of its own kind, and an edge that
// comes near another cue's edge (or the playhead) sticks to it.
// Returns the item as it may be, with `seconds` {start, end} and `refused` (words) when it
// was dragged onto a track of the other kind.
function settle(builder, item, edges, secondsPerPixel) {
  const found = findCue(builder.doc, item.id);
  if (!found) return null;
  const cue = found.cue;
  const show = Number(builder.timeline.duration);
  const frame = 1 / (builder.timeline.fps || 30);
  let start = toSeconds(item.start);
  let end = toSeconds(item.end);
  const resized = Math.abs((end - start) - cue.duration) > 0.0015;
  const target = findTrack(builder.doc, item.group);
  let group = item.group;
  let refused = null;
  if (!target || target.kind !== found.kind) {
    if (target) {
      refused = `${found.kind === 'video' ? 'A video' : 'An overlay'} cue stays on `
        + `${found.kind === 'video' ? 'the Video track' : 'an Overlay track'}.`;
    }
    group = found.track.track_id;
  }
  if (resized) {
    start = Math.max(0, start);
    end = Math.min(show, end);
    if (end - start < frame) {
      if (Math.abs(start - cue.start_time) > 0.0015) start = end - frame; else end = start + frame;
    }
  } else {
    const length = cue.duration;
    if (!edges.includes(start)) {
      const edge = nearestEdge(start + length, edges, secondsPerPixel);
      if (edge !== null) start = edge - length;
    }
    start = Math.min(Math.max(0, start), Math.max(0, show - length));
    end = start + length;
  }
  start = roundTime(start);
  end = roundTime(end);
  return { ...item, group, start: toDate(start), end: toDate(end), seconds: { start, end },
    refused };
}

export function Canvas({ builder, context, say }) {
  const frame = useRef(null);
  const view = useRef(null);
  const contextRef = useRef(context);
  contextRef.current = context;

  useEffect(() => {
    const items = new DataSet();
    const groups = new DataSet();
    const itemCache = new Map();
    const groupCache = new Map();
    const moving = new Set();  // ids of the blocks being dragged now
    const refusals = new Map();  // id -> why a block dragged now cannot go where it was
    let pending = [];
    let shape = null;  // duration / fps the options were last set for
    let timeline = null;

    const secondsPerPixel = () => {
      const span = timeline.getWindow();
      const width = timeline.body.domProps.center.width || 1;
      return (span.end - span.start) / 1000 / width;
    };
    // While blocks are dragged, the selection moves with them: their own edges are no
    // targets. A drop from the palette moves nothing, so every cue's edges count.
    const edges = () => snapEdges(builder.doc, builder.playhead,
      moving.size ? new Set([...builder.selected(), ...moving]) : new Set());
    const fps = () => builder.timeline.fps || 30;

    const flush = () => {
      const changes = pending;
      pending = [];
      moving.clear();
      refusals.clear();
      if (!changes.length) return;
      const resized = changes.some((change) => {
        const cue = findCue(builder.doc, change.id)?.cue;
        return cue && Math.abs(cue.duration - change.duration) > 0.0015;
      });
      const label = `${resized ? 'Resize' : 'Move'} ${changes.length === 1 ? 'cue' : `${changes.length} cues`}`;
      const refused = changes.find((change) => change.refused)?.refused;
      if (builder.moveCues(changes, label)) {
        const first = changes[0];
        say(`${label}: ${formatClock(first.start_time)} to ${formatClock(first.start_time + first.duration)}.`
          + `${refused ? ` ${refused}` : ''}`);
      } else if (refused) {
        say(refused);
      }
    };

    const handlers = {
      snap: (date) => toDate(snapSeconds(toSeconds(date),
        { edges: edges(), secondsPerPixel: secondsPerPixel(), fps: fps() })),
      onMoving: (item, callback) => {
        moving.add(item.id);
        const settled = settle(builder, item, edges(), secondsPerPixel());
        if (!settled) { callback(null); return; }
        const { seconds: _s, refused, ...data } = settled;
        if (refused) refusals.set(item.id, refused);
        callback(data);
      },
      onMove: (item, callback) => {
        const settled = settle(builder, item, edges(), secondsPerPixel());
        if (!settled) { callback(null); return; }
        const { seconds, refused, ...data } = settled;
        pending.push({ id: item.id, start_time: seconds.start,
          duration: roundTime(seconds.end - seconds.start), trackId: data.group,
          refused: refused || refusals.get(item.id) });
        if (pending.length === 1) queueMicrotask(flush);
        callback(data);
      },
      onAdd: (item, callback) => {
        callback(null);  // the builder adds it; sync() draws it
        if (!item.kind) {
          say('Drag a cue from the palette onto a track, or press it there to add it at the playhead.');
          return;
        }
        const added = addCueAt(builder, item.kind, item.group, toSeconds(item.start),
          contextRef.current, item.options || {});
        if (added.refused) say(added.refused);
        else say(`Added ${item.content} at ${formatClock(added.cue.start_time)} on ${added.track.kind === 'video' ? 'the Video track' : 'an Overlay track'}.`);
      },
    };

    const sync = () => {
      const timelineShape = `${builder.timeline.duration}/${builder.timeline.fps}`;
      if (timelineShape !== shape) {
        const seconds = Number(builder.timeline.duration);
        timeline.setOptions({ max: toDate(seconds), zoomMax: Math.max(seconds * 1000, MIN_WINDOW_MS),
          format: axisFormat(fps()) });
        if (shape !== null) timeline.setWindow(toDate(0), toDate(seconds), { animation: false });
        shape = timelineShape;
      }
      const list = itemsOf(builder, contextRef.current);
      const wanted = new Set(list.map((item) => item.id));
      const gone = [...itemCache.keys()].filter((id) => !wanted.has(id));
      if (gone.length) { items.remove(gone); gone.forEach((id) => itemCache.delete(id)); }
      diffInto(groups, groupsOf(builder), groupCache);
      diffInto(items, list, itemCache);
      const selection = builder.selected();
      if (JSON.stringify(selection) !== JSON.stringify(timeline.getSelection())) {
        timeline.setSelection(selection);
      }
      timeline.setCustomTime(toDate(builder.playhead), 'playhead');
      timeline.setCustomTimeMarker(formatClock(builder.playhead), 'playhead', false);
    };

    timeline = new Timeline(frame.current, items, groups, timelineOptions(builder, handlers));
    // vis-timeline stays hidden until a draw after its first 'rangechanged' (200 ms after
    // it opens on the show's window); nothing may draw by then, so draw once it has come.
    const reveal = () => {
      timeline.off('rangechanged', reveal);
      timeline.redraw();
    };
    timeline.on('rangechanged', reveal);
    timeline.addCustomTime(toDate(builder.playhead), 'playhead');
    // Zoom keeps the playhead in the middle of the view (as far as the show's ends allow).
    const zoom = (factor) => {
      const show = Number(builder.timeline.duration);
      const span = timeline.getWindow();
      const seconds = Math.min(show, Math.max(MIN_WINDOW_MS / 1000,
        ((span.end - span.start) / 1000) * factor));
      const from = Math.min(Math.max(0, builder.playhead - seconds / 2), show - seconds);
      timeline.setWindow(toDate(from), toDate(from + seconds), { animation: false });
    };
    view.current = {
      zoomIn: () => zoom(0.5),
      zoomOut: () => zoom(2),
      whole: () => timeline.setWindow(toDate(0), toDate(Number(builder.timeline.duration)),
        { animation: false }),
      show: (from, to) => timeline.setWindow(toDate(from), toDate(to), { animation: false }),
      window: () => { const w = timeline.getWindow(); return [toSeconds(w.start), toSeconds(w.end)]; },
      sync,
      timeline,
    };
    sync();

    timeline.on('select', ({ items: ids }) => builder.select(ids));
    timeline.on('timechanged', ({ id, time }) => {
      if (id !== 'playhead') return;
      builder.setPlayhead(Math.round(toSeconds(time) * fps()) / fps());
      sync();
    });
    timeline.on('click', ({ what, time }) => {
      if ((what === 'axis' || what === 'background') && time) {
        builder.setPlayhead(Math.round(toSeconds(time) * fps()) / fps());
      }
    });
    // The track buttons inside vis-timeline's labels, and Enter on a focused block.
    const element = frame.current;
    const onClick = (event) => {
      const control = event.target.closest('[data-track-action]');
      if (!control) return;
      event.stopPropagation();
      const id = control.dataset.trackId;
      const action = control.dataset.trackAction;
      if (action === 'up') builder.moveTrack(id, +1);
      if (action === 'down') builder.moveTrack(id, -1);
      if (action === 'on' || action === 'off') builder.setTrackEnabled(id, action === 'on');
      if (action === 'remove') {
        const count = findTrack(builder.doc, id)?.track.cues.length || 0;
        builder.removeTrack(id);
        say(`Removed the track${count ? ` and its ${count} cue${count === 1 ? '' : 's'}` : ''}. Undo brings it back.`);
      }
    };
    const onKey = (event) => {
      const block = event.target.closest?.('.cue-body');
      if (!block || (event.key !== 'Enter' && event.key !== ' ')) return;
      event.preventDefault();
      builder.select([block.dataset.cueId], { toggle: event.ctrlKey || event.metaKey || event.shiftKey });
    };
    element.addEventListener('click', onClick, true);
    element.addEventListener('keydown', onKey);
    const unsubscribe = builder.subscribe(sync);
    return () => {
      unsubscribe();
      element.removeEventListener('click', onClick, true);
      element.removeEventListener('keydown', onKey);
      // vis-timeline's peer build can meet its own DOM already detached when the page goes
      // away (it reads a null element); the canvas is gone either way.
      try { timeline.destroy(); } catch (error) { /* nothing left to tidy */ }
      view.current = null;
    };
  }, [builder]);

  // Names of cameras and assets arrive after the first draw: redraw the labels then.
  useEffect(() => { view.current?.sync(); }, [context]);

  return html`
    <div class="builder-canvas">
      <${CanvasBar} builder=${builder} view=${view} />
      <div class="builder-timeline" ref=${frame} data-testid="builder-timeline"
           aria-label="Tracks and cues: drag a block to move it, drag its edges to change its length"
           role="region"></div>
    </div>`;
}
