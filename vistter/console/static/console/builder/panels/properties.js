// The properties panel: every setting of the selected cue, chosen from lists (cameras and
// their presets, assets with thumbnails, the five positions, the transitions) or typed where
// it is words or a number; start and duration as m:ss. Every change is one builder.edit,
// so Undo takes it back.
import { html } from '../../html.js';
import { useBuilder } from '../hooks.js';
import { findCue, roundTime } from '../state.js';
import { KINDS, kindOf } from '../kinds.js';
import { AssetPicker, cameraOptions, presetOptions } from './catalog.js';
import { CheckField, NumberField, SelectField, TextField, TimeField } from './fields.js';

export const POSITIONS = [
  { value: 'top_left', label: 'Top left' }, { value: 'top_right', label: 'Top right' },
  { value: 'bottom_left', label: 'Bottom left' }, { value: 'bottom_right', label: 'Bottom right' },
  { value: 'center', label: 'Centre' },
];
export const TRANSITIONS = [
  { value: 'cut', label: 'Cut' }, { value: 'fade', label: 'Fade (through black)' },
  { value: 'dissolve', label: 'Dissolve (cross-fade)' },
];
const TEXT_TYPES = ['lower_third', 'text', 'dynamic_text'];

// builder.edit on one cue: change(cue) mutates the draft's copy of it.
function editCue(builder, cueId, label, change) {
  builder.edit(label, (draft) => {
    const found = findCue(draft, cueId);
    if (found) change(found.cue);
  });
}

function Timing({ builder, cue }) {
  const total = Number(builder.timeline.duration);
  return html`
    <div class="field-row">
      <${TimeField} label="Start" seconds=${cue.start_time} testid="prop-start"
        limits=${{ min: 0, max: total, what: 'The start' }}
        onCommit=${(seconds) => builder.moveCues([{ id: cue.id, start_time: seconds }], 'Change start')} />
      <${TimeField} label="Duration" seconds=${cue.duration} testid="prop-duration"
        limits=${{ positive: true, max: total, what: 'The duration' }}
        onCommit=${(seconds) => builder.moveCues([{ id: cue.id, duration: seconds }], 'Change duration')} />
    </div>`;
}

function Transition({ builder, cue }) {
  const params = cue.params;
  const kind = params.transition || 'cut';
  const seconds = params.transition_duration ?? (kind === 'cut' ? 0 : 1);
  return html`
    <div class="field-row">
      <${SelectField} label="Transition in" value=${kind} options=${TRANSITIONS} testid="prop-transition"
        onCommit=${(value) => editCue(builder, cue.id, 'Change transition', (c) => {
          c.params.transition = value;
          if (value === 'cut') delete c.params.transition_duration;
        })} />
      <${NumberField} label="Transition length" unit="s" value=${seconds} min=${0} max=${cue.duration}
        step=${0.1} testid="prop-transition-duration" disabled=${kind === 'cut'}
        onCommit=${(value) => editCue(builder, cue.id, 'Change transition length', (c) => {
          c.params.transition_duration = roundTime(value);
        })} />
    </div>`;
}

function CameraFields({ builder, cue, catalog }) {
  const params = cue.params;
  const camera = catalog.cameras.find((c) => c.id === Number(params.camera_id));
  return html`
    <${SelectField} label="Camera" value=${params.camera_id} testid="prop-camera"
      options=${cameraOptions(catalog.cameras, params.camera_id)}
      onCommit=${(value) => editCue(builder, cue.id, 'Change camera', (c) => {
        c.params.camera_id = Number(value);
        const next = catalog.cameras.find((candidate) => candidate.id === Number(value));
        if (!(next?.ptz?.presets || []).includes(c.params.preset_id)) delete c.params.preset_id;
      })} />
    <${SelectField} label="PTZ preset" value=${params.preset_id || ''} testid="prop-preset"
      options=${presetOptions(camera, params.preset_id)}
      onCommit=${(value) => editCue(builder, cue.id, 'Change preset', (c) => {
        if (value) c.params.preset_id = value; else delete c.params.preset_id;
      })} />`;
}

function MediaFields({ builder, cue, catalog }) {
  const isVideo = kindOf(cue) === 'video';
  return html`
    <${AssetPicker} label=${isVideo ? 'Video file' : 'Picture'} kinds=${['image', 'video']}
      value=${cue.params.media_url} assets=${catalog.assets} testid="prop-media"
      onCommit=${(path) => editCue(builder, cue.id, 'Change file', (c) => { c.params.media_url = path; })} />
    ${isVideo && html`<${CheckField} label="Loop the video" checked=${cue.params.loop} testid="prop-loop"
      onCommit=${(on) => editCue(builder, cue.id, on ? 'Loop video' : 'Play video once', (c) => {
        if (on) c.params.loop = true; else delete c.params.loop;
      })} />`}`;
}

