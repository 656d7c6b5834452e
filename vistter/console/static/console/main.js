// The operator console: one page, a client of the public API like any other.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { html } from './html.js';
import { createStore, useStore } from './store.js';
import { Controller } from './controller.js';
import { Header } from './views/header.js';
import { OnAir } from './views/onair.js';
import { LiveControls } from './views/controls.js';
import { Overrides } from './views/overrides.js';
import { Outputs } from './views/outputs.js';
import { System } from './views/system.js';
import { Alerts } from './views/alerts.js';
import { Problem } from './views/problem.js';

const store = createStore({
  show: null, showAt: 0, status: null, destinations: null, health: null, healthAt: 0,
  system: null, history: [], alerts: [], cues: null, mode: 'connecting', unreachable: false,
  busy: null, problem: null, loadProblem: null, lastEventAt: null,
});
const controller = new Controller(store);

function useNow() {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  return now;
}

function App() {
  const state = useStore(store);
  const now = useNow();
  return html`
    <${Header} state=${state} now=${now} />
    <main>
      <${Problem} problem=${state.problem} onDismiss=${() => controller.dismissProblem()} />
      ${!state.problem && state.loadProblem && html`<${Problem} problem=${state.loadProblem} />`}
      <div class="columns">
        <div class="column">
          <${OnAir} state=${state} now=${now} />
          <${LiveControls} state=${state} controller=${controller} />
          <${Overrides} state=${state} controller=${controller} />
        </div>
        <div class="column">
          <${Alerts} state=${state} />
          <${Outputs} state=${state} />
          <${System} state=${state} />
        </div>
      </div>
    </main>`;
}

const root = document.getElementById('app');
root.textContent = '';  // the "Loading…" line the HTML shows until this module runs
render(html`<${App} />`, root);
controller.start();
