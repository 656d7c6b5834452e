// A camera's snapshot, reloaded about once a second (the `now` tick of the page). Until the
// camera has delivered a frame (or where the appliance serves no thumbnails) it says so.
import { useState } from 'preact/hooks';
import { html } from '../html.js';

export function Thumbnail({ cameraId, now, large = false }) {
  const [failedAt, setFailedAt] = useState(0);
  const tick = Math.floor(now / 1000);
  const retry = failedAt && now - failedAt < 3000;
  const cls = large ? 'thumb thumb-large' : 'thumb';
  if (retry) return html`<span class=${`${cls} thumb-none`}>no picture</span>`;
  return html`<img class=${cls} alt=${`Camera ${cameraId} now`} data-testid=${`thumb-${cameraId}`}
    src=${`/api/cameras/${cameraId}/thumbnail.jpg?t=${tick}`}
    onError=${() => setFailedAt(Date.now())} />`;
}
