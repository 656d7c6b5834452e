// Live updates: Server-Sent Events from /api/events (the telemetry bus), and polling
// whenever they are not flowing (no EventSource, a refused stream, a broken connection).
//
// Modes reported through onMode: 'connecting', 'live' (events flowing), 'polling'.

export const POLL_MS = 2000;
const RECONNECT_MS = 10000;

export class LiveFeed {
  // Only what the page shows: show, camera, source, destination and supervision events,
  // alerts, the system sample and the per-second stream metrics (the page shows them).
  constructor({ url = '/api/events?topics=event.,alert,metrics.system,metrics.stream', onHello, onMessage,
    onMode, poll }) {
    this.url = url;
    this.onHello = onHello;
    this.onMessage = onMessage;
    this.onMode = onMode;
    this.poll = poll;
    this.mode = null;
    this.source = null;
    this.pollTimer = null;
    this.reconnectTimer = null;
  }

  start() {
    if (!('EventSource' in window)) {
      this.startPolling();
      return;
    }
    this.setMode('connecting');
    this.open();
  }

  open() {
    const source = new EventSource(this.url);
    this.source = source;
    source.addEventListener('open', () => {
      this.stopPolling();
      this.setMode('live');
    });
    source.addEventListener('hello', (event) => this.onHello(JSON.parse(event.data)));
    source.addEventListener('message', (event) => this.onMessage(JSON.parse(event.data)));
    source.addEventListener('error', () => {
      // CONNECTING: the browser retries by itself (the server says after 1 s); CLOSED: the
      // stream was refused (e.g. 503), so retry ourselves later. Poll meanwhile either way.
      this.startPolling();
      if (source.readyState === EventSource.CLOSED && this.source === source) {
        this.source = null;
        clearTimeout(this.reconnectTimer);
        this.reconnectTimer = setTimeout(() => this.open(), RECONNECT_MS);
      }
    });
  }

  startPolling() {
    this.setMode('polling');
    if (this.pollTimer === null) {
      this.pollTimer = setInterval(() => this.poll(), POLL_MS);
      this.poll();
    }
  }

  stopPolling() {
    if (this.pollTimer !== null) {
      clearInterval(this.pollTimer);
      this.pollTimer = null;
    }
  }

  setMode(mode) {
    if (mode !== this.mode) {
      this.mode = mode;
      this.onMode(mode);
    }
  }
}
