// "Delete X?" asked in place, on the row: the safe answer has the focus (Enter or Space keeps
// the thing, as does Escape), the other one says what it does.
import { useEffect, useRef } from 'preact/hooks';
import { html } from '../html.js';

export function Confirm({ label, question, yes, onYes, onNo, busy }) {
  const keep = useRef(null);
  useEffect(() => keep.current?.focus(), []);
  return html`
    <div class="confirm" role="group" aria-label=${label}
         onKeyDown=${(event) => event.key === 'Escape' && onNo()}>
      <span>${question}</span>
      <button type="button" class="btn btn-small btn-danger" disabled=${busy}
              onClick=${onYes}>${yes}</button>
      <button type="button" class="btn btn-small" ref=${keep} onClick=${onNo}>Keep it</button>
    </div>`;
}
