// The GO LIVE checklist and countdown (see ../golive.js for what happens on each button).
import { html } from '../html.js';
import { COUNTDOWN_S } from '../golive.js';

const MARKS = { ok: ['✓', 'OK'], warning: ['!', 'Warning'], error: ['✗', 'Error'] };

function Item({ item }) {
  const [mark, word] = MARKS[item.status] || ['?', item.status];
  return html`
    <li class=${`check check-${item.status}`} data-testid="preflight-item"
        data-status=${item.status}>
      <span class="check-mark" aria-hidden="true">${mark}</span>
      <div>
        <strong>${word}</strong>${item.subject ? ` · ${item.subject}` : ''}
        <div>${item.message}</div>
        ${item.hint && item.status !== 'ok' && html`<div class="small">What to do: ${item.hint}</div>`}
      </div>
    </li>`;
}

export function GoLive({ state, controller, now }) {
  const flow = state.golive;
  if (!flow) return null;
  const go = controller.golive;
  const problem = flow.problem;
  const left = flow.endsAt ? Math.max(0, Math.ceil((flow.endsAt - now) / 1000)) : null;
  return html`
    <section class="panel golive" aria-labelledby="golive-title" data-testid="golive">
      <h2 id="golive-title">Go live: pre-flight checklist</h2>
      ${flow.phase === 'checking' && html`<p>Checking cameras, timeline, destinations…</p>`}
      ${flow.items && html`
        <ul class="checks" data-testid="preflight">
          ${flow.items.map((item, index) => html`<${Item} key=${index} item=${item} />`)}
        </ul>
        <p data-testid="preflight-summary">${flow.errors
          ? `${flow.errors} error(s): fix them before going live.`
          : flow.warnings ? `${flow.warnings} warning(s): you can go live, but read them.`
            : 'Everything is ready.'}</p>`}
      ${problem && html`<p class="dest-error" role="alert" data-testid="golive-problem">
        ${problem.problem || String(problem)}${problem.hint ? ` What to do: ${problem.hint}` : ''}</p>`}
      ${flow.phase === 'countdown' && html`
        <p class="countdown" role="timer" aria-live="assertive">Going live in
          <strong data-testid="countdown">${left}</strong> s</p>`}
      ${flow.phase === 'starting' && html`<p class="countdown">Going live…</p>`}
      <div class="buttons">
        ${flow.phase === 'checklist' && html`
          <button type="button" class="btn btn-go" disabled=${flow.errors > 0}
                  onClick=${() => go.start(COUNTDOWN_S)}>Go live in ${COUNTDOWN_S} s</button>
          <button type="button" class="btn" disabled=${flow.errors > 0}
                  onClick=${() => go.start(0)}>Start immediately</button>
          <button type="button" class="btn" onClick=${() => go.open()}>Check again</button>
          <button type="button" class="btn" onClick=${() => go.close()}>Close</button>`}
        ${flow.phase === 'countdown' && html`
          <button type="button" class="btn btn-danger" onClick=${() => go.cancel()}>
            Cancel</button>`}
      </div>
    </section>`;
}
