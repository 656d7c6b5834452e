// What the page does: reads the API into the store, sends the operator's commands, and
// turns telemetry-bus events into fresh state. Views call its methods; it never renders.
import { ApiProblem, del, get, optional, post } from './api.js';
import { LiveFeed } from './live.js';
import { GoLiveFlow } from './golive.js';

const HISTORY = 120;           // system samples kept for the chart
const RESYNC_MS = 10000;       // full refresh even while events flow (bytes, bitrates)
const REFRESH_TOPICS = ['event.show', 'event.source', 'event.camera', 'event.destination',
  'event.supervision', 'alert'];

export class Controller {
  constructor(store) {
    this.store = store;
    this.refreshTimer = null;
    this.alertsTimer = null;
    this.golive = new GoLiveFlow(store, this);
  }

  start() {
    this.live = new LiveFeed({
      onHello: (hello) => hello.latest.forEach((message) => this.onMessage(message)),
      onMessage: (message) => this.onMessage(message),
      onMode: (mode) => this.store.set({ mode }),
      poll: () => this.poll(),
    });
    this.refresh();
    this.loadAlerts();
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
    const results = await Promise.allSettled([
      ...paths.map((path) => get(path)), optional('GET', '/api/cameras', undefined, null)]);
    const now = Date.now();
    const [show, status, destinations, health, cameras] = results;
    const patch = {};
    if (show.status === 'fulfilled') Object.assign(patch, { show: show.value, showAt: now });
    if (status.status === 'fulfilled') patch.status = status.value;
    if (destinations.status === 'fulfilled') patch.destinations = destinations.value.destinations;
    if (health.status === 'fulfilled') Object.assign(patch, { health: health.value, healthAt: now });
    if (cameras.status === 'fulfilled' && cameras.value) patch.cameras = cameras.value.cameras;
    const failure = results.find((result) => result.status === 'rejected');
    patch.unreachable = failure ? failure.reason.status === 0 : false;
    patch.loadProblem = failure ? toProblem('Reading the appliance', failure.reason) : null;
    this.store.set(patch);
    this.golive.onShow(patch.show);
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
    this.loadAlerts();
    try {
      const latest = await get('/api/telemetry/latest');
      latest.latest.forEach((message) => this.onMessage(message));
    } catch {
      // the figures simply stay as they were; refresh() already reports an unreachable API
    }
  }

  // Active alerts (and, for the alerts page, the kept history) from the alert service.
  async loadAlerts() {
    try {
      const [active, history] = await Promise.all([
        optional('GET', '/api/alerts?state=active&limit=50', undefined, null),
        optional('GET', '/api/alerts?state=history&limit=50', undefined, null),
      ]);
      if (active === null) {
        this.store.set({ alertService: false });
        return;
      }
      this.store.set({ alertService: true, alerts: active.alerts, alertCounts: active.counts,
        alertHistory: history ? history.alerts : [] });
    } catch {
      // kept as they were; the next event or poll reads them again
    }
  }

  scheduleAlerts(delay = 300) {
    if (this.alertsTimer !== null) return;
    this.alertsTimer = setTimeout(() => {
      this.alertsTimer = null;
      this.loadAlerts();
    }, delay);
  }

  onMessage({ topic, payload, ts }) {
    const state = this.store.get();
    if (topic === 'metrics.system') {
      if (state.system && state.system.ts === ts) return;
      const history = [...state.history, { ts, cpu: payload.cpu_percent, memory: payload.memory_percent }];
      this.store.set({ system: { ...payload, ts }, history: history.slice(-HISTORY) });
      return;
    }
    if (topic === 'metrics.stream') {
      if (payload.component === 'stream') {
        this.store.set({ stream: { ...payload, ts } });
      }
      return;
    }
    if (topic === 'event.show' && state.show && typeof payload.state === 'string') {
      // the bus says it first; the full status follows from the refresh below
      const show = { ...state.show, state: payload.state };
      if (payload.overrides) show.overrides = payload.overrides;
      this.store.set({ show, lastEventAt: Date.now() });
      this.golive.onShow(show);
    }
    if (topic === 'alert') this.onAlert(payload, ts);
    if (REFRESH_TOPICS.some((prefix) => topic.startsWith(prefix))) this.scheduleRefresh();
  }

  // An alert change from the bus shows at once; the service's listing follows.
  onAlert(payload, ts) {
    const state = this.store.get();
    if (typeof payload.id === 'number') {
      const others = state.alerts.filter((alert) => alert.id !== payload.id);
      const alerts = payload.active ? [payload, ...others] : others;
      this.store.set({ alerts });
      this.scheduleAlerts();
    } else if (!state.alertService) {
      // no alert service: the raw report is all there is
      const alert = { ...payload, id: `bus-${ts}`, raised_at: ts || Date.now() / 1000, active: true };
      this.store.set({ alerts: [alert, ...state.alerts].slice(0, 20) });
    }
  }

  async acknowledge(alert) {
    await this.command('Acknowledge', `/api/alerts/${alert.id}/ack`);
    this.loadAlerts();
  }

  async acknowledgeAll() {
    await this.command('Acknowledge all', '/api/alerts/ack-all');
    this.loadAlerts();
  }

  async command(action, path, body, method = 'POST') {
    this.store.set({ busy: action });
    try {
      const result = method === 'DELETE' ? await del(path) : await post(path, body);
      if (result && typeof result.state === 'string' && path.startsWith('/api/show')) {
        this.store.set({ show: result, showAt: Date.now() });
      }
      this.store.set({ problem: null });
      this.scheduleRefresh(50);
      return result;
    } catch (error) {
      this.store.set({ problem: toProblem(action, error) });
      return undefined;
    } finally {
      this.store.set({ busy: null });
    }
  }

  // Stop ends the show: the GO LIVE route when the appliance has it, else the show's own.
  async stopShow() {
    this.store.set({ busy: 'Stop' });
    try {
      const stopped = await optional('POST', '/api/live/stop', undefined, null);
      if (stopped === null) await post('/api/show/stop');
      this.store.set({ problem: null });
    } catch (error) {
      this.store.set({ problem: toProblem('Stop', error) });
    } finally {
      this.store.set({ busy: null });
      this.scheduleRefresh(50);
    }
  }

  dismissProblem() {
    this.store.set({ problem: null });
  }
}

export function toProblem(action, error) {
  if (error instanceof ApiProblem) {
    return { action, problem: error.problem, hint: error.hint, status: error.status };
  }
  return { action, problem: String(error), hint: 'Reload the page; if it persists, report it.' };
}
