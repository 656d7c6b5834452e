// Validation as you edit: a short while after the last change (DELAY_MS) the current show
// (builder.output()) goes to POST /api/timelines/validate, the server's own validation, and
// its problems go to builder.setProblems(), each with the cue it concerns (`cue_id`, from the
// server, else read from its field path) so the canvas can mark the cue and the list can
// select it. An answer that arrives after a newer edit is dropped. No DOM, no Preact.
//
//   const checker = createChecker(builder, { delayMs, onState });
//   checker.state   {checking, checked, problem}  checked: the document the problems are of
//   checker.now()   validate at once (before a save); resolves with the problems
//   checker.stop()
import { send } from '../../library_api.js';
import { findCue, tracksOf } from '../state.js';

export const DELAY_MS = 400;
const TRACK_PATH = /^timeline\.tracks\.(video|overlays\[(\d+)\])(?:\.cues\[(\d+)\])?/;

// The track and cue a problem's path points at in `doc` ({trackId, cueId}, either may be null).
export function locate(doc, problem) {
  if (problem.cue_id && findCue(doc, problem.cue_id)) {
    return { cueId: problem.cue_id, trackId: findCue(doc, problem.cue_id).track.track_id };
  }
  const match = TRACK_PATH.exec(problem.path || '');
  if (!match) return { cueId: null, trackId: null };
  const tracks = doc.timeline.tracks;
  const track = match[1] === 'video' ? tracks.video : (tracks.overlays || [])[Number(match[2])];
  if (!track) return { cueId: null, trackId: null };
  const cue = match[3] !== undefined ? (track.cues || [])[Number(match[3])] : null;
  return { cueId: cue ? cue.id : null, trackId: track.track_id };
}

// The server's problems with `cue_id` and `track_id` filled in where the path says them.
export function locateAll(doc, problems) {
  return (problems || []).map((problem) => {
    const { cueId, trackId } = locate(doc, problem);
    return { ...problem, cue_id: problem.cue_id || cueId, track_id: problem.track_id || trackId };
  });
}

// "Video track" / "Overlay track 2 (layer 3)" for a track id.
export function trackName(doc, trackId) {
  const entry = tracksOf(doc).find((candidate) => candidate.track.track_id === trackId);
  if (!entry) return '';
  if (entry.kind === 'video') return 'Video track';
  return `Overlay track ${entry.index + 1} (layer ${entry.track.layer || 1})`;
}

export function createChecker(builder, { delayMs = DELAY_MS, onState = () => {} } = {}) {
  let timer = null;
  let sequence = 0;
  let stopped = false;
  const state = { checking: false, checked: null, problem: null };

  function update(patch) {
    Object.assign(state, patch);
    onState({ ...state });
  }

  async function validate() {
    clearTimeout(timer);
    timer = null;
    const mine = ++sequence;
    const doc = builder.output();
    update({ checking: true });
    let problems;
    try {
      await send('POST', '/api/timelines/validate', { json: doc });
      problems = [];
    } catch (error) {
      if (mine !== sequence || stopped) return builder.problems;
      if (error.status === 422 && Array.isArray(error.problems) && error.problems.length) {
        problems = locateAll(doc, error.problems);
      } else {
        // Not an answer about the show (the appliance is away, the body too large...).
        update({ checking: false, problem: error });
        return builder.problems;
      }
    }
    if (mine !== sequence || stopped) return builder.problems;
    builder.setProblems(problems);
    update({ checking: false, checked: doc, problem: null });
    return problems;
  }

  function schedule() {
    clearTimeout(timer);
    sequence += 1;  // an answer in flight is about an older document now
    timer = setTimeout(validate, delayMs);
    update({ checking: true });
  }

  const unsubscribe = builder.subscribe((_, change) => {
    if (['edit', 'undo', 'redo', 'load'].includes(change.kind)) schedule();
  });
  schedule();

  return {
    get state() { return { ...state }; },
    now: validate,
    stop() {
      stopped = true;
      clearTimeout(timer);
      unsubscribe();
    },
  };
}
