// Live controls: go live (through the checklist, views/golive.js), pause, resume, skip,
// stop. A button is enabled only in the show states the orchestrator accepts it in; Stop
// asks once more, because it ends the show.
import { useState } from 'preact/hooks';
import { html } from '../html.js';

const ALLOWED = {
  go_live: ['idle', 'stopped', 'error'],
  pause: ['live'],
  resume: ['paused'],
  skip: ['live', 'paused'],
  stop: ['live', 'paused', 'error'],
};

function allowed(show, operation) {
  if (operation === 'stop' && onAirBetweenShows(show)) return true;
  return Boolean(show) && ALLOWED[operation].includes(show.state);
}

// After a show ends, the platforms stay on air until the operator's Stop ends the stream.
function onAirBetweenShows(show) {
  const publishing = show?.publishing;
  return Boolean(publishing?.on_air) && publishing.mode === 'while_live';
}

export function LiveControls({ state, controller }) {
  const [confirming, setConfirming] = useState(false);
  const { show, busy } = state;
  const act = (label, path) => () => controller.command(label, path);
  const button = (operation, label, path, extra = '') => html`
    <button type="button" class=${`btn ${extra}`} disabled=${busy !== null || !allowed(show, operation)}
            onClick=${act(label, path)}>${label}</button>`;
  return html`
    <section class="panel" aria-labelledby="controls-title">
      <h2 id="controls-title">Live controls</h2>
      <div class="buttons">
        <button type="button" class="btn btn-go"
                disabled=${busy !== null || !allowed(show, 'go_live') || Boolean(state.golive)}
                onClick=${() => controller.golive.open()}>Go live</button>
        ${button('pause', 'Pause', '/api/show/pause')}
        ${button('resume', 'Resume', '/api/show/resume')}
        ${button('skip', 'Skip to next cue', '/api/show/skip')}
        ${confirming
          ? html`
            <button type="button" class="btn btn-danger" disabled=${busy !== null}
                    onClick=${() => { setConfirming(false); controller.stopShow(); }}>
              Yes, stop the show</button>
            <button type="button" class="btn" onClick=${() => setConfirming(false)}>Keep it live</button>`
          : html`
            <button type="button" class="btn btn-danger"
                    disabled=${busy !== null || !allowed(show, 'stop')}
                    onClick=${() => setConfirming(true)}>Stop</button>`}
      </div>
      <p class="muted">${busy ? `${busy}…` : hintFor(show)}</p>
      ${show?.publishing && html`<p class="small" data-testid="air-mode">${show.publishing.mode === 'always_on_air'
        ? 'Always on air: the destinations publish all the time (the slate between shows).'
        : `Destinations publish from Go live until Stop${show.publishing.on_air
          ? ' (publishing now).' : ' (not publishing now).'}`}</p>`}
    </section>`;
}

function hintFor(show) {
  switch (show?.state) {
    case 'live': return 'Pause holds the timeline where it is; the program keeps running.';
    case 'paused': return 'Paused: Resume continues from the same place.';
    case 'idle':
    case 'stopped': return 'Go live starts the loaded timeline.';
    case 'error': return `The show failed: ${show.error ?? 'see the log'}. Stop, then Go live.`;
    default: return '';
  }
}
