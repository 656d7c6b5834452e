// What the page does: reads the API into the store, sends the operator's commands, and
// turns telemetry-bus events into fresh state. Views call its methods; it never renders.
import { ApiProblem, get, post } from './api.js';
import { LiveFeed } from './live.js';

const HISTORY = 120;           // system samples kept for the chart
const ALERTS = 8;              // alerts kept on the page
const RESYNC_MS = 10000;       // full refresh even while events flow (bytes, bitrates)
const REFRESH_TOPICS = ['event.show', 'event.source', 'event.camera', 'event.destination',
  'event.supervision', 'alert'];

export class Controller {
  constructor(store) {
    this.store = store;
    this.refreshTimer = null;
    this.cueTimeline = undefined;
  }

  start() {
    this.live = new LiveFeed({
      onHello: (hello) => hello.latest.forEach((message) => this.onMessage(message)),
      onMessage: (message) => this.onMessage(message),
      onMode: (mode) => this.store.set({ mode }),
      poll: () => this.poll(),
    });
    this.refresh();
    this.live.start();
    setInterval(() => this.refresh(), RESYNC_MS);
    setInterval(() => this.refreshAtCue(), 500);
  }

  // The bus announces show state changes but not every cue change: when the countdown to
  // the next cue runs out, read the show again (at most once a second).
  refreshAtCue() {
    const { show, showAt } = this.store.get();
    const next = show?.next_cue;
    if (show?.state !== 'live' || !next) return;
    const now = Date.now();
    const left = next.in_seconds - (now - showAt) / 1000;
    if (left <= 0 && now - (this.cueRefreshAt || 0) >= 1000) {
      this.cueRefreshAt = now;
      this.scheduleRefresh(0);
    }
  }

  async refresh() {
    const paths = ['/api/show', '/api/status', '/api/destinations', '/api/health'];
    const results = await Promise.allSettled(paths.map((path) => get(path)));
    const now = Date.now();
    const [show, status, destinations, health] = results;
    const patch = {};
    if (show.status === 'fulfilled') Object.assign(patch, { show: show.value, showAt: now });
    if (status.status === 'fulfilled') patch.status = status.value;
    if (destinations.status === 'fulfilled') patch.destinations = destinations.value.destinations;
    if (health.status === 'fulfilled') Object.assign(patch, { health: health.value, healthAt: now });
    const failure = results.find((result) => result.status === 'rejected');
    patch.unreachable = failure ? failure.reason.status === 0 : false;
    patch.loadProblem = failure ? toProblem('Reading the appliance', failure.reason) : null;
    this.store.set(patch);
    this.loadCues(patch.show);
  }

  scheduleRefresh(delay = 100) {
    if (this.refreshTimer !== null) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = null;
      this.refresh();
    }, delay);
  }

  async poll() {
    await this.refresh();
    try {
      const latest = await get('/api/telemetry/latest');
      latest.latest.forEach((message) => this.onMessage(message));
    } catch {
      // the figures simply stay as they were; refresh() already reports an unreachable API
    }
  }

  onMessage({ topic, payload, ts }) {
    const state = this.store.get();
    if (topic === 'metrics.system') {
      if (state.system && state.system.ts === ts) return;
      const history = [...state.history, { ts, cpu: payload.cpu_percent, memory: payload.memory_percent }];
      this.store.set({ system: { ...payload, ts }, history: history.slice(-HISTORY) });
      return;
    }
    if (topic === 'event.show' && state.show && typeof payload.state === 'string') {
      // the bus says it first; the full status follows from the refresh below
      const show = { ...state.show, state: payload.state };
      if (payload.overrides) show.overrides = payload.overrides;
      this.store.set({ show, lastEventAt: Date.now() });
    }
    if (topic === 'alert') {
      const alert = { ...payload, ts: ts || Date.now() / 1000 };
      this.store.set({ alerts: [alert, ...state.alerts].slice(0, ALERTS) });
    }
    if (REFRESH_TOPICS.some((prefix) => topic.startsWith(prefix))) this.scheduleRefresh();
  }

  async command(action, path, body) {
    this.store.set({ busy: action });
    try {
      const result = await post(path, body);
      if (result && typeof result.state === 'string') {
        this.store.set({ show: result, showAt: Date.now() });
      }
      this.store.set({ problem: null });
      this.scheduleRefresh(50);
    } catch (error) {
      this.store.set({ problem: toProblem(action, error) });
    } finally {
      this.store.set({ busy: null });
    }
  }

  dismissProblem() {
    this.store.set({ problem: null });
  }

  async loadCues(show) {
    const timelineId = show?.timeline?.db_id ?? null;
    if (!show || timelineId === this.cueTimeline) return;
    this.cueTimeline = timelineId;
    if (timelineId === null) {
      this.store.set({ cues: null });
      return;
    }
    try {
      const record = await get(`/api/timelines/${timelineId}`);
      this.store.set({ cues: videoCues(record.document) });
    } catch {
      this.store.set({ cues: null });
    }
  }
}

function toProblem(action, error) {
  if (error instanceof ApiProblem) {
    return { action, problem: error.problem, hint: error.hint, status: error.status };
  }
  return { action, problem: String(error), hint: 'Reload the page; if it persists, report it.' };
}

function videoCues(document) {
  const cues = document?.timeline?.tracks?.video?.cues || [];
  return cues.map((cue) => ({ id: cue.id, start: cue.start_time, duration: cue.duration }));
}
