// A refused command or an unreachable appliance, in the API's own words: what went wrong
// (`problem`) and what to do about it (`hint`).
import { html } from '../html.js';

export function Problem({ problem, onDismiss }) {
  if (!problem) return null;
  return html`
    <div class="problem" role="alert" data-testid="problem">
      <div class="problem-text">
        <strong>${problem.action} did not work.</strong>
        <span data-testid="problem-text"> ${problem.problem}</span>
        ${problem.hint && html`<div data-testid="problem-hint">What to do: ${problem.hint}</div>`}
      </div>
      ${onDismiss && html`<button type="button" class="btn" onClick=${onDismiss}>Dismiss</button>`}
    </div>`;
}
