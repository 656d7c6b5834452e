// The show's settings: name, length, frame rate, picture size, loop, and the fallback (what
// goes on air when a source fails: a backup camera, else a slate picture). Choices from lists
// where the model has a fixed set; every change is one builder.edit.
import { html } from '../../html.js';
import { useBuilder } from '../hooks.js';
import { AssetPicker, cameraOptions } from './catalog.js';
import { CheckField, SelectField, TextField, TimeField } from './fields.js';

export const FRAME_RATES = [24, 25, 30, 50, 60];
export const RESOLUTIONS = [
  { value: '1280x720', label: '1280 × 720 (HD 720p)' },
  { value: '1920x1080', label: '1920 × 1080 (Full HD 1080p)' },
  { value: '854x480', label: '854 × 480 (SD)' },
  { value: '2560x1440', label: '2560 × 1440 (1440p)' },
  { value: '3840x2160', label: '3840 × 2160 (4K)' },
];
const MAX_TIMELINE_SECONDS = 7 * 24 * 3600;

function setTimeline(builder, label, change) {
  builder.edit(label, (draft) => { change(draft.timeline); });
}

function setFallback(builder, label, key, value) {
  setTimeline(builder, label, (timeline) => {
    const fallback = { ...(timeline.fallback || {}) };
    if (value === null || value === '') delete fallback[key]; else fallback[key] = value;
    if (Object.keys(fallback).length) timeline.fallback = fallback; else delete timeline.fallback;
  });
}

export function SettingsPanel({ builder, catalog }) {
  useBuilder(builder);
  const timeline = builder.timeline;
  const fps = Number(timeline.fps ?? 30);
  const resolution = timeline.resolution || '1920x1080';
  const fallback = timeline.fallback || {};
  const rates = FRAME_RATES.includes(fps) ? FRAME_RATES : [...FRAME_RATES, fps].sort((a, b) => a - b);
  const sizes = RESOLUTIONS.some((r) => r.value === resolution) ? RESOLUTIONS
    : [...RESOLUTIONS, { value: resolution, label: resolution.replace('x', ' × ') }];
  const backup = fallback.backup_camera_id ?? '';
  return html`
    <section class="panel builder-panel" aria-labelledby="settings-title" data-testid="settings">
      <h2 id="settings-title">Settings</h2>
      <${TextField} label="Name" value=${timeline.name} maxLength=${200} testid="setting-name"
        onCommit=${(value) => setTimeline(builder, 'Rename timeline', (t) => { t.name = value.trim(); })} />
      <div class="field-row">
        <${TimeField} label="Length" seconds=${timeline.duration} testid="setting-duration"
          limits=${{ positive: true, max: MAX_TIMELINE_SECONDS, what: 'The length' }}
          onCommit=${(seconds) => setTimeline(builder, 'Change length', (t) => { t.duration = seconds; })} />
        <${SelectField} label="Frame rate" value=${fps} testid="setting-fps"
          options=${rates.map((rate) => ({ value: rate, label: `${rate} fps` }))}
          onCommit=${(value) => setTimeline(builder, 'Change frame rate', (t) => { t.fps = Number(value); })} />
      </div>
      <${SelectField} label="Picture size" value=${resolution} options=${sizes} testid="setting-resolution"
        onCommit=${(value) => setTimeline(builder, 'Change picture size', (t) => { t.resolution = value; })} />
      <${CheckField} label="Loop: start again at the end" checked=${timeline.loop} testid="setting-loop"
        onCommit=${(on) => setTimeline(builder, on ? 'Loop the timeline' : 'Play the timeline once',
          (t) => { t.loop = on; })} />
      <h3 class="panel-subtitle">When a source fails</h3>
      <${SelectField} label="Backup camera" value=${backup} testid="setting-backup-camera"
        options=${[{ value: '', label: 'None (use the slate)' }, ...cameraOptions(catalog.cameras, fallback.backup_camera_id)]}
        onCommit=${(value) => setFallback(builder, 'Change backup camera', 'backup_camera_id',
          value === '' ? null : Number(value))} />
      <${AssetPicker} label="Slate picture" kinds=${['image']} value=${fallback.test_pattern}
        assets=${catalog.assets} testid="setting-slate"
        onCommit=${(path) => setFallback(builder, 'Change slate', 'test_pattern', path)} />
      ${fallback.test_pattern && html`<button type="button" class="btn btn-small" data-testid="setting-slate-clear"
        onClick=${() => setFallback(builder, 'Remove slate picture', 'test_pattern', null)}>
        Use the appliance's own slate</button>`}
    </section>`;
}
