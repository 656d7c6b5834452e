// The problems list: what the server's validation says is wrong with the show, in words,
// each naming where it is; a problem about a cue selects that cue when clicked (the canvas
// marks it). Shows "checking…" while a validation is on its way. A show with no cue at all
// is valid (the server accepts it) but plays nothing of its own: the status says how to start.
import { html } from '../../html.js';
import { useBuilder } from '../hooks.js';
import { findCue, tracksOf } from '../state.js';
import { formatClock } from './clock.js';
import { trackName } from './validation.js';

function where(builder, problem) {
  const found = problem.cue_id ? findCue(builder.doc, problem.cue_id) : null;
  if (found) {
    return `${trackName(builder.doc, found.track.track_id)}, cue ${found.cue.id} at ${formatClock(found.cue.start_time)}`;
  }
  if (problem.track_id) return trackName(builder.doc, problem.track_id);
  return problem.path ? problem.path.replace(/^timeline\.?/, '') || 'The timeline' : 'The timeline';
}

// "No problems", and for a show without a single cue, what to do first.
function validText(doc) {
  const empty = tracksOf(doc).every((entry) => !(entry.track.cues || []).length);
  return empty
    ? 'No problems, but the show is empty: drag a camera or a picture from the Palette onto '
      + 'the Video track.'
    : 'No problems: the appliance accepts this timeline.';
}

export function ProblemsPanel({ builder, checker }) {
  useBuilder(builder);
  const problems = builder.problems;
  const count = problems.length;
  const select = (problem) => {
    if (!problem.cue_id || !findCue(builder.doc, problem.cue_id)) return;
    builder.select([problem.cue_id]);
    const cue = findCue(builder.doc, problem.cue_id).cue;
    builder.setPlayhead(cue.start_time);
  };
  return html`
    <section class="panel builder-panel" aria-labelledby="problems-title" data-testid="problems">
      <h2 id="problems-title">Problems${count ? ` (${count})` : ''}</h2>
      <p class="muted small" role="status" data-testid="problems-status">
        ${checker.checking ? 'Checking the timeline…'
          : checker.problem ? `Could not check the timeline: ${checker.problem.problem}`
            : count ? 'Fix these before saving. Click a problem to select its cue.'
              : validText(builder.doc)}</p>
      ${count > 0 && html`<ul class="problem-list" data-testid="problem-list">
        ${problems.map((problem, index) => html`
          <li key=${`${problem.path}-${index}`}>
            <button type="button" class="problem-item" data-testid="problem-item"
              data-cue-id=${problem.cue_id || ''} disabled=${!problem.cue_id}
              onClick=${() => select(problem)}>
              <span class="problem-where">${where(builder, problem)}</span>
              <span class="problem-message">${problem.message}</span>
              ${problem.hint && html`<span class="problem-hint">${problem.hint}</span>`}
            </button></li>`)}
      </ul>`}
    </section>`;
}
