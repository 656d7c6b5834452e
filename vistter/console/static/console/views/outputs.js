// Every destination: ✓ / ✗, state, bitrate, retries and the last error, in words.
import { html } from '../html.js';
import { bytes, duration } from '../format.js';

const STATES = {
  live: ['✓', 'ok', 'Live'],
  connecting: ['…', 'wait', 'Connecting'],
  retrying: ['!', 'warn', 'Retrying'],
  failed: ['✗', 'bad', 'Failed'],
  rejected: ['✗', 'bad', 'Rejected by the server (key or URL)'],
  stopped: ['■', 'off', 'Stopped'],
  idle: ['–', 'off', 'Idle'],
  standby: ['–', 'off', 'Standby (not live)'],
};

export function Destination({ destination, children }) {
  const [mark, tone, label] = STATES[destination.state] || ['?', 'warn', destination.state];
  const where = destination.url || destination.path || destination.platform;
  const retry = destination.next_retry_in;
  return html`
    <li class=${`dest dest-${tone}`} data-testid=${`destination-${destination.id}`}>
      <span class="dest-mark" aria-hidden="true">${mark}</span>
      <div class="dest-body">
        <div class="dest-head">
          <strong>${destination.id}</strong>
          <span class="dest-state" data-testid="destination-state">${label}</span>
        </div>
        <div class="muted small">${destination.platform} · ${where}</div>
        <div class="small">
          ${destination.bitrate_kbps ? `${Math.round(destination.bitrate_kbps)} kb/s · ` : ''}
          ${destination.recorded_bytes != null
            ? `recorded ${bytes(destination.recorded_bytes)}`
            : `sent ${bytes(destination.bytes_sent)}`}
          ${retry != null ? ` · next try in ${duration(retry)}` : ''}
          ${destination.attempt ? ` · attempt ${destination.attempt} of ${destination.max_attempts}` : ''}
        </div>
        ${destination.last_error && html`<div class="small dest-error">${destination.last_error}</div>`}
        ${children}
      </div>
    </li>`;
}

export function Outputs({ state }) {
  const destinations = state.destinations;
  return html`
    <section class="panel" aria-labelledby="outputs-title">
      <h2 id="outputs-title">Destinations</h2>
      ${destinations == null
        ? html`<p class="muted">Loading…</p>`
        : destinations.length === 0
          ? html`<p class="muted">No destination is configured: nothing is published.</p>`
          : html`<ul class="dests">${destinations.map((d) => html`<${Destination} key=${d.id} destination=${d} />`)}</ul>`}
    </section>`;
}
