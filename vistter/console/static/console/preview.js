// The program preview: the appliance's own encoded program (GET /api/preview.ts, MPEG-TS,
// the same bytes the destinations get) played in a <video> through mpegts.js (MSE), kept
// close to the live edge. No second encode: each tab is one viewer of the `preview` output.
//
//   import { attachPreview } from '/static/console/preview.js';
//   const preview = attachPreview(videoElement, '/api/preview.ts', { onState });
//   ...
//   preview.detach();
//
// The appliance drops a viewer that falls behind (its stream simply ends) and refuses more
// than [preview] max_viewers (503): both make this module reconnect by itself, with a growing
// pause. A hidden tab lets go of its slot and takes it again when shown. Without MSE, use
// refreshJpeg(img) instead: the newest program frame as a JPEG, once a second.
//
// Only `attachPreview` is named attach*: the console's view picks the first such export.

const MPEGTS_SCRIPT = '/static/vendor/mpegts/mpegts.js';
const RETRY_MS = [1000, 2000, 4000, 8000];
const JPEG_MS = 1000;

// Low latency: no stash buffer, chase the live edge (seek when more than MAX behind, play a
// little faster when more than TARGET behind), drop what is already played.
export const LOW_LATENCY = Object.freeze({
  isLive: true,
  enableWorker: false,
  enableStashBuffer: false,
  stashInitialSize: 64 * 1024,
  lazyLoad: false,
  autoCleanupSourceBuffer: true,
  autoCleanupMaxBackwardDuration: 10,
  autoCleanupMinBackwardDuration: 5,
  liveBufferLatencyChasing: true,
  liveBufferLatencyChasingOnPaused: true,
  liveBufferLatencyMaxLatency: 1.0,
  liveBufferLatencyMinRemain: 0.25,
  liveSync: true,
  liveSyncMaxLatency: 0.7,
  liveSyncTargetLatency: 0.35,
  liveSyncPlaybackRate: 1.2,
});

let loading = null;

// mpegts.js is a UMD bundle (it sets window.mpegts), not an ES module: load it once through
// a classic script of this origin (the page's Content-Security-Policy allows 'self').
export function loadMpegts() {
  if (window.mpegts) return Promise.resolve(window.mpegts);
  if (!loading) {
    loading = new Promise((resolve, reject) => {
      const script = document.createElement('script');
      script.src = MPEGTS_SCRIPT;
      script.async = true;
      script.onload = () => (window.mpegts ? resolve(window.mpegts)
        : reject(new Error('mpegts.js loaded but defined nothing')));
      script.onerror = () => { loading = null; reject(new Error(`cannot load ${MPEGTS_SCRIPT}`)); };
      document.head.appendChild(script);
    });
  }
  return loading;
}

// Whether this browser can play the live stream (Media Source Extensions with H.264).
export function hasMse() {
  const Source = window.ManagedMediaSource || window.MediaSource;
  return Boolean(Source && Source.isTypeSupported
    && Source.isTypeSupported('video/mp4; codecs="avc1.42E01E,mp4a.40.2"'));
}

// Play `url` in `video` until detach(). Returns { detach, state() } at once (loading goes on
// in the background). `onState(state, detail)` hears 'loading', 'playing', 'reconnecting'
// (detail: the reason and the pause in ms), 'hidden', 'unsupported' and 'detached'.
// With 'unsupported' (no MSE, or mpegts.js missing) the caller shows refreshJpeg instead.
export function attachPreview(video, url = '/api/preview.ts', options = {}) {
  const onState = options.onState || (() => {});
  let player = null;
  let retry = 0;
  let timer = null;
  let gone = false;
  let current = 'loading';

  const report = (state, detail) => { current = state; onState(state, detail); };

  function destroyPlayer() {
    if (!player) return;
    const old = player;
    player = null;
    try { old.pause(); } catch { /* already stopped */ }
    try { old.unload(); old.detachMediaElement(); } catch { /* never attached */ }
    try { old.destroy(); } catch { /* already destroyed */ }
  }

  function again(reason) {
    destroyPlayer();
    if (gone || document.hidden) return;
    const pause = RETRY_MS[Math.min(retry, RETRY_MS.length - 1)];
    retry += 1;
    report('reconnecting', { reason, pause });
    clearTimeout(timer);
    timer = setTimeout(start, pause);
  }

  async function start() {
    if (gone || document.hidden) return;
    let mpegts;
    try {
      mpegts = await loadMpegts();
    } catch (error) {
      report('unsupported', { reason: String(error) });
      return;
    }
    if (gone) return;
    if (!mpegts.getFeatureList().mseLivePlayback) {
      report('unsupported', { reason: 'this browser cannot play live MPEG-TS (no MSE)' });
      return;
    }
    destroyPlayer();
    report('loading');
    player = mpegts.createPlayer({ type: 'mpegts', isLive: true, url }, LOW_LATENCY);
    const mine = player;
    player.on(mpegts.Events.ERROR, (kind, detail, info) => {
      if (player !== mine) return;
      const status = info && info.code;
      again(status === 503 ? 'the preview is full or restarting' : `${kind}: ${detail}`);
    });
    // The appliance ended this viewer (too far behind, or the preview restarted).
    player.on(mpegts.Events.LOADING_COMPLETE, () => { if (player === mine) again('stream ended'); });
    player.attachMediaElement(video);
    player.load();
    const playing = player.play();
    if (playing && playing.catch) playing.catch(() => { /* autoplay needs muted; the caller sets it */ });
    video.addEventListener('playing', onPlaying, { once: true });
  }

  function onPlaying() {
    if (gone) return;
    retry = 0;
    report('playing');
  }

  function onVisibility() {
    if (gone) return;
    if (document.hidden) {
      clearTimeout(timer);
      destroyPlayer(); // free the viewer slot; take it again when shown
      report('hidden');
    } else {
      retry = 0;
      start();
    }
  }

  document.addEventListener('visibilitychange', onVisibility);
  start();

  return {
    state: () => current,
    detach() {
      if (gone) return;
      gone = true;
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisibility);
      video.removeEventListener('playing', onPlaying);
      destroyPlayer();
      video.removeAttribute('src');
      report('detached');
    },
  };
}

export default attachPreview;

// The fallback without MSE: `img` shows the newest program frame (GET /api/preview.jpg), a
// new one every `intervalMs`. Returns a function that stops it.
export function refreshJpeg(img, url = '/api/preview.jpg', intervalMs = JPEG_MS) {
  let stopped = false;
  let timer = null;
  const next = () => {
    if (stopped) return;
    timer = setTimeout(() => { img.src = `${url}?t=${Date.now()}`; }, intervalMs);
  };
  img.addEventListener('load', next);
  img.addEventListener('error', next);
  img.src = `${url}?t=${Date.now()}`;
  return () => {
    stopped = true;
    clearTimeout(timer);
    img.removeEventListener('load', next);
    img.removeEventListener('error', next);
  };
}
