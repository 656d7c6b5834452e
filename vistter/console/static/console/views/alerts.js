// Alerts, front and centre: every active alert with its severity, time, what happened and
// what to do, acknowledged one by one or all at once; the alerts page adds the history.
import { html } from '../html.js';

const SEVERITY = { critical: 'CRITICAL', warning: 'WARNING', info: 'INFO' };

function when(seconds) {
  if (!seconds) return '';
  const date = new Date(seconds * 1000);
  return date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

export function AlertItem({ alert, controller, busy }) {
  const severity = alert.severity || 'warning';
  const remedy = alert.remediation || alert.hint;
  return html`
    <li class=${`alert alert-${severity}${alert.acknowledged ? ' alert-acked' : ''}`}
        data-testid="alert" data-alert-id=${alert.id}>
      <div class="alert-head">
        <strong>${SEVERITY[severity] || severity.toUpperCase()}</strong>
        <time class="small">${when(alert.raised_at)}</time>
        ${alert.source && html`<span class="small muted">${alert.source}</span>`}
        ${alert.repeats > 0 && html`<span class="small muted">×${alert.repeats + 1}</span>`}
        ${alert.acknowledged && html`<span class="badge badge-off">acknowledged</span>`}
        ${!alert.active && alert.cleared_at && html`<span class="small">cleared ${when(alert.cleared_at)}</span>`}
      </div>
      <div data-testid="alert-message">${alert.message || 'Something needs attention.'}</div>
      ${remedy && html`<div class="small" data-testid="alert-remediation">What to do: ${remedy}</div>`}
      ${alert.resolution && !alert.active && html`<div class="small">${alert.resolution}</div>`}
      ${controller && alert.active && !alert.acknowledged && typeof alert.id === 'number' && html`
        <div class="buttons"><button type="button" class="btn btn-small" disabled=${busy}
          onClick=${() => controller.acknowledge(alert)}>Acknowledge</button></div>`}
    </li>`;
}

export function Alerts({ state, controller }) {
  const alerts = state.alerts;
  const busy = state.busy !== null;
  const unacked = alerts.filter((alert) => !alert.acknowledged && typeof alert.id === 'number');
  return html`
    <section class=${`panel alerts-panel${alerts.length ? ' alerts-active' : ''}`}
             aria-labelledby="alerts-title" data-testid="alerts">
      <h2 id="alerts-title">Alerts ${alerts.length ? `(${alerts.length} active)` : ''}</h2>
      ${alerts.length === 0
        ? html`<p class="muted" data-testid="no-alerts">No active alert: everything runs as planned.</p>`
        : html`<ul class="alerts" aria-live="polite">
            ${alerts.map((alert) => html`<${AlertItem} key=${alert.id} alert=${alert}
              controller=${controller} busy=${busy} />`)}</ul>`}
      <div class="buttons">
        ${unacked.length > 1 && html`<button type="button" class="btn btn-small" disabled=${busy}
          onClick=${() => controller.acknowledgeAll()}>Acknowledge all</button>`}
        <a class="btn btn-small" href="#/alerts">History</a>
      </div>
    </section>`;
}

export function AlertsPage({ state, controller }) {
  const history = state.alertHistory || [];
  return html`
    <${Alerts} state=${state} controller=${controller} />
    <section class="panel" aria-labelledby="history-title">
      <h2 id="history-title">History</h2>
      ${state.alertService === false && html`<p class="muted">This appliance keeps no alert
        history; the alerts above are those seen since the page opened.</p>`}
      ${history.length === 0
        ? html`<p class="muted">No alert has ended yet.</p>`
        : html`<ul class="alerts" data-testid="alert-history">
            ${history.map((alert) => html`<${AlertItem} key=${alert.id} alert=${alert} />`)}</ul>`}
    </section>`;
}
