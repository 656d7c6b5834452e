// The timeline's cues: jump to a video cue picked from the list, change an overlay's
// text live (POST /api/show/text; empty restores the timeline's own text), and the timeline
// put on air next, with a way to withdraw it (DELETE /api/show/next).
import { useState } from 'preact/hooks';
import { html } from '../html.js';
import { duration } from '../format.js';
import { nextTimeline } from './onair.js';

function NextUp({ show, controller, busy }) {
  const words = nextTimeline(show);
  if (!words) return null;
  return html`
    <p class="cue-row" data-testid="cues-next">
      <span class="grow"><strong>${words}</strong>
        <span class="small"> (when this pass of the timeline ends)</span></span>
      <button type="button" class="btn btn-small" disabled=${busy}
              onClick=${() => controller.command('Cancel the next timeline', '/api/show/next',
                                                 undefined, 'DELETE')}>
        Cancel</button>
    </p>`;
}

function TextEditor({ cue, controller, busy }) {
  const [text, setText] = useState(null);
  const editing = text !== null;
  const save = async (event) => {
    event.preventDefault();
    const body = { cue_id: cue.id, text: text.trim() ? text : null };
    await controller.command(`Change the text of ${cue.id}`, '/api/show/text', body);
    setText(null);
  };
  if (!editing) {
    return html`<button type="button" class="btn btn-small" disabled=${busy}
                        onClick=${() => setText(cue.text || '')}>Edit text</button>`;
  }
  return html`
    <form class="inline-form" onSubmit=${save}>
      <label class="sr-only" for=${`text-${cue.id}`}>New text of ${cue.id}</label>
      <input id=${`text-${cue.id}`} value=${text} maxlength="500"
             onInput=${(event) => setText(event.target.value)} />
      <button type="submit" class="btn btn-small" disabled=${busy}>Show it</button>
      <button type="button" class="btn btn-small" onClick=${() => setText(null)}>Cancel</button>
    </form>`;
}

export function Cues({ state, controller }) {
  const show = state.show;
  const cues = show?.cues || [];
  if (!cues.length && !show?.next) return null;
  const busy = state.busy !== null;
  const canJump = show.state === 'live' || show.state === 'paused';
  const video = cues.filter((cue) => cue.action !== 'show_overlay');
  const overlays = cues.filter((cue) => cue.text != null);
  const onAir = new Set((show.overlays || []).map((overlay) => overlay.cue));
  return html`
    <section class="panel" aria-labelledby="cues-title">
      <h2 id="cues-title">Cues</h2>
      <${NextUp} show=${show} controller=${controller} busy=${busy} />
      <ul class="cue-list" data-testid="cue-list">
        ${video.map((cue) => html`
          <li class=${cue.id === show.video_cue ? 'cue-row cue-row-now' : 'cue-row'}
              data-testid=${`cue-${cue.id}`}>
            <span class="cue-time">${duration(cue.start_seconds)}</span>
            <span class="grow"><strong>${cue.id}</strong> ${cue.label}
              ${cue.id === show.video_cue ? html` <span class="badge badge-active">ON AIR</span>` : ''}</span>
            <button type="button" class="btn btn-small" disabled=${busy || !canJump}
                    aria-label=${`Jump to ${cue.id}`}
                    onClick=${() => controller.command(`Jump to ${cue.id}`, '/api/show/jump', { cue_id: cue.id })}>
              Jump</button>
          </li>`)}
      </ul>
      ${overlays.length > 0 && html`
        <h3>Overlay texts</h3>
        <ul class="cue-list">
          ${overlays.map((cue) => html`
            <li class="cue-row" data-testid=${`text-${cue.id}`}>
              <span class="grow"><strong>${cue.id}</strong>
                ${onAir.has(cue.id) ? html` <span class="badge badge-active">ON AIR</span>` : ''}
                <div class="small" data-testid="overlay-text">${cue.text}</div></span>
              <${TextEditor} cue=${cue} controller=${controller} busy=${busy} />
            </li>`)}
        </ul>`}
    </section>`;
}
