// The cameras page: every camera with its state, snapshot, backup and PTZ presets. "Go to
// preset" is refused while the camera is on air (the API says why; the button says so first).
// Add a camera, edit one (its ingest restarts with the new settings) or remove one (after a
// confirmation; refused, with the reason in words, while a timeline or another camera uses it).
import { useEffect, useState } from 'preact/hooks';
import { html } from '../html.js';
import { request } from '../api.js';
import { toProblem } from '../controller.js';
import { CameraForm, EMPTY_CAMERA, editForm, inWords, nextId } from './camera_form.js';
import { Thumbnail } from './thumbnail.js';

const STATE_TONE = { online: 'ok', connecting: 'wait', stalled: 'warn', offline: 'bad' };

function Camera({ camera, controller, busy, now, children }) {
  const tone = STATE_TONE[camera.state] || 'warn';
  const presets = camera.ptz?.presets || [];
  const move = (preset) => controller.command(`Move ${camera.name} to ${preset}`,
    `/api/cameras/${camera.id}/ptz/${encodeURIComponent(preset)}`);
  return html`
    <li class=${`camera dest-${tone}`} data-testid=${`camera-${camera.id}`}>
      <${Thumbnail} cameraId=${camera.id} now=${now} large />
      <div class="dest-body">
        <div class="dest-head">
          <strong>${camera.name}</strong>
          <span class="dest-state" data-testid="camera-state">${camera.state}</span>
          ${camera.on_air && html`<span class="badge badge-active">ON AIR</span>`}
        </div>
        <div class="small">${camera.detail}</div>
        <div class="small muted">${camera.url} · ${camera.transport.toUpperCase()}</div>
        <div class="small">Backup: ${camera.backup_camera_id != null
          ? `Camera ${camera.backup_camera_id}` : 'none (the slate covers it)'}</div>
        ${presets.length > 0
          ? html`
            <div class="small">PTZ presets${camera.on_air
              ? ': moving is refused while this camera is on air (viewers would see it).' : ''}</div>
            <div class="buttons">${presets.map((preset) => html`
              <button type="button" class="btn btn-small" disabled=${busy || camera.on_air}
                      onClick=${() => move(preset)}>Go to ${preset}</button>`)}</div>`
          : html`<div class="small muted">No PTZ control.</div>`}
        ${children}
      </div>
    </li>`;
}

function CameraActions({ camera, busy, removing, setRemoving, edit, remove, error }) {
  return html`
    <div class="buttons">
      <button type="button" class="btn btn-small" disabled=${busy}
              onClick=${() => edit(camera)}>Edit</button>
      ${removing === camera.id
        ? html`<button type="button" class="btn btn-small btn-danger" disabled=${busy}
            onClick=${() => remove(camera)}>Yes, remove ${camera.name}</button>
          <button type="button" class="btn btn-small" onClick=${() => setRemoving(null)}>Keep it</button>`
        : html`<button type="button" class="btn btn-small btn-danger" disabled=${busy}
            onClick=${() => setRemoving(camera.id)}>Remove</button>`}
    </div>
    ${error && html`<p class="warning" role="alert" data-testid="camera-remove-error">${inWords(error)}</p>`}`;
}

export function CamerasPage({ state, controller, now }) {
  const cameras = state.cameras;
  const busy = state.busy !== null;
  const [form, setForm] = useState({ ...EMPTY_CAMERA });
  const [removing, setRemoving] = useState(null);
  const [error, setError] = useState(null);  // { where: 'form' | camera id, problem, hint }
  useEffect(() => {
    if (cameras && form.id === '' && form.editing == null) setForm((f) => ({ ...f, id: nextId(cameras) }));
  }, [cameras]);
  // One change: busy while it runs; its refusal shown in words where it was asked.
  const send = async (action, method, path, body, where = 'form') => {
    controller.store.set({ busy: action });
    try {
      const answer = await request(method, path, body);
      setError(null);
      controller.scheduleRefresh(50);
      return answer || true;
    } catch (failure) {
      setError({ where, ...toProblem(action, failure) });
      return null;
    } finally {
      controller.store.set({ busy: null });
    }
  };
  const edit = (camera) => {
    setError(null);
    setForm(editForm(camera));
    // The form is below the list (far below on a phone): bring it into view.
    setTimeout(() => document.querySelector('[data-testid=camera-form]')?.scrollIntoView(), 0);
  };
  const remove = async (camera) => {
    setRemoving(null);
    await send(`Remove ${camera.name}`, 'DELETE', `/api/cameras/${camera.id}`, undefined, camera.id);
  };
  return html`
    <section class="panel" aria-labelledby="cameras-title">
      <h2 id="cameras-title">Cameras</h2>
      ${cameras == null
        ? html`<p class="muted">Loading…</p>`
        : cameras.length === 0
          ? html`<p class="muted">No camera is configured.</p>`
          : html`<ul class="dests">${cameras.map((camera) => html`
              <${Camera} key=${camera.id} camera=${camera} controller=${controller} busy=${busy}
                         now=${now}>
                <${CameraActions} camera=${camera} busy=${busy} removing=${removing}
                  setRemoving=${setRemoving} edit=${edit} remove=${remove}
                  error=${error?.where === camera.id ? error : null} />
              <//>`)}</ul>`}
    </section>
    <section class="panel">
      ${cameras != null && html`<${CameraForm} cameras=${cameras} form=${form} setForm=${setForm}
        send=${send} busy=${busy} error=${error?.where === 'form' ? error : null} />`}
      <p class="small muted">Cameras from the configuration file ([[cameras]]) come back as
        configured when the appliance restarts; changes made here are not saved there.</p>
    </section>`;
}
