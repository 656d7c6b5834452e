// Repeat actions of the timeline builder: one action that produces many ordinary cues.
// Pure functions on the spec's document ({"timeline": {...}}), no DOM: the repeat dialog
// (panels/repeat_dialog.js) applies them inside one `builder.edit`, so one undo removes
// everything an action made.
//
//   planAlternation(doc, {sources, every, from, until, transition, transitionDuration})
//     "alternate camera 1 and camera 2 every 60 s until the end": video cues back to back,
//     taking the sources in turn. Returns {cues, removed, trimmed}: the new cues (with fresh
//     ids) and what happens to the video cues already in the range (they are replaced: a cue
//     wholly inside is removed, one that crosses an edge is trimmed to it).
//   applyAlternation(draft, options) -> ids of the new cues (mutates draft)
//
//   planOverlayRepeat(doc, {params, length, every, from, until, trackId})
//     "show the logo for 10 s every 5 minutes": an overlay cue of `length` seconds every
//     `every` seconds. trackId: an overlay track, 'new' (a new track on top) or null (the
//     first overlay track where nothing is in the way, else a new one).
//     Returns {cues, trackId, newTrack}.
//   applyOverlayRepeat(draft, options) -> {trackId, ids} (mutates draft)
//
// Errors are RangeErrors whose message says what to change, shown as they are.
import { nextCueId, nextTrackId, roundTime } from './state.js';

export const MAX_REPEATED_CUES = 2000;

function number(value, what) {
  const parsed = Number(value);
  if (!Number.isFinite(parsed)) throw new RangeError(`${what} must be a number of seconds.`);
  return parsed;
}

// The range [from, until) in seconds, checked against the timeline.
function rangeOf(timeline, from, until) {
  const duration = Number(timeline.duration);
  const start = roundTime(from === undefined || from === null ? 0 : number(from, 'The start'));
  const end = roundTime(until === undefined || until === null ? duration
    : number(until, 'The end'));
  if (start < 0) throw new RangeError('The start cannot be before 0:00.');
  if (end > duration) {
    throw new RangeError('The end is after the end of the timeline: choose an earlier end, '
      + 'or make the timeline longer in Settings.');
  }
  if (end <= start) throw new RangeError('The end must come after the start.');
  return { start, end };
}

function frameOf(timeline) {
  return 1 / (Number(timeline.fps) || 30);
}

function cueIds(doc) {
  const ids = new Set();
  const tracks = doc.timeline.tracks;
  for (const track of [tracks.video, ...(tracks.overlays || [])]) {
    ids.add(track.track_id);
    for (const cue of track.cues || []) ids.add(cue.id);
  }
  return ids;
}

// Start times from `start` every `every` seconds while before `end`, each with its length
// (`length`, cut short at `end`); pieces shorter than one frame are left out.
function slots(timeline, { start, end }, every, length) {
  const step = number(every, 'The interval');
  if (step <= 0) throw new RangeError('The interval must be more than 0 seconds.');
  const count = Math.ceil(roundTime((end - start) / step));
  if (count > MAX_REPEATED_CUES) {
    throw new RangeError(`That makes ${count} cues, more than ${MAX_REPEATED_CUES}: `
      + 'choose a longer interval or a shorter range.');
  }
  const result = [];
  for (let index = 0; index < count; index += 1) {
    const at = roundTime(start + index * step);
    const duration = roundTime(Math.min(length, end - at));
    if (duration >= frameOf(timeline)) result.push({ at, duration });
  }
  return result;
}

function transitionParams(transition, transitionDuration, duration) {
  const kind = transition || 'cut';
  if (!['cut', 'fade', 'dissolve'].includes(kind)) {
    throw new RangeError('A transition is cut, fade or dissolve.');
  }
  if (kind === 'cut') return { transition: 'cut' };
  const seconds = transitionDuration === undefined || transitionDuration === null
    ? 1 : number(transitionDuration, 'The transition length');
  if (seconds < 0) throw new RangeError('The transition length cannot be negative.');
  // A transition cannot be longer than its cue: a short last piece gets a cut instead.
  if (seconds > duration) return { transition: 'cut' };
  return transitionDuration === undefined || transitionDuration === null
    ? { transition: kind } : { transition: kind, transition_duration: seconds };
}

function sourceParams(source) {
  if (source && source.camera_id !== undefined && source.camera_id !== null) {
    const params = { camera_id: Number(source.camera_id) };
    if (source.preset_id) params.preset_id = String(source.preset_id);
    return { action: 'show_camera', params };
  }
  if (source && source.media_url) {
    const params = { media_url: String(source.media_url) };
    if (source.loop) params.loop = true;
    return { action: 'show_media', params };
  }
  throw new RangeError('Each source is a camera (camera_id) or a file (media_url).');
}

