// Preview of a chosen range: the appliance renders that part of the show offline in the
// background (POST /api/render-previews {document, start_s, duration_s} -> 202 {id,
// status_url}); the page follows it (GET status_url -> {state, progress, video_url, problem})
// with a progress bar and then plays the result. Cancel = DELETE. At most MAX_SECONDS.
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from '../../html.js';
import { ApiProblem, del, get, post } from '../../api.js';
import { useBuilder } from '../hooks.js';
import { clockProblem, formatClock, parseClock } from './clock.js';

export const MAX_SECONDS = 30;
const POLL_MS = 500;
const DONE = new Set(['done', 'finished', 'succeeded', 'complete']);
const ENDED = new Set(['failed', 'error', 'cancelled', 'canceled']);

// The default range: from a few seconds before the playhead, 20 s long, inside the show.
export function defaultRange(playhead, total) {
  const from = Math.max(0, Math.min(Math.floor(playhead) - 5, total - 20));
  return { from, to: Math.min(total, from + 20) };
}

export function rangeProblem(fromText, toText, total) {
  const why = clockProblem(fromText, { max: total, what: 'From' })
    || clockProblem(toText, { positive: true, max: total, what: 'To' });
  if (why) return why;
  const length = parseClock(toText) - parseClock(fromText);
  if (length <= 0) return 'To must come after From.';
  if (length > MAX_SECONDS) return `A preview is at most ${MAX_SECONDS} s: shorten the range.`;
  return null;
}

const fraction = (progress) => {
  const value = Number(progress) || 0;
  return Math.max(0, Math.min(1, value > 1 ? value / 100 : value));
};

// The job's problem in words (a string, or {problem, hint}), with the hint to act on.
function problemText(problem, hint) {
  if (typeof problem === 'string') return [problem, hint && `What to do: ${hint}`].filter(Boolean).join(' ');
  return [problem.problem || problem.message, problem.hint].filter(Boolean).join(' ')
    || 'The preview could not be made.';
}

export function RangePreview({ builder }) {
  useBuilder(builder);
  const total = Number(builder.timeline.duration);
  const [range, setRange] = useState(() => {
    const { from, to } = defaultRange(builder.playhead, total);
    return { from: formatClock(from), to: formatClock(to) };
  });
  const [job, setJob] = useState(null);  // {id, statusUrl, state, progress, videoUrl, problem}
  const alive = useRef(true);
  const timer = useRef(null);
  const followed = useRef(null);  // the job being followed; an answer about another is dropped
  useEffect(() => () => {
    alive.current = false;
    clearTimeout(timer.current);
  }, []);
  const why = rangeProblem(range.from, range.to, total);
  const running = job && !DONE.has(job.state) && !ENDED.has(job.state) && !job.problem;

  const follow = async (current) => {
    if (!alive.current || followed.current !== current.id) return;
    let status;
    try {
      status = await get(current.statusUrl);
    } catch (error) {
      if (followed.current === current.id) {
        setJob({ ...current, problem: error.problem || String(error), state: 'failed' });
      }
      return;
    }
    if (!alive.current || followed.current !== current.id) return;
    const next = { ...current, state: status.state, progress: fraction(status.progress),
      videoUrl: status.video_url || null,
      problem: status.problem ? problemText(status.problem, status.hint) : null };
    if (DONE.has(next.state)) next.progress = 1;
    setJob(next);
    if (!DONE.has(next.state) && !ENDED.has(next.state) && !next.problem) {
      timer.current = setTimeout(() => follow(next), POLL_MS);
    }
  };
  const start = async () => {
    clearTimeout(timer.current);
    followed.current = null;
    const startS = parseClock(range.from);
    const body = { document: builder.output(), start_s: startS, duration_s: parseClock(range.to) - startS };
    setJob({ id: null, state: 'starting', progress: 0 });
    try {
      const answer = await post('/api/render-previews', body);
      const current = { id: answer.id, statusUrl: answer.status_url || `/api/render-previews/${answer.id}`,
        state: answer.state || 'queued', progress: 0, videoUrl: null, problem: null };
      followed.current = current.id;
      setJob(current);
      timer.current = setTimeout(() => follow(current), POLL_MS);
    } catch (error) {
      const missing = error instanceof ApiProblem && [404, 405].includes(error.status)
        && /route/i.test(error.problem);
      setJob({ state: 'failed', problem: missing ? 'This appliance cannot make previews yet.'
        : [error.problem, error.hint].filter(Boolean).join(' ') });
    }
  };
  const cancel = async () => {
    clearTimeout(timer.current);
    followed.current = null;
    if (job?.id) {
      try {
        await del(`/api/render-previews/${encodeURIComponent(job.id)}`);
      } catch {
        // it may have finished meanwhile: either way nothing is followed any more
      }
    }
    setJob({ ...job, state: 'cancelled', problem: null });
  };
  const aroundPlayhead = () => {
    const { from, to } = defaultRange(builder.playhead, total);
    setRange({ from: formatClock(from), to: formatClock(to) });
  };
  return html`
    <section class="panel builder-panel" aria-labelledby="range-preview-title" data-testid="range-preview">
      <h2 id="range-preview-title">Preview a range</h2>
      <div class="field-row">
        <label class="field">From<input type="text" value=${range.from} data-testid="preview-from"
          onInput=${(e) => setRange({ ...range, from: e.target.value })} /></label>
        <label class="field">To<input type="text" value=${range.to} data-testid="preview-to"
          onInput=${(e) => setRange({ ...range, to: e.target.value })} /></label>
        <button type="button" class="btn btn-small" onClick=${aroundPlayhead}>Around the playhead</button>
      </div>
      ${why && html`<p class="field-problem" role="alert">${why}</p>`}
      <div class="buttons">
        <button type="button" class="btn" data-testid="preview-start" disabled=${Boolean(why) || running}
          onClick=${start}>Render preview</button>
        ${running && html`<button type="button" class="btn" data-testid="preview-cancel" onClick=${cancel}>Cancel</button>`}
      </div>
      ${job && html`<div class="preview-job">
        <progress max="1" value=${job.progress || 0} data-testid="preview-progress"
          aria-label="Preview progress"></progress>
        <span data-testid="preview-state" data-job-id=${job.id || ''} role="status">${job.problem ? 'Failed'
          : DONE.has(job.state) ? 'Ready' : job.state === 'cancelled' ? 'Cancelled'
            : ['queued', 'starting'].includes(job.state) ? 'Waiting for the renderer…'
              : `Rendering… ${Math.round((job.progress || 0) * 100)} %`}</span>
        ${job.problem && html`<p class="field-problem" role="alert" data-testid="preview-problem">${job.problem}</p>`}
        ${DONE.has(job.state) && job.videoUrl && html`<video controls preload="metadata" src=${job.videoUrl}
          data-testid="preview-video" class="preview-video"></video>`}
      </div>`}
    </section>`;
}
