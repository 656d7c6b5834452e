// Adding a cue from the palette, by a drop on a track or by a click (the keyboard's way):
// where it goes and for how long. Pure JavaScript (no DOM); every change is one builder edit.

import { tracksOf, findTrack, cueEnd, roundTime } from './state.js';
import { KINDS, newCue, refusal } from './kinds.js';
import { formatClock } from './timeaxis.js';

// The new cue's length: the kind's own, cut short where the next cue on its track starts
// (so a drop into a gap fills the gap instead of overlapping) and at the show's end.
function fitted(cue, track, timelineSeconds) {
  const next = (track.cues || []).map((other) => other.start_time)
    .filter((start) => start > cue.start_time).sort((a, b) => a - b)[0];
  const limit = Math.min(next ?? Infinity, timelineSeconds) - cue.start_time;
  return { ...cue, duration: roundTime(Math.max(Math.min(cue.duration, limit), 0.001)) };
}

// Put a new cue of `kind` on track `trackId` at `start`. Returns { id } or { refused }
// (words for the operator).
export function addCueAt(builder, kind, trackId, start, context = {}, options = {}) {
  const entry = trackId ? findTrack(builder.doc, trackId) : null;
  if (!KINDS[kind]) return { refused: 'Drag a cue from the palette onto a track.' };
  if (!entry) {
    return { refused: `Drop ${KINDS[kind].label} on a track: `
      + `${KINDS[kind].track === 'video' ? 'the Video track' : 'an Overlay track'}.` };
  }
  const why = refusal(kind, entry.kind);
  if (why) return { refused: why };
  const seconds = Number(builder.timeline.duration);
  if (start >= seconds) return { refused: `The show ends at ${formatClock(seconds)}.` };
  const cue = fitted(newCue(kind, roundTime(start), seconds, context, options), entry.track,
    seconds);
  const id = builder.addCue(entry.track.track_id, { ...cue, label: KINDS[kind].label });
  return { id, cue: { ...cue, id }, track: entry };
}

// The track a clicked palette item goes on: the selected cue's track when it is of the
// right kind, else the first switched-on track of that kind (a new overlay track if none).
function trackFor(builder, kind) {
  const wanted = KINDS[kind].track;
  const selected = builder.selectedCues().find((found) => found.kind === wanted);
  if (selected) return selected.track.track_id;
  const tracks = tracksOf(builder.doc).filter((entry) => entry.kind === wanted);
  const on = tracks.find((entry) => builder.isTrackEnabled(entry.track.track_id)) || tracks[0];
  return on ? on.track.track_id : builder.addTrack();
}

// The click / keyboard way: at the playhead (or, when a cue on that track is there, at its
// end), then the playhead moves to the new cue's end so that the next click follows it.
export function addCueAtPlayhead(builder, kind, context = {}, options = {}) {
  if (!KINDS[kind]) return { refused: 'There is no such cue kind.' };
  const trackId = trackFor(builder, kind);
  const track = findTrack(builder.doc, trackId).track;
  let start = builder.playhead;
  const covering = (track.cues || []).find((cue) => cue.start_time <= start && start < cueEnd(cue));
  if (covering) start = cueEnd(covering);
  const added = addCueAt(builder, kind, trackId, start, context, options);
  if (added.id) builder.setPlayhead(cueEnd(added.cue));
  return added;
}
