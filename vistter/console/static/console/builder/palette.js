// The palette: every kind of cue, one entry per camera (and per PTZ preset). Drag an entry
// onto a track (vis-timeline reads the JSON in dataTransfer and calls the canvas's onAdd),
// or press it (mouse or keyboard) to add it at the playhead.
import { html } from '../html.js';
import { KINDS } from './kinds.js';
import { addCueAtPlayhead } from './adding.js';
import { formatClock } from './timeaxis.js';

// The entries: cameras first (from the appliance), then the other kinds.
export function paletteEntries(context = {}) {
  const entries = [];
  const cameras = context.cameras || [];
  for (const camera of cameras) {
    const name = camera.name || `Camera ${camera.id}`;
    entries.push({ key: `camera-${camera.id}`, kind: 'camera', label: name,
      options: { camera_id: camera.id }, help: KINDS.camera.help });
    for (const preset of camera.ptz?.presets || []) {
      entries.push({ key: `camera-${camera.id}-${preset}`, kind: 'camera',
        label: `${name} · ${preset}`, nested: true,
        options: { camera_id: camera.id, preset_id: preset }, help: `${name} at preset ${preset}.` });
    }
  }
  if (!cameras.length) {
    entries.push({ key: 'camera', kind: 'camera', label: 'Camera', options: {},
      help: KINDS.camera.help });
  }
  for (const [kind, spec] of Object.entries(KINDS)) {
    if (kind !== 'camera') entries.push({ key: kind, kind, label: spec.label, options: {}, help: spec.help });
  }
  return entries;
}

export function Palette({ builder, context, say }) {
  const entries = paletteEntries(context);
  const onDragStart = (entry) => (event) => {
    const data = { type: 'range', content: entry.label, kind: entry.kind, options: entry.options };
    event.dataTransfer.effectAllowed = 'copy';
    event.dataTransfer.setData('text', JSON.stringify(data));
    // While a cue is dragged, the playhead's grip must not catch the drop (see builder.css).
    const page = event.currentTarget.closest('.builder');
    page?.classList.add('dragging-cue');
    event.currentTarget.addEventListener('dragend',
      () => page?.classList.remove('dragging-cue'), { once: true });
  };
  const onPress = (entry) => () => {
    const added = addCueAtPlayhead(builder, entry.kind, context, entry.options);
    if (added.refused) say(added.refused);
    else {
      say(`Added ${entry.label} at ${formatClock(added.cue.start_time)} on `
        + `${added.track.kind === 'video' ? 'the Video track' : 'an Overlay track'}.`);
    }
  };
  const group = (track) => entries.filter((entry) => KINDS[entry.kind].track === track);
  const list = (track, title) => html`
    <h3 class="palette-title">${title}</h3>
    <ul class="palette-list">
      ${group(track).map((entry) => html`
        <li key=${entry.key}>
          <button type="button" draggable="true" data-kind=${entry.kind}
                  class=${`palette-item cue-${entry.kind}${entry.nested ? ' palette-nested' : ''}`}
                  title=${`${entry.help} Drag it onto ${track === 'video' ? 'the Video track' : 'an Overlay track'}, or press it to add it at the playhead.`}
                  aria-label=${`Add ${entry.label}`}
                  onDragStart=${onDragStart(entry)} onClick=${onPress(entry)}>
            <span class="palette-swatch" aria-hidden="true"></span>${entry.label}
          </button>
        </li>`)}
    </ul>`;
  return html`
    <aside class="builder-palette" aria-label="Cue palette">
      <h2>Palette</h2>
      <p class="muted palette-help">Drag onto a track, or press to add at the playhead.</p>
      ${list('video', 'Video track')}
      ${list('overlay', 'Overlay tracks')}
    </aside>`;
}
