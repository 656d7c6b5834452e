// The timeline builder page: #/builder starts a new show, #/builder/<id> opens a library
// timeline (GET /api/timelines/<id>). The page holds one builder (state.js) per address, so
// going to another page and back keeps the unsaved work; the side panels from
// ./panels/index.js (if that module exists) plug into the Toolbar / Side / Below slots.
import { useEffect, useState } from 'preact/hooks';
import { html } from '../html.js';
import { get, optional, ApiProblem } from '../api.js';
import { createBuilder, newTimelineDocument } from './state.js';
import { useBuilder } from './hooks.js';
import { Canvas } from './canvas.js';
import { Palette } from './palette.js';
import { EditButtons } from './toolbar.js';
import { handleKey } from './keys.js';

const session = { key: null, builder: null };
let panelsModule = null;

function loadPanels() {
  if (!panelsModule) {
    panelsModule = import('./panels/index.js').catch((error) => {
      // Until the panels exist the page works without them; any other failure is a bug.
      if (!/Failed to fetch dynamically imported module|404/.test(String(error))) {
        console.error('The builder panels failed to load:', error);
      }
      return {};
    });
  }
  return panelsModule;
}

export function builderRoute(hash) {
  const parts = hash.replace(/^#\/?/, '').split('/');
  return parts[0] === 'builder' ? { timelineId: parts[1] ? decodeURIComponent(parts[1]) : null } : null;
}

// The builder for this address: the one already open, a new show, or the library's.
async function builderFor(timelineId) {
  const key = timelineId ?? '(new)';
  if (session.key === key && session.builder) return session.builder;
  let builder;
  if (timelineId === null) {
    builder = createBuilder(newTimelineDocument());
  } else {
    const record = await get(`/api/timelines/${encodeURIComponent(timelineId)}`);
    builder = createBuilder(record.document, { etag: record.etag ?? null });
  }
  session.key = key;
  session.builder = builder;
  return builder;
}

// Cameras (names, presets) and assets (files to choose) for the palette and the blocks.
function useContext() {
  const [context, setContext] = useState({ cameras: [], assets: [] });
  useEffect(() => {
    let live = true;
    Promise.all([
      optional('GET', '/api/cameras', undefined, { cameras: [] }).catch(() => ({ cameras: [] })),
      optional('GET', '/api/assets', undefined, { assets: [] }).catch(() => ({ assets: [] })),
    ]).then(([cameras, assets]) => {
      if (live) setContext({ cameras: cameras.cameras || [], assets: assets.assets || [] });
    });
    return () => { live = false; };
  }, []);
  return context;
}

function Slot({ panels, name, props }) {
  const Component = panels && panels[name];
  return Component ? html`<${Component} ...${props} />` : null;
}

function Editor({ builder, timelineId, panels }) {
  useBuilder(builder);
  const context = useContext();
  const [message, setMessage] = useState('');
  const say = (text) => setMessage(text);
  const setTimelineId = (id) => {
    session.key = String(id);
    window.location.hash = `#/builder/${encodeURIComponent(id)}`;
  };
  useEffect(() => {
    const onKey = (event) => {
      if (handleKey(builder, event, say)) event.preventDefault();
    };
    const onLeave = (event) => {
      if (builder.dirty) { event.preventDefault(); event.returnValue = ''; }
    };
    document.addEventListener('keydown', onKey);
    window.addEventListener('beforeunload', onLeave);
    return () => {
      document.removeEventListener('keydown', onKey);
      window.removeEventListener('beforeunload', onLeave);
    };
  }, [builder]);
  const props = { builder, timelineId, setTimelineId, say, context };
  const timeline = builder.timeline;
  return html`
    <section class="builder" aria-label="Timeline builder" data-testid="builder">
      <div class="builder-head">
        <h1 class="builder-name">${timeline.name}</h1>
        <span class="muted">${timelineId === null ? 'new, not saved yet' : `library #${timelineId}`}
          ${builder.dirty ? ' · unsaved changes' : ''}</span>
        <p class="builder-status" role="status" aria-live="polite" data-testid="builder-status">${message}</p>
      </div>
      <div class="builder-toolbar" role="toolbar" aria-label="Edit">
        <${EditButtons} builder=${builder} say=${say} />
        <${Slot} panels=${panels} name="Toolbar" props=${props} />
      </div>
      <div class="builder-body">
        <${Palette} builder=${builder} context=${context} say=${say} />
        <${Canvas} builder=${builder} context=${context} say=${say} />
        ${panels && panels.Side ? html`<div class="builder-side">
          <${Slot} panels=${panels} name="Side" props=${props} /></div>` : null}
      </div>
      <${Slot} panels=${panels} name="Below" props=${props} />
    </section>`;
}

// The timeline id in the address, following it as it changes (#/builder/3 -> #/builder/4).
function useTimelineId() {
  const read = () => (builderRoute(window.location.hash) || { timelineId: null }).timelineId;
  const [timelineId, setTimelineId] = useState(read());
  useEffect(() => {
    const changed = () => setTimelineId(read());
    window.addEventListener('hashchange', changed);
    changed();  // the address may have changed before this effect ran
    return () => window.removeEventListener('hashchange', changed);
  }, []);
  return timelineId;
}

export function BuilderPage() {
  const timelineId = useTimelineId();
  const [state, setState] = useState({ builder: null, problem: null });
  const [panels, setPanels] = useState(null);
  useEffect(() => {
    let live = true;
    loadPanels().then((module) => { if (live) setPanels(module); });
    return () => { live = false; };
  }, []);
  useEffect(() => {
    let live = true;
    setState((old) => (old.builder && session.key === (timelineId ?? '(new)') ? old
      : { builder: null, problem: null }));
    builderFor(timelineId).then(
      (builder) => { if (live) setState({ builder, problem: null }); },
      (error) => {
        if (!live) return;
        const problem = error instanceof ApiProblem ? error
          : new ApiProblem(String(error), 'Reload the page.', 0);
        setState({ builder: null, problem });
      },
    );
    return () => { live = false; };
  }, [timelineId]);
  if (state.problem) {
    return html`
      <section class="builder panel" role="alert" data-testid="builder-problem">
        <h1>This timeline cannot be opened</h1>
        <p><strong>${state.problem.problem}</strong></p>
        <p>${state.problem.hint}</p>
        <p><a href="#/builder">Start a new timeline</a></p>
      </section>`;
  }
  if (!state.builder || panels === null) {
    return html`<p class="boot" role="status">Opening the timeline…</p>`;
  }
  return html`<${Editor} key=${session.key} builder=${state.builder} timelineId=${timelineId}
                         panels=${panels} />`;
}
