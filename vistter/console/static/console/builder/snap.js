// Where a dragged cue edge lands: on another cue's edge, the playhead, the start or the end
// of the show when it comes within a few pixels of one, else on a whole second (on a whole
// frame when the ruler is zoomed in so far that a frame is several pixels wide).
// Pure JavaScript (no DOM): the canvas gives it the edges and the ruler's scale.

import { tracksOf, cueEnd } from './state.js';

export const SNAP_PIXELS = 8;
const FRAME_PIXELS = 6;

// Every edge a cue may snap to, in seconds: other cues' starts and ends (all tracks), the
// playhead, 0 and the show's end. `skip` holds the ids of the cues being dragged.
export function snapEdges(doc, playhead, skip = new Set()) {
  const edges = new Set([0, Number(doc.timeline.duration), playhead]);
  for (const { track } of tracksOf(doc)) {
    for (const cue of track.cues || []) {
      if (skip.has(cue.id)) continue;
      edges.add(cue.start_time);
      edges.add(cueEnd(cue));
    }
  }
  return [...edges].sort((a, b) => a - b);
}

// The nearest edge within `pixels` of `seconds`, or null.
export function nearestEdge(seconds, edges, secondsPerPixel, pixels = SNAP_PIXELS) {
  let best = null;
  let distance = pixels * secondsPerPixel;
  for (const edge of edges) {
    const gap = Math.abs(edge - seconds);
    if (gap <= distance) {
      best = edge;
      distance = gap;
    }
  }
  return best;
}

// The grid a free edge rounds to: whole seconds, or frames when a frame is wide enough.
export function roundToGrid(seconds, secondsPerPixel, fps) {
  const frame = 1 / fps;
  if (frame / secondsPerPixel >= FRAME_PIXELS) {
    return Math.round(Math.round(seconds * fps) / fps * 1000) / 1000;
  }
  return Math.round(seconds);
}

// `seconds` snapped: an edge when near one, else the grid.
export function snapSeconds(seconds, { edges, secondsPerPixel, fps }) {
  const edge = nearestEdge(seconds, edges, secondsPerPixel);
  return edge !== null ? edge : roundToGrid(seconds, secondsPerPixel, fps);
}
