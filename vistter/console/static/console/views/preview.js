// What viewers see: the program's own MPEG-TS played in a video element (MSE, through
// ../preview.js), or the newest program JPEG once a second where MSE is missing.
import { useEffect, useRef, useState } from 'preact/hooks';
import { html } from '../html.js';

const JPEG_MS = 1000;

function attachFunction(module) {
  const named = Object.entries(module)
    .find(([name, value]) => typeof value === 'function' && /^attach/i.test(name));
  return named ? named[1] : (typeof module.default === 'function' ? module.default : null);
}

function detach(handle) {
  if (!handle) return;
  if (typeof handle === 'function') handle();
  else if (typeof handle.detach === 'function') handle.detach();
  else if (typeof handle.destroy === 'function') handle.destroy();
  else if (typeof handle.close === 'function') handle.close();
}

function JpegPreview() {
  const [tick, setTick] = useState(Date.now());
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    const timer = setInterval(() => setTick(Date.now()), JPEG_MS);
    return () => clearInterval(timer);
  }, []);
  if (failed) return html`<p class="muted">No preview: the appliance serves no program picture.</p>`;
  return html`<img class="preview-media" data-testid="preview-jpeg" alt="The program now"
    src=${`/api/preview.jpg?t=${tick}`} onError=${() => setFailed(true)} />`;
}

export function Preview() {
  const video = useRef(null);
  const [mode, setMode] = useState('MediaSource' in window || 'ManagedMediaSource' in window
    ? 'video' : 'jpeg');
  useEffect(() => {
    if (mode !== 'video') return undefined;
    let handle = null;
    let gone = false;
    import('../preview.js').then((module) => {
      const attach = attachFunction(module);
      if (!attach) throw new Error('preview.js exports no attach function');
      if (!gone) handle = attach(video.current, '/api/preview.ts');
    }).catch(() => { if (!gone) setMode('jpeg'); });
    return () => { gone = true; detach(handle); };
  }, [mode]);
  return html`
    <section class="panel" aria-labelledby="preview-title">
      <h2 id="preview-title">Program preview</h2>
      ${mode === 'video'
        ? html`<video class="preview-media" ref=${video} data-testid="preview-video" muted autoplay
                      playsinline aria-label="The program as viewers see it"></video>`
        : html`<${JpegPreview} />`}
      <p class="small muted">${mode === 'video' ? 'What viewers see, a second or two behind.'
        : 'Still pictures, one a second (the live stream cannot play here).'}</p>
    </section>`;
}
