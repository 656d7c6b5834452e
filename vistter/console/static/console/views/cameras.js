// The cameras page: every camera with its state, snapshot, backup and PTZ presets. "Go to
// preset" is refused while the camera is on air (the API says why; the button says so first).
import { html } from '../html.js';
import { Thumbnail } from './thumbnail.js';

const STATE_TONE = { online: 'ok', connecting: 'wait', stalled: 'warn', offline: 'bad' };

function Camera({ camera, controller, busy, now }) {
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
      </div>
    </li>`;
}

export function CamerasPage({ state, controller, now }) {
  const cameras = state.cameras;
  const busy = state.busy !== null;
  return html`
    <section class="panel" aria-labelledby="cameras-title">
      <h2 id="cameras-title">Cameras</h2>
      ${cameras == null
        ? html`<p class="muted">Loading…</p>`
        : cameras.length === 0
          ? html`<p class="muted">No camera is configured.</p>`
          : html`<ul class="dests">${cameras.map((camera) => html`
              <${Camera} key=${camera.id} camera=${camera} controller=${controller} busy=${busy}
                         now=${now} />`)}</ul>`}
      <p class="small muted">Cameras are set in the appliance's configuration file
        ([[cameras]]: URL, backup, PTZ presets); restart the appliance after changing it.</p>
    </section>`;
}
