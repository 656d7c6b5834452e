// Alerts published on the telemetry bus since this page opened, newest first.
import { html } from '../html.js';

export function Alerts({ state }) {
  if (!state.alerts.length) return null;
  return html`
    <section class="panel" aria-labelledby="alerts-title">
      <h2 id="alerts-title">Alerts</h2>
      <ul class="alerts" aria-live="polite">
        ${state.alerts.map((alert) => html`
          <li class=${`alert alert-${alert.severity || 'warning'}`}>
            <strong>${(alert.severity || 'warning').toUpperCase()}</strong>
            <span class="small muted"> ${new Date(alert.ts * 1000).toLocaleTimeString()}</span>
            <div>${alert.message || alert.problem || alert.event || 'Something needs attention.'}</div>
            ${(alert.hint || alert.remediation) && html`<div class="small">What to do: ${alert.hint || alert.remediation}</div>`}
          </li>`)}
      </ul>
    </section>`;
}
