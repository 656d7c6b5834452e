// GO LIVE as the operator sees it: the preflight checklist, then a countdown (5 s) or
// "start immediately", cancel during the countdown; the header says LIVE once the show is.
//
// Uses the appliance's GO LIVE routes (GET /api/preflight, POST /api/live/start
// {countdown}, /api/live/cancel) and, where an appliance does not serve them, the show's
// own (POST /api/show/preflight, then /api/show/go-live when the page's countdown ends).
import { optional, post } from './api.js';

export const COUNTDOWN_S = 5;

// One checklist line: status ok / warning / error and its sentence (what to do).
export function normalizeItem(item) {
  const status = item.status === 'warn' ? 'warning' : (item.status || item.level || 'ok');
  return {
    check: item.check || item.name || item.id || '',
    subject: item.subject || '',
    status: status === 'fail' || status === 'failed' ? 'error' : status,
    message: item.message || item.sentence || item.title || '',
    hint: item.hint || item.remediation || item.action || '',
  };
}

export class GoLiveFlow {
  constructor(store, controller) {
    this.store = store;
    this.controller = controller;
    this.timer = null;
  }

  set(patch) {
    const current = this.store.get().golive;
    this.store.set({ golive: patch === null ? null : { ...(current || {}), ...patch } });
  }

  async open() {
    this.set({ phase: 'checking', report: null, problem: null });
    try {
      let report = await optional('GET', '/api/preflight', undefined, null);
      if (report === null) report = await post('/api/show/preflight');
      const items = (report.items || report.checks || []).map(normalizeItem);
      const errors = items.filter((item) => item.status === 'error').length;
      this.set({ phase: 'checklist', items, errors,
        warnings: items.filter((item) => item.status === 'warning').length });
    } catch (error) {
      this.set({ phase: 'checklist', items: [], errors: 1, problem: error });
    }
  }

  close() {
    this.stopTimer();
    this.set(null);
  }

  async start(countdown) {
    this.set({ phase: 'starting', problem: null });
    try {
      const answer = await optional('POST', '/api/live/start', { countdown }, null);
      const serverSide = answer !== null;
      if (serverSide) {
        this.store.set({ show: answer, showAt: Date.now() });
        if (answer.state === 'live') {
          this.close();
          return;
        }
      }
      if (countdown > 0) {
        const left = answer?.countdown?.seconds_left ?? countdown;
        this.set({ phase: 'countdown', endsAt: Date.now() + left * 1000, serverSide });
        if (!serverSide) this.timer = setTimeout(() => this.goLiveNow(), countdown * 1000);
      } else if (!serverSide) {
        await this.goLiveNow();
      }
      this.controller.scheduleRefresh(50);
    } catch (error) {
      this.set({ phase: 'checklist', problem: error });
    }
  }

  async goLiveNow() {
    this.timer = null;
    this.set({ phase: 'starting' });
    try {
      const show = await post('/api/show/go-live');
      this.store.set({ show, showAt: Date.now() });
      this.onShow(show);
    } catch (error) {
      this.set({ phase: 'checklist', problem: error });
    }
  }

  async cancel() {
    const golive = this.store.get().golive;
    this.stopTimer();
    if (golive?.serverSide) {
      try {
        await post('/api/live/cancel');
      } catch (error) {
        this.set({ problem: error });
        return;
      }
    }
    this.set({ phase: 'checklist', endsAt: null, cancelled: true });
    this.controller.scheduleRefresh(50);
  }

  stopTimer() {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
  }

  // The show went live (from the bus or a read): the flow is done. A countdown started
  // from another tab shows here too, and one cancelled elsewhere goes back to the list.
  onShow(show) {
    const golive = this.store.get().golive;
    if (!show) return;
    if (!golive) {
      if (show.countdown && show.state !== 'live') {
        this.set({ phase: 'countdown', serverSide: true, items: null,
          endsAt: Date.now() + show.countdown.seconds_left * 1000 });
      }
      return;
    }
    if (show.state === 'live' && (golive.phase === 'countdown' || golive.phase === 'starting')) {
      this.close();
    } else if (golive.phase === 'countdown' && golive.serverSide && show.countdown === null) {
      this.set({ phase: 'checklist', endsAt: null });
    }
  }
}
