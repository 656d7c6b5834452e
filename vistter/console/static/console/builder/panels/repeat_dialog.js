// The Repeat dialog: "alternate camera 1 and camera 2 every 60 s until the end" and "show
// the logo for 10 s every 5 minutes", each one action (one undo step) that writes ordinary
// cues (repeat.js). What an action will do is said before it is done.
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from '../../html.js';
import { useBuilder } from '../hooks.js';
import { findCue } from '../state.js';
import { applyAlternation, applyOverlayRepeat, planAlternation, planOverlayRepeat } from '../repeat.js';
import { AssetPicker } from './catalog.js';
import { clockProblem, formatClock, parseClock } from './clock.js';
import { POSITIONS } from './properties.js';

function Clock({ label, value, onInput, testid, disabled = false }) {
  return html`<label class="field">${label}
    <input type="text" inputmode="decimal" value=${value} data-testid=${testid} disabled=${disabled}
      onInput=${(e) => onInput(e.target.value)} /></label>`;
}

function sourceOptions(catalog) {
  const cameras = catalog.cameras.map((camera) => ({ key: `camera:${camera.id}`,
    label: `Camera ${camera.id} · ${camera.name}`, source: { camera_id: camera.id } }));
  const files = catalog.assets.filter((a) => ['image', 'video'].includes(a.asset_type)).map((asset) => ({
    key: `file:${asset.file_path}`, label: `File · ${asset.filename}`, source: { media_url: asset.file_path } }));
  return [...cameras, ...files];
}

// The range fields shared by both actions, read into seconds (or a problem in words).
function readRange(form, total) {
  const why = clockProblem(form.every, { positive: true, max: total, what: 'The interval' })
    || clockProblem(form.from, { max: total, what: 'The start' })
    || (form.toEnd ? null : clockProblem(form.until, { positive: true, max: total, what: 'The end' }));
  if (why) return { problem: why };
  return { every: parseClock(form.every), from: parseClock(form.from),
    until: form.toEnd ? total : parseClock(form.until) };
}

function alternationOptions(form, choices, total) {
  const range = readRange(form, total);
  if (range.problem) return range;
  const sources = form.sources.map((key) => choices.find((c) => c.key === key)?.source).filter(Boolean);
  return { ...range, sources, transition: form.transition };
}

function overlayOptions(form, builder, total) {
  const range = readRange(form, total);
  if (range.problem) return range;
  const why = clockProblem(form.length, { positive: true, max: total, what: 'The length' });
  if (why) return { problem: why };
  let params;
  if (form.what === 'selected') {
    params = builder.selectedCues()[0]?.cue.params;
  } else if (form.what === 'logo') {
    if (!form.image) return { problem: 'Choose the logo picture.' };
    params = { type: 'logo', image_url: form.image, position: form.position };
  } else {
    if (!form.text.trim()) return { problem: 'Type the text to show.' };
    params = { type: 'text', text: form.text.trim(), position: form.position };
  }
  return { ...range, params, length: parseClock(form.length), trackId: form.track || null };
}

// Repeating the selected overlay cue replaces it: the repetition starts where it was.
function withoutSelected(draft, builder, form) {
  if (form.what !== 'selected') return null;
  const selected = builder.selectedCues()[0];
  const found = selected && findCue(draft, selected.cue.id);
  if (!found) return null;
  found.track.cues.splice(found.cueIndex, 1);
  return found.track.track_id;
}

function planText(mode, builder, options) {
  if (options.problem) return { problem: options.problem };
  try {
    if (mode === 'alternate') {
      const plan = planAlternation(builder.doc, options);
      const replaced = plan.removed.length + plan.trimmed.length;
      return { text: `Makes ${plan.cues.length} cues on the video track from ${formatClock(options.from)}`
        + ` to ${formatClock(options.until)}${replaced ? `, replacing or shortening ${replaced} cue(s) there` : ''}.` };
    }
    const plan = planOverlayRepeat(builder.doc, options);
    return { text: `Makes ${plan.cues.length} overlay cues of ${formatClock(options.length)}`
      + ` every ${formatClock(options.every)}${plan.newTrack ? ' on a new overlay track' : ` on ${plan.trackId}`}.` };
  } catch (error) {
    return { problem: error.message };
  }
}

