// Form fields of the builder's panels. A field keeps what the person is typing and hands a
// value on (onCommit) only when it is valid and finished (Enter, or leaving the field), so
// one change is one undo step; a value it cannot use stays in the field, marked, with the
// reason underneath, and nothing is changed.
import { useEffect, useState } from 'preact/hooks';
import { html } from '../../html.js';
import { clockProblem, formatClock, parseClock } from './clock.js';

function useDraft(shown) {
  const [draft, setDraft] = useState(shown);
  const [problem, setProblem] = useState(null);
  useEffect(() => {  // the value changed elsewhere (undo, a drag on the canvas)
    setDraft(shown);
    setProblem(null);
  }, [shown]);
  return { draft, setDraft, problem, setProblem };
}

function FieldProblem({ id, problem }) {
  return problem ? html`<span class="field-problem" id=${id} data-testid=${id} role="alert">${problem}</span>` : null;
}

function commitOnEnter(event) {
  if (event.key === 'Enter') event.currentTarget.blur();
}

// A time typed as m:ss; `limits` = {min, max, positive, what} (see clock.js).
export function TimeField({ label, seconds, onCommit, limits = {}, testid }) {
  const shown = formatClock(seconds);
  const { draft, setDraft, problem, setProblem } = useDraft(shown);
  const commit = () => {
    const why = clockProblem(draft, { what: label, ...limits });
    setProblem(why);
    if (!why && parseClock(draft) !== Number(seconds)) onCommit(parseClock(draft));
  };
  return html`
    <label class="field">${label}
      <input type="text" inputmode="decimal" value=${draft} data-testid=${testid}
        aria-invalid=${problem ? 'true' : 'false'} aria-describedby=${problem ? `${testid}-problem` : undefined}
        onInput=${(e) => setDraft(e.target.value)} onBlur=${commit} onKeyDown=${commitOnEnter} />
      <${FieldProblem} id=${`${testid}-problem`} problem=${problem} /></label>`;
}

// A number from `min` to `max` (`step` 1: whole numbers), with its unit after the label.
export function NumberField({ label, value, onCommit, min = -Infinity, max = Infinity, step = 'any',
  unit = '', testid, disabled = false }) {
  const shown = value === undefined || value === null ? '' : String(value);
  const { draft, setDraft, problem, setProblem } = useDraft(shown);
  const commit = () => {
    const parsed = Number(draft);
    let why = null;
    if (draft.trim() === '' || !Number.isFinite(parsed)) why = `${label} must be a number.`;
    else if (parsed < min || parsed > max) why = `${label} goes from ${min} to ${max}.`;
    else if (step === 1 && !Number.isInteger(parsed)) why = `${label} is a whole number.`;
    setProblem(why);
    if (!why && parsed !== Number(value)) onCommit(parsed);
  };
  return html`
    <label class="field"><span>${label}${unit && html` <span class="muted">(${unit})</span>`}</span>
      <input type="number" value=${draft} min=${Number.isFinite(min) ? min : undefined}
        max=${Number.isFinite(max) ? max : undefined} step=${step} data-testid=${testid}
        disabled=${disabled} aria-invalid=${problem ? 'true' : 'false'}
        onInput=${(e) => setDraft(e.target.value)} onBlur=${commit} onKeyDown=${commitOnEnter} />
      <${FieldProblem} id=${`${testid}-problem`} problem=${problem} /></label>`;
}

// One choice from a list: options [{value, label}]; values are compared as strings.
export function SelectField({ label, value, options, onCommit, testid, disabled = false }) {
  const current = value === undefined || value === null ? '' : String(value);
  return html`
    <label class="field">${label}
      <select value=${current} data-testid=${testid} disabled=${disabled}
        onChange=${(e) => {
          const chosen = options.find((option) => String(option.value) === e.target.value);
          if (chosen && String(chosen.value) !== current) onCommit(chosen.value);
        }}>
        ${options.map((option) => html`
          <option value=${String(option.value)} selected=${String(option.value) === current}>
            ${option.label}</option>`)}
      </select></label>`;
}

// Free text (an overlay's words, a timeline's name); `required` refuses an empty one.
export function TextField({ label, value, onCommit, testid, multiline = false, required = true,
  maxLength = 500 }) {
  const shown = value ?? '';
  const { draft, setDraft, problem, setProblem } = useDraft(shown);
  const commit = () => {
    const why = required && !draft.trim() ? `${label} cannot be empty.` : null;
    setProblem(why);
    if (!why && draft !== shown) onCommit(draft);
  };
  const input = multiline
    ? html`<textarea rows="2" maxlength=${maxLength} data-testid=${testid} value=${draft}
        aria-invalid=${problem ? 'true' : 'false'}
        onInput=${(e) => setDraft(e.target.value)} onBlur=${commit}></textarea>`
    : html`<input type="text" maxlength=${maxLength} data-testid=${testid} value=${draft}
        aria-invalid=${problem ? 'true' : 'false'}
        onInput=${(e) => setDraft(e.target.value)} onBlur=${commit} onKeyDown=${commitOnEnter} />`;
  return html`<label class="field">${label}${input}
    <${FieldProblem} id=${`${testid}-problem`} problem=${problem} /></label>`;
}

export function CheckField({ label, checked, onCommit, testid }) {
  return html`
    <label class="field field-check">
      <input type="checkbox" checked=${Boolean(checked)} data-testid=${testid}
        onChange=${(e) => onCommit(e.target.checked)} /> ${label}</label>`;
}
