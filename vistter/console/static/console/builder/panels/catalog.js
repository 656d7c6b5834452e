// What the panels offer to choose from: the appliance's cameras (with their PTZ presets) and
// the stored assets (with thumbnails). `context` from the page ({cameras, assets}) is used
// when it has them; otherwise they are read here once (GET /api/cameras, GET /api/assets).
import { useEffect, useState } from 'preact/hooks';
import { html } from '../../html.js';
import { get } from '../../api.js';

export function useCatalog(context) {
  const given = context && Array.isArray(context.cameras) && Array.isArray(context.assets);
  const [loaded, setLoaded] = useState({ cameras: [], assets: [], problem: null });
  useEffect(() => {
    if (given) return undefined;
    let alive = true;
    Promise.allSettled([get('/api/cameras'), get('/api/assets')]).then(([cameras, assets]) => {
      if (!alive) return;
      const failed = [cameras, assets].find((answer) => answer.status === 'rejected');
      setLoaded({
        cameras: cameras.status === 'fulfilled' ? cameras.value.cameras || [] : [],
        assets: assets.status === 'fulfilled' ? assets.value.assets || [] : [],
        problem: failed ? failed.reason : null,
      });
    });
    return () => { alive = false; };
  }, [given]);
  return given ? { cameras: context.cameras, assets: context.assets, problem: null } : loaded;
}

const baseName = (path) => String(path || '').split('?')[0].split('/').pop();

// Choices for a camera: every configured camera; one the show names but the appliance
// does not have stays choosable, marked, so opening a show never changes it.
export function cameraOptions(cameras, current) {
  const options = cameras.map((camera) => ({ value: camera.id,
    label: `Camera ${camera.id} · ${camera.name}` }));
  if (current !== undefined && current !== null && !cameras.some((c) => c.id === Number(current))) {
    options.push({ value: Number(current), label: `Camera ${current} (not on this appliance)` });
  }
  return options;
}

export function presetOptions(camera, current) {
  const presets = camera?.ptz?.presets || [];
  const options = [{ value: '', label: presets.length ? 'No preset (as it is)' : 'No presets (not a PTZ camera)' },
    ...presets.map((name) => ({ value: name, label: name }))];
  if (current && !presets.includes(current)) {
    options.push({ value: current, label: `${current} (not set on this camera)` });
  }
  return options;
}

// Assets of the wanted kinds ('image', 'video'), plus the current reference if it is not
// among them (a file in the assets folder that was not uploaded, or one that is gone).
export function assetChoices(assets, kinds, current) {
  const choices = assets.filter((asset) => kinds.includes(asset.asset_type)).map((asset) => ({
    path: asset.file_path, name: asset.filename || baseName(asset.file_path),
    thumbnail: asset.thumbnail_url || (asset.asset_type === 'image' ? asset.file_path : null),
    known: true,
  }));
  if (current && !choices.some((choice) => choice.path === current)) {
    choices.unshift({ path: current, name: baseName(current), thumbnail: null, known: false });
  }
  return choices;
}

function Thumbnail({ choice }) {
  const [broken, setBroken] = useState(false);
  if (!choice.thumbnail || broken) return html`<span class="asset-thumb asset-thumb-none" aria-hidden="true">?</span>`;
  return html`<img class="asset-thumb" src=${choice.thumbnail} alt="" loading="lazy"
    onError=${() => setBroken(true)} />`;
}

// A list of files to pick one of, each shown with its thumbnail and name.
export function AssetPicker({ label, kinds, value, assets, onCommit, testid }) {
  const choices = assetChoices(assets, kinds, value);
  return html`
    <fieldset class="field asset-picker" data-testid=${testid}>
      <legend>${label}</legend>
      ${choices.length === 0 && html`<p class="muted small">No ${kinds.join(' or ')} files yet:
        upload one on the Assets page.</p>`}
      <div class="asset-grid" role="radiogroup" aria-label=${label}>
        ${choices.map((choice) => html`
          <button type="button" role="radio" class="asset-choice" aria-checked=${choice.path === value}
            title=${choice.path} onClick=${() => choice.path !== value && onCommit(choice.path)}>
            <${Thumbnail} choice=${choice} />
            <span class="asset-name">${choice.name}${!choice.known && html` <em>(not in the library)</em>`}</span>
          </button>`)}
      </div>
    </fieldset>`;
}