function OverlayFields({ builder, cue, catalog }) {
  const params = cue.params;
  const set = (label, key, value) => editCue(builder, cue.id, label, (c) => { c.params[key] = value; });
  const custom = params.x !== undefined && params.x !== null;
  const positions = custom ? [{ value: 'custom', label: `At x ${params.x}, y ${params.y}` }, ...POSITIONS]
    : POSITIONS;
  const defaultPosition = { lower_third: 'bottom_left', logo: 'top_right', image: 'center' }[params.type]
    || 'top_left';
  return html`
    ${['text', 'lower_third'].includes(params.type) && html`
      <${TextField} label="Text" value=${params.text} multiline testid="prop-text"
        onCommit=${(value) => set('Change text', 'text', value)} />`}
    ${params.type === 'lower_third' && html`
      <${TextField} label="Second line" value=${params.subtitle} required=${false} testid="prop-subtitle"
        onCommit=${(value) => editCue(builder, cue.id, 'Change second line', (c) => {
          if (value.trim()) c.params.subtitle = value; else delete c.params.subtitle;
        })} />`}
    ${params.type === 'dynamic_text' && html`
      <${TextField} label="Template ({time:%H:%M}, {value})" value=${params.template} testid="prop-template"
        onCommit=${(value) => set('Change template', 'template', value)} />`}
    ${['logo', 'image'].includes(params.type) && html`
      <${AssetPicker} label="Picture" kinds=${['image']} value=${params.image_url} assets=${catalog.assets}
        testid="prop-image" onCommit=${(path) => set('Change picture', 'image_url', path)} />`}
    <${SelectField} label="Position" value=${custom ? 'custom' : (params.position || defaultPosition)}
      options=${positions} testid="prop-position"
      onCommit=${(value) => value !== 'custom' && editCue(builder, cue.id, 'Change position', (c) => {
        c.params.position = value;
        delete c.params.x;
        delete c.params.y;
      })} />
    <div class="field-row">
      <${NumberField} label="Opacity" value=${params.opacity ?? 1} min=${0} max=${1} step=${0.05}
        testid="prop-opacity" onCommit=${(value) => set('Change opacity', 'opacity', value)} />
      ${TEXT_TYPES.includes(params.type) && html`
        <${NumberField} label="Font size" unit="px" value=${params.font_size ?? 32} min=${6} max=${400}
          step=${1} testid="prop-font-size" onCommit=${(value) => set('Change font size', 'font_size', value)} />`}
    </div>
    <div class="field-row">
      <${NumberField} label="Fade in" unit="s" value=${params.fade_in ?? 0} min=${0} max=${cue.duration}
        step=${0.1} testid="prop-fade-in" onCommit=${(value) => set('Change fade in', 'fade_in', roundTime(value))} />
      <${NumberField} label="Fade out" unit="s" value=${params.fade_out ?? 0} min=${0} max=${cue.duration}
        step=${0.1} testid="prop-fade-out" onCommit=${(value) => set('Change fade out', 'fade_out', roundTime(value))} />
    </div>`;
}

export function PropertiesPanel({ builder, catalog }) {
  useBuilder(builder);
  const selected = builder.selectedCues();
  if (selected.length !== 1) {
    return html`
      <section class="panel builder-panel" aria-labelledby="properties-title" data-testid="properties">
        <h2 id="properties-title">Properties</h2>
        <p class="muted">${selected.length ? `${selected.length} cues are selected: select one to change it.`
          : 'Select a cue on the timeline to change it.'}</p>
      </section>`;
  }
  const { cue, kind: trackKind } = selected[0];
  const kind = kindOf(cue);
  const problems = builder.problemsFor(cue.id);
  return html`
    <section class="panel builder-panel" aria-labelledby="properties-title" data-testid="properties">
      <h2 id="properties-title">Properties</h2>
      <p class="prop-kind"><strong>${KINDS[kind]?.label || 'Cue'}</strong>
        <span class="muted"> · ${cue.id} · ${trackKind === 'video' ? 'video track' : 'overlay track'}</span></p>
      ${problems.length > 0 && html`<ul class="cue-problems" data-testid="prop-problems">
        ${problems.map((problem) => html`<li role="alert">${problem.message}${problem.hint
          && html`<span class="muted"> ${problem.hint}</span>`}</li>`)}</ul>`}
      <div key=${cue.id}>
      <${Timing} builder=${builder} cue=${cue} />
      ${cue.action === 'show_camera' && html`<${CameraFields} builder=${builder} cue=${cue} catalog=${catalog} />`}
      ${cue.action === 'show_media' && html`<${MediaFields} builder=${builder} cue=${cue} catalog=${catalog} />`}
      ${cue.action !== 'show_overlay' && html`<${Transition} builder=${builder} cue=${cue} />`}
      ${cue.action === 'show_overlay' && html`<${OverlayFields} builder=${builder} cue=${cue} catalog=${catalog} />`}
      </div>
    </section>`;
}