export function RepeatDialog({ builder, catalog, open, onClose }) {
  useBuilder(builder);
  const dialog = useRef(null);
  const total = Number(builder.timeline.duration);
  const choices = sourceOptions(catalog);
  const selected = builder.selectedCues();
  const overlaySelected = selected.length === 1 && selected[0].kind === 'overlay';
  const [mode, setMode] = useState('alternate');
  const [form, setForm] = useState({ sources: [], every: '1:00', from: '0:00', until: '', toEnd: true,
    transition: 'cut', what: 'logo', length: '0:10', image: '', text: '', position: 'top_right', track: '' });
  const patch = (change) => setForm((current) => ({ ...current, ...change }));
  useEffect(() => {
    const element = dialog.current;
    if (!element) return;
    if (open && !element.open) {
      const keys = choices.map((c) => c.key);
      patch({ sources: form.sources.length ? form.sources : keys.slice(0, 2),
        from: formatClock(overlaySelected ? selected[0].cue.start_time : 0), until: formatClock(total),
        what: overlaySelected ? 'selected' : form.what, every: overlaySelected ? '5:00' : form.every,
        length: overlaySelected ? formatClock(selected[0].cue.duration) : form.length });
      if (overlaySelected) setMode('overlay');
      element.showModal();
    } else if (!open && element.open) {
      element.close();
    }
  }, [open]);
  const options = mode === 'alternate' ? alternationOptions(form, choices, total)
    : overlayOptions(form, builder, total);
  const plan = planText(mode, builder, options);
  const apply = () => {
    let ids = [];
    try {
      if (mode === 'alternate') {
        builder.edit('Alternate sources', (draft) => { ids = applyAlternation(draft, options); });
      } else {
        builder.edit(`Repeat ${options.params.type.replace('_', ' ')}`, (draft) => {
          const trackId = withoutSelected(draft, builder, form);
          ids = applyOverlayRepeat(draft, { ...options, trackId: trackId || options.trackId }).ids;
        });
      }
    } catch (error) {
      patch({ failed: error.message });
      return;
    }
    builder.select(ids);
    patch({ failed: null });
    onClose();
  };
  const overlays = builder.timeline.tracks.overlays || [];
  return html`
    <dialog ref=${dialog} class="repeat-dialog" aria-labelledby="repeat-title" data-testid="repeat-dialog"
      onClose=${onClose}>
      <h2 id="repeat-title">Repeat</h2>
      <div class="tabs" role="tablist">
        <button type="button" role="tab" aria-selected=${mode === 'alternate'} class="btn btn-small"
          onClick=${() => setMode('alternate')}>Alternate sources</button>
        <button type="button" role="tab" aria-selected=${mode === 'overlay'} class="btn btn-small"
          onClick=${() => setMode('overlay')}>Repeat an overlay</button>
      </div>
      ${mode === 'alternate' ? html`
        <fieldset class="field"><legend>Take in turn</legend>
          ${form.sources.map((key, index) => html`<div class="field-row">
            <select aria-label=${`Source ${index + 1}`} data-testid=${`repeat-source-${index + 1}`} value=${key}
              onChange=${(e) => patch({ sources: form.sources.map((k, i) => (i === index ? e.target.value : k)) })}>
              ${choices.map((c) => html`<option value=${c.key} selected=${c.key === key}>${c.label}</option>`)}
            </select>
            ${form.sources.length > 2 && html`<button type="button" class="btn btn-small"
              onClick=${() => patch({ sources: form.sources.filter((_, i) => i !== index) })}>Remove</button>`}
          </div>`)}
          <button type="button" class="btn btn-small" disabled=${!choices.length}
            onClick=${() => patch({ sources: [...form.sources, choices[form.sources.length % choices.length].key] })}>
            Add a source</button>
        </fieldset>
        <label class="field">Transition
          <select value=${form.transition} data-testid="repeat-transition" onChange=${(e) => patch({ transition: e.target.value })}>
            <option value="cut">Cut</option><option value="fade">Fade</option><option value="dissolve">Dissolve</option>
          </select></label>` : html`
        <label class="field">What
          <select value=${form.what} data-testid="repeat-what" onChange=${(e) => patch({ what: e.target.value })}>
            ${overlaySelected && html`<option value="selected">The selected cue (${selected[0].cue.id})</option>`}
            <option value="logo">A logo</option><option value="text">A text</option>
          </select></label>
        ${form.what === 'logo' && html`<${AssetPicker} label="Logo picture" kinds=${['image']} value=${form.image}
          assets=${catalog.assets} testid="repeat-image" onCommit=${(path) => patch({ image: path })} />`}
        ${form.what === 'text' && html`<label class="field">Text
          <input type="text" value=${form.text} data-testid="repeat-text" onInput=${(e) => patch({ text: e.target.value })} /></label>`}
        ${form.what !== 'selected' && html`<label class="field">Position
          <select value=${form.position} onChange=${(e) => patch({ position: e.target.value })}>
            ${POSITIONS.map((p) => html`<option value=${p.value} selected=${p.value === form.position}>${p.label}</option>`)}
          </select></label>
          <label class="field">Track
          <select value=${form.track} data-testid="repeat-track" onChange=${(e) => patch({ track: e.target.value })}>
            <option value="">The first free overlay track</option>
            ${overlays.map((t) => html`<option value=${t.track_id}>${t.track_id} (layer ${t.layer || 1})</option>`)}
            <option value="new">A new overlay track</option>
          </select></label>`}
        <${Clock} label="Show it for" value=${form.length} testid="repeat-length" onInput=${(v) => patch({ length: v })} />`}
      <div class="field-row">
        <${Clock} label="Every" value=${form.every} testid="repeat-every" onInput=${(v) => patch({ every: v })} />
        <${Clock} label="From" value=${form.from} testid="repeat-from" onInput=${(v) => patch({ from: v })} />
        <${Clock} label="Until" value=${form.toEnd ? formatClock(total) : form.until} testid="repeat-until"
          disabled=${form.toEnd} onInput=${(v) => patch({ until: v })} />
      </div>
      <label class="field field-check"><input type="checkbox" checked=${form.toEnd} data-testid="repeat-to-end"
        onChange=${(e) => patch({ toEnd: e.target.checked, until: formatClock(total) })} /> Until the end</label>
      <p class=${plan.problem ? 'field-problem' : 'muted'} data-testid="repeat-plan" role="status">
        ${plan.problem || plan.text}</p>
      ${form.failed && html`<p class="field-problem" role="alert">${form.failed}</p>`}
      <div class="buttons">
        <button type="button" class="btn btn-go" disabled=${Boolean(plan.problem)} data-testid="repeat-apply"
          onClick=${apply}>${mode === 'alternate' ? 'Alternate' : 'Repeat'}</button>
        <button type="button" class="btn" onClick=${onClose}>Cancel</button>
      </div>
    </dialog>`;
}