export function planAlternation(doc, options) {
  const timeline = doc.timeline;
  const sources = (options.sources || []).filter(Boolean);
  if (sources.length < 2) throw new RangeError('Choose at least two sources to alternate.');
  const range = rangeOf(timeline, options.from, options.until);
  const every = number(options.every, 'The interval');
  const taken = cueIds(doc);
  const cues = slots(timeline, range, every, every).map(({ at, duration }, index) => {
    const { action, params } = sourceParams(sources[index % sources.length]);
    const id = nextCueId(doc, taken);
    taken.add(id);
    const transition = transitionParams(options.transition, options.transitionDuration,
      duration);
    return { id, start_time: at, duration, action, params: { ...params, ...transition } };
  });
  const removed = [];
  const trimmed = [];
  for (const cue of timeline.tracks.video.cues || []) {
    const cueStart = cue.start_time;
    const cueEnd = roundTime(cue.start_time + cue.duration);
    if (cueEnd <= range.start || cueStart >= range.end) continue;
    if (cueStart >= range.start && cueEnd <= range.end) {
      removed.push(cue.id);
    } else if (cueStart < range.start && cueEnd > range.end) {
      // It spans the whole range: keep its part before the range.
      trimmed.push({ id: cue.id, start_time: cueStart, duration: roundTime(range.start - cueStart) });
    } else if (cueStart < range.start) {
      trimmed.push({ id: cue.id, start_time: cueStart, duration: roundTime(range.start - cueStart) });
    } else {
      trimmed.push({ id: cue.id, start_time: range.end, duration: roundTime(cueEnd - range.end) });
    }
  }
  return { cues, removed, trimmed };
}

export function applyAlternation(draft, options) {
  const plan = planAlternation(draft, options);
  const video = draft.timeline.tracks.video;
  const gone = new Set(plan.removed);
  const cut = new Map(plan.trimmed.map((change) => [change.id, change]));
  video.cues = (video.cues || []).filter((cue) => !gone.has(cue.id)).map((cue) => {
    const change = cut.get(cue.id);
    if (!change) return cue;
    const params = { ...cue.params };
    // A transition longer than what is left of the cue would be a new problem.
    if (params.transition_duration !== undefined && params.transition_duration > change.duration) {
      params.transition_duration = change.duration;
    }
    return { ...cue, start_time: change.start_time, duration: change.duration, params };
  });
  video.cues.push(...plan.cues);
  video.cues.sort((a, b) => a.start_time - b.start_time);
  return plan.cues.map((cue) => cue.id);
}

function overlaps(cues, start, end) {
  return cues.some((cue) => cue.start_time < end && roundTime(cue.start_time + cue.duration) > start);
}

export function planOverlayRepeat(doc, options) {
  const timeline = doc.timeline;
  if (!options.params || !options.params.type) {
    throw new RangeError('Choose what to show (a logo, a text, a lower third...).');
  }
  const range = rangeOf(timeline, options.from, options.until);
  const length = number(options.length, 'The length');
  const every = number(options.every, 'The interval');
  if (length <= 0) throw new RangeError('The length must be more than 0 seconds.');
  if (length > every) {
    throw new RangeError(`Each showing (${length} s) is longer than the interval (${every} s): `
      + 'they would overlap. Make the interval longer or the showing shorter.');
  }
  const taken = cueIds(doc);
  const cues = slots(timeline, range, every, length).map(({ at, duration }) => {
    const id = nextCueId(doc, taken);
    taken.add(id);
    const params = { ...options.params };
    // Fades must fit in the cue (a short last piece loses them).
    if ((Number(params.fade_in) || 0) + (Number(params.fade_out) || 0) > duration) {
      delete params.fade_in;
      delete params.fade_out;
    }
    return { id, start_time: at, duration, action: 'show_overlay', params };
  });
  if (!cues.length) throw new RangeError('The range is too short for one showing.');
  const overlays = timeline.tracks.overlays || [];
  const clear = (track) => !cues.some((cue) => overlaps(track.cues || [],
    cue.start_time, roundTime(cue.start_time + cue.duration)));
  let trackId = options.trackId || null;
  if (trackId && trackId !== 'new') {
    const track = overlays.find((candidate) => candidate.track_id === trackId);
    if (!track) throw new RangeError(`There is no overlay track ${trackId}.`);
    if (!clear(track)) {
      throw new RangeError(`Track ${trackId} already has cues at some of those times: `
        + 'choose another track or "a new track".');
    }
  } else if (!trackId) {
    const free = overlays.find(clear);
    trackId = free ? free.track_id : 'new';
  }
  const newTrack = trackId === 'new';
  return { cues, trackId: newTrack ? nextTrackId(doc) : trackId, newTrack };
}

export function applyOverlayRepeat(draft, options) {
  const plan = planOverlayRepeat(draft, options);
  const tracks = draft.timeline.tracks;
  const overlays = tracks.overlays || (tracks.overlays = []);
  let track = overlays.find((candidate) => candidate.track_id === plan.trackId);
  if (!track) {
    const top = overlays.reduce((highest, t) => Math.max(highest, t.layer || 1), 0);
    track = { track_id: plan.trackId, type: 'overlay', layer: Math.min(1000, top + 1), cues: [] };
    overlays.push(track);
  }
  track.cues = [...(track.cues || []), ...plan.cues].sort((a, b) => a.start_time - b.start_time);
  return { trackId: plan.trackId, ids: plan.cues.map((cue) => cue.id) };
}
