// Manual overrides: emergency slate, force a camera, pin the camera on air, clear the
// overlays. Each row says whether it is active and which button releases it.
import { html } from '../html.js';
import { cameraIds, sourceName } from '../format.js';
import { Thumbnail } from './thumbnail.js';

function Override({ id, title, active, activeText, idleText, engage, release, busy, urgent,
  children }) {
  return html`
    <div class=${`override${active ? ' override-active' : ''}`} data-testid=${`override-${id}`}>
      <div class="override-head">
        <strong>${title}</strong>
        <span class=${`badge ${active ? 'badge-active' : 'badge-off'}`}
              data-testid=${`override-${id}-state`}>${active ? 'ACTIVE' : 'off'}</span>
      </div>
      <p class="override-text">${active ? activeText : idleText}</p>
      <div class="buttons">
        ${children}
        ${active
          ? html`<button type="button" class="btn btn-release" disabled=${busy}
                         onClick=${release.run}>${release.label}</button>`
          : engage && html`<button type="button" class=${`btn${urgent ? ' btn-warn' : ''}`}
                                   disabled=${busy}
                                   onClick=${engage.run}>${engage.label}</button>`}
      </div>
    </div>`;
}

export function Overrides({ state, controller, now }) {
  const overrides = state.show?.overrides || {};
  const busy = state.busy !== null || !state.show;
  const call = (label, name, body) => ({
    label, run: () => controller.command(label, `/api/show/overrides/${name}`, body),
  });
  const forced = overrides.forced_camera;
  const anyActive = overrides.slate || forced != null || overrides.pinned_source
    || overrides.overlays_cleared;
  return html`
    <section class="panel" aria-labelledby="overrides-title">
      <h2 id="overrides-title">Manual overrides</h2>
      <${Override} id="slate" title="Emergency slate" active=${overrides.slate} busy=${busy} urgent
        activeText="Viewers see the slate, whatever the timeline says. Release it to go back."
        idleText="Puts the slate on air at once, over everything."
        engage=${call('Emergency slate', 'slate')} release=${call('Release slate', 'release-slate')} />
      <${Override} id="camera" title="Force camera" active=${forced != null} busy=${busy}
        activeText=${`Camera ${forced} stays on air; the timeline's camera changes are ignored.`}
        idleText="Puts one camera on air until you release it."
        release=${call('Release camera', 'release-camera')}>
        ${forced == null && cameraIds(state.status).map((cameraId) => html`
          <div class="force-camera">
            <${Thumbnail} cameraId=${cameraId} now=${now} />
            <button type="button" class="btn" disabled=${busy}
                    onClick=${call(`Force camera ${cameraId}`, 'force-camera', { camera_id: cameraId }).run}>
              Camera ${cameraId}</button>
          </div>`)}
      <//>
      <${Override} id="pin" title="Pin current camera" active=${Boolean(overrides.pinned_source)}
        busy=${busy}
        activeText=${`${sourceName(overrides.pinned_source)} is pinned: cue changes wait until you unpin.`}
        idleText="Keeps what is on air now; the timeline runs on underneath."
        engage=${call('Pin current camera', 'pin')} release=${call('Unpin', 'unpin')} />
      <${Override} id="overlays" title="Clear all overlays" active=${overrides.overlays_cleared}
        busy=${busy}
        activeText="Every overlay is hidden. Restore them to show the timeline's overlays again."
        idleText="Hides every overlay (lower thirds, logos, tickers)."
        engage=${call('Clear all overlays', 'clear-overlays')}
        release=${call('Restore overlays', 'restore-overlays')} />
      ${anyActive && html`
        <div class="buttons">
          <button type="button" class="btn btn-release" disabled=${busy}
                  onClick=${call('Release all overrides', 'release-all').run}>
            Release all overrides</button>
        </div>`}
    </section>`;
}
