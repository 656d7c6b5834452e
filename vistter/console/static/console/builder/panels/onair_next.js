// "Put on air next": save the show if it has changes (or was never saved), then ask the
// appliance to play it next (POST /api/show/next {"timeline_id"}): after the current pass
// ends, or at once when nothing is on air. The answer is shown in words.
import { useState } from 'preact/hooks';
import { html } from '../../html.js';
import { post } from '../../api.js';
import { useBuilder } from '../hooks.js';
import { saveShow } from './saving.js';
import { saveRefusal } from './savebar.js';
import { formatClock } from './clock.js';

// The appliance's answer (the show's status) in words: when the timeline goes on air.
export function answerWords(answer, id, name) {
  const next = answer && answer.next;
  if (next && String(next.timeline_id) === String(id)) {
    if (next.in_seconds === null || next.in_seconds === undefined) {
      return `"${next.name || name}" goes on air next, when the current pass ends `
        + '(the show is paused now).';
    }
    const at = next.at ? ` (at ${new Date(next.at).toLocaleTimeString()})` : '';
    return `"${next.name || name}" goes on air next, when the current pass ends: `
      + `in ${formatClock(Math.round(next.in_seconds))}${at}.`;
  }
  const loaded = answer && answer.timeline;
  if (loaded && String(loaded.db_id) === String(id)) {
    return answer.state === 'live' ? `"${loaded.name}" is on air now.`
      : `Nothing was on air, so "${loaded.name}" is loaded: press Go live on the Live page to start it.`;
  }
  return `The appliance took "${name}"; the Live page shows when it goes on air.`;
}

// The last answer per show: it stays shown when the page moves to #/builder/<id> after the
// save this action made (the panels are drawn afresh there).
const answers = new WeakMap();

export function OnAirNext({ builder, session }) {
  useBuilder(builder);
  const [answer, setShown] = useState(() => answers.get(builder) || null);  // {text} | {problem, hint}
  const setAnswer = (value) => {
    if (value) answers.set(builder, value); else answers.delete(builder);
    setShown(value);
  };
  const refusal = saveRefusal(builder);
  const putOnAir = async () => {
    setAnswer(null);
    let id = session.recordId;
    if (id === null || builder.dirty) {
      if (refusal) {
        setAnswer({ problem: 'Not put on air: the timeline has problems to fix first (see Problems).' });
        return;
      }
      const outcome = await session.run(() => saveShow(builder, id), 'onair', { keepAddress: true });
      if (outcome.outcome !== 'saved') {
        setAnswer({ problem: 'Not put on air: it could not be saved (see Save).' });
        return;
      }
      id = outcome.id;
    }
    session.setBusy('onair');
    try {
      const reply = await post('/api/show/next', { timeline_id: Number(id) });  // the address gives text
      setAnswer({ text: answerWords(reply, id, builder.timeline.name) });
    } catch (error) {
      setAnswer({ problem: `Not put on air: ${error.problem || error}`, hint: error.hint });
    } finally {
      session.setBusy(null);
      session.follow(id);
    }
  };
  return html`
    <section class="panel builder-panel" aria-label="Put on air" data-testid="onair-next">
      <button type="button" class="btn btn-go" data-testid="put-on-air-next"
        disabled=${Boolean(refusal) || session.busy !== null} title=${refusal || ''} onClick=${putOnAir}>
        ${session.busy === 'onair' ? 'Putting on air…' : 'Put on air next'}</button>
      <p class="muted small">Saves it if needed; it plays after the current pass ends (at once when
        nothing is on air).</p>
      ${answer?.text && html`<p role="status" data-testid="onair-answer">${answer.text}</p>`}
      ${answer?.problem && html`<p class="field-problem" role="alert" data-testid="onair-answer">
        ${answer.problem}${answer.hint && html` What to do: ${answer.hint}`}</p>`}
    </section>`;
}
