// The top bar: is the show live, which timeline, how long the appliance has been up, and
// whether the page gets live events or polls.
import { html } from '../html.js';
import { duration } from '../format.js';

const PHASES = {
  live: 'LIVE', paused: 'PAUSED', idle: 'NOT LIVE', stopped: 'STOPPED', error: 'ERROR',
  preflight: 'CHECKING', starting: 'STARTING', stopping: 'STOPPING',
};

const MODES = {
  live: ['Live updates', 'Changes show here as they happen.'],
  polling: ['Polling', 'Live events are not flowing; the page asks the appliance every 2 s.'],
  connecting: ['Connecting', 'Opening the live-event stream.'],
};

function Nav({ page, pages, alerts }) {
  return html`
    <nav class="nav" aria-label="Pages">
      ${Object.entries(pages).map(([name, label]) => html`
        <a href=${`#/${name === 'live' ? '' : name}`} class=${name === page ? 'nav-current' : ''}
           aria-current=${name === page ? 'page' : undefined}>
          ${label}${name === 'alerts' && alerts ? html` <span class="nav-count"
            data-testid="alert-count">${alerts}</span>` : ''}</a>`)}
    </nav>`;
}

export function Header({ state, now, page = 'live', pages = {} }) {
  const phase = state.show?.state ?? 'unknown';
  const uptime = state.health
    ? state.health.uptime_seconds + (now - state.healthAt) / 1000
    : null;
  const [mode, modeHelp] = state.unreachable
    ? ['Offline', 'The appliance does not answer; retrying.']
    : MODES[state.mode] || MODES.connecting;
  return html`
    <header class="top">
      <div class=${`phase phase-${phase}`} role="status" data-testid="show-state">
        ${phase === 'live' ? html`<span class="dot" aria-hidden="true"></span>` : null}
        ${PHASES[phase] || phase.toUpperCase()}
      </div>
      <div class="top-item grow">
        <span class="label">Timeline</span>
        <strong data-testid="timeline-name">${state.show?.timeline?.name ?? 'none loaded'}</strong>
      </div>
      <div class="top-item">
        <span class="label">Uptime</span>
        <strong data-testid="uptime">${duration(uptime)}</strong>
      </div>
      <div class=${`top-item mode mode-${state.unreachable ? 'offline' : state.mode}`}
           title=${modeHelp} data-testid="connection">
        <span class="label">Updates</span><strong>${mode}</strong>
      </div>
      <${Nav} page=${page} pages=${pages} alerts=${state.alerts.length} />
    </header>`;
}
