// The builder's document as vis-timeline sees it: a group per track, an item per cue.
// groupsOf / itemsOf are pure (they return plain objects); cueElement / trackElement build
// the DOM vis-timeline shows in a block and in a track's label (text only through
// textContent: a cue's text is never parsed as HTML).

import { tracksOf, cueEnd } from './state.js';
import { cueLabel, kindOf, ramps, KINDS } from './kinds.js';
import { toDate, formatClock, formatSpan } from './timeaxis.js';

// "Video", "Overlay 1", ... in the order drawn: overlays from the top layer down, then the
// video track at the bottom (what is drawn over what reads top to bottom, as in a video
// editor). Each: { id, order, kind, name, layer, enabled, cues, top, bottom }.
export function groupsOf(builder) {
  const doc = builder.doc;
  const overlays = tracksOf(doc).filter((entry) => entry.kind === 'overlay')
    .sort((a, b) => (b.track.layer || 1) - (a.track.layer || 1) || b.index - a.index);
  const groups = overlays.map((entry, order) => ({
    id: entry.track.track_id, order, kind: 'overlay', layer: entry.track.layer || 1,
    name: `Overlay ${entry.track.track_id.replace(/^overlay_/, '')}`,
    enabled: builder.isTrackEnabled(entry.track.track_id), cues: entry.track.cues.length,
    top: order === 0, bottom: order === overlays.length - 1,
  }));
  const video = doc.timeline.tracks.video;
  groups.push({ id: video.track_id, order: groups.length, kind: 'video', layer: 0,
    name: 'Video', enabled: true, cues: video.cues.length, top: true, bottom: true });
  return groups.map((group) => ({
    ...group, className: `track track-${group.kind}${group.enabled ? '' : ' track-off'}`,
    content: group.name,
  }));
}

// vis-timeline shows an item's title as HTML (sanitised); ours is text, so escape it.
const escapeHtml = (text) => text.replace(/[&<>"']/g,
  (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char]);

// A problem in words: its message and, when there is one, what to do about it.
export function problemText(problem) {
  return [problem.message || problem.problem, problem.hint].filter(Boolean).join(' ');
}

function blockTitle(cue, label, problems) {
  const lines = [label, `${formatClock(cue.start_time)} to ${formatClock(cueEnd(cue))}`
    + ` (${formatSpan(cue.duration)})`];
  const ramp = ramps(cue);
  if (ramp.transition && ramp.transition !== 'cut') {
    lines.push(`${ramp.transition} in over ${formatSpan(ramp.start)}`);
  }
  if (cue.action === 'show_overlay' && (ramp.start || ramp.end)) {
    lines.push(`fade in ${formatSpan(ramp.start)}, fade out ${formatSpan(ramp.end)}`);
  }
  for (const problem of problems) lines.push(`Problem: ${problemText(problem)}`);
  return lines.join('\n');
}

// One vis item per cue. The ramps (transition / fades) are CSS variables the stylesheet
// turns into a gradient at the block's edges.
export function itemsOf(builder, context = {}) {
  const items = [];
  for (const { track } of tracksOf(builder.doc)) {
    for (const cue of track.cues || []) {
      const problems = builder.problemsFor(cue.id);
      const label = cueLabel(cue, context);
      const ramp = ramps(cue);
      const percent = (seconds) => `${Math.min(50, (seconds / cue.duration) * 100).toFixed(2)}%`;
      const kind = kindOf(cue);
      items.push({
        id: cue.id, group: track.track_id, type: 'range',
        start: toDate(cue.start_time), end: toDate(cueEnd(cue)),
        content: label, label, kind,
        className: `cue cue-${kind}${problems.length ? ' cue-problem' : ''}`
          + `${ramp.start ? ' cue-ramp-in' : ''}${ramp.end ? ' cue-ramp-out' : ''}`
          + `${kind === 'camera' ? ` cue-camera-${(cue.params?.camera_id ?? 0) % 4}` : ''}`,
        style: `--ramp-in: ${percent(ramp.start)}; --ramp-out: ${percent(ramp.end)}`,
        title: escapeHtml(blockTitle(cue, label, problems)),
        words: blockTitle(cue, label, problems),
        problem: problems.map(problemText).join(' '),
        rampIn: ramp.start, rampOut: ramp.end, transition: ramp.transition || null,
      });
    }
  }
  return items;
}

// What vis-timeline draws inside a block (its `template` option).
export function cueElement(item) {
  const element = document.createElement('span');
  element.className = 'cue-body';
  element.dataset.cueId = item.id;
  element.dataset.trackId = item.group;
  element.setAttribute('role', 'button');
  element.setAttribute('aria-label', item.words.replace(/\n/g, '. '));
  element.tabIndex = 0;
  const kind = document.createElement('span');
  kind.className = 'cue-kind';
  kind.textContent = KINDS[item.kind]?.label || '';
  const text = document.createElement('span');
  text.className = 'cue-text';
  text.textContent = item.label;
  element.append(kind, text);
  if (item.transition && item.transition !== 'cut' && item.rampIn) {
    const mark = document.createElement('span');
    mark.className = 'cue-transition';
    mark.textContent = `${item.transition} ${formatSpan(item.rampIn)}`;
    element.append(mark);
  }
  if (item.problem) {
    const problem = document.createElement('span');
    problem.className = 'cue-problem-text';
    problem.textContent = item.problem;
    element.append(problem);
  }
  return element;
}

function button(action, track, text, label, disabled = false) {
  const element = document.createElement('button');
  element.type = 'button';
  element.className = 'track-btn';
  element.dataset.trackAction = action;
  element.dataset.trackId = track;
  element.textContent = text;
  element.title = label;
  element.setAttribute('aria-label', label);
  element.disabled = disabled;
  return element;
}

// A track's label: its name and layer, and buttons to reorder, switch off and remove it.
export function trackElement(group) {
  const element = document.createElement('div');
  element.className = 'track-label';
  element.dataset.trackId = group.id;
  const name = document.createElement('strong');
  name.textContent = group.name;
  const layer = document.createElement('span');
  layer.className = 'track-layer';
  layer.textContent = group.kind === 'video' ? 'picture (bottom)'
    : `layer ${group.layer}${group.top ? ' (top)' : ''}${group.enabled ? '' : ' · off'}`;
  element.append(name, layer);
  if (group.kind === 'overlay') {
    const tools = document.createElement('span');
    tools.className = 'track-tools';
    tools.append(
      button('up', group.id, '▲', `Move ${group.name} up a layer`, group.top),
      button('down', group.id, '▼', `Move ${group.name} down a layer`, group.bottom),
      button(group.enabled ? 'off' : 'on', group.id, group.enabled ? 'On' : 'Off',
        `${group.enabled ? 'Switch off' : 'Switch on'} ${group.name}`),
      button('remove', group.id, '✕', `Remove ${group.name}`),
    );
    tools.lastChild.classList.add('track-btn-danger');
    element.append(tools);
  }
  return element;
}
