// The operator console: one page, a client of the public API like any other. Four views
// (#/ live, #/alerts, #/cameras, #/destinations) share one store and one live feed.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { html } from './html.js';
import { createStore, useStore } from './store.js';
import { Controller } from './controller.js';
import { LoginGate } from './login.js';
import { Header } from './views/header.js';
import { OnAir } from './views/onair.js';
import { LiveControls } from './views/controls.js';
import { GoLive } from './views/golive.js';
import { Overrides } from './views/overrides.js';
import { Outputs } from './views/outputs.js';
import { System } from './views/system.js';
import { Alerts, AlertsPage } from './views/alerts.js';
import { Preview } from './views/preview.js';
import { Cues } from './views/cues.js';
import { CamerasPage } from './views/cameras.js';
import { DestinationsPage } from './views/destinations.js';
import { BuilderPage } from './builder/page.js';
import { LibraryPage } from './views/library.js';
import { AssetsPage } from './views/assets.js';
import { Problem } from './views/problem.js';

const store = createStore({
  show: null, showAt: 0, status: null, destinations: null, health: null, healthAt: 0,
  system: null, stream: null, history: [], alerts: [], alertHistory: [], alertCounts: null,
  alertService: null, cameras: null, golive: null, mode: 'connecting', unreachable: false,
  busy: null, problem: null, loadProblem: null, lastEventAt: null,
});
const controller = new Controller(store);

export const PAGES = { live: 'Live', alerts: 'Alerts', cameras: 'Cameras', destinations: 'Destinations',
  library: 'Library', assets: 'Assets', builder: 'Builder' };

function currentPage() {
  const name = window.location.hash.replace(/^#\/?/, '').split('/')[0];  // #/builder/<id>
  return PAGES[name] ? name : 'live';
}

function useNow() {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  return now;
}

function usePage() {
  const [page, setPage] = useState(currentPage());
  useEffect(() => {
    const changed = () => {
      setPage(currentPage());
      document.getElementById('app')?.focus?.();
    };
    window.addEventListener('hashchange', changed);
    setPage(currentPage());  // the address may have changed before this effect ran
    return () => window.removeEventListener('hashchange', changed);
  }, []);
  return page;
}

function LivePage({ state, now }) {
  return html`
    <${GoLive} state=${state} controller=${controller} now=${now} />
    <div class="columns">
      <div class="column">
        <${Alerts} state=${state} controller=${controller} />
        <${OnAir} state=${state} now=${now} />
        <${LiveControls} state=${state} controller=${controller} />
        <${Overrides} state=${state} controller=${controller} now=${now} />
        <${Cues} state=${state} controller=${controller} />
      </div>
      <div class="column">
        <${Preview} />
        <${Outputs} state=${state} />
        <${System} state=${state} />
      </div>
    </div>`;
}

function App() {
  const state = useStore(store);
  const now = useNow();
  const page = usePage();
  useEffect(() => {
    document.title = `${PAGES[page]} · Vistter operator console`;
  }, [page]);
  return html`
    <${Header} state=${state} now=${now} page=${page} pages=${PAGES} />
    <main>
      <${Problem} problem=${state.problem} onDismiss=${() => controller.dismissProblem()} />
      ${!state.problem && state.loadProblem && html`<${Problem} problem=${state.loadProblem} />`}
      ${page === 'live' && html`<${LivePage} state=${state} now=${now} />`}
      ${page === 'alerts' && html`<${AlertsPage} state=${state} controller=${controller} />`}
      ${page === 'cameras' && html`<${CamerasPage} state=${state} controller=${controller} now=${now} />`}
      ${page === 'destinations' && html`<${DestinationsPage} state=${state} controller=${controller} />`}
      ${page === 'library' && html`<${LibraryPage} state=${state} controller=${controller} />`}
      ${page === 'assets' && html`<${AssetsPage} />`}
      ${page === 'builder' && html`<${BuilderPage} />`}
    </main>`;
}

const root = document.getElementById('app');
root.textContent = '';  // the "Loading…" line the HTML shows until this module runs
// The login (login.js) stands before the console when the appliance asks for one; the
// controller starts reading the API once the page may.
render(html`<${LoginGate} onReady=${() => controller.start()}><${App} /><//>`, root);
