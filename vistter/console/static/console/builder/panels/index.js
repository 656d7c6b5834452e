// The builder page's side panels. The page core (../page.js) imports this module and puts
// its three slots in place, each given {builder, timelineId, setTimelineId, say, context}:
//   Toolbar  the Repeat… action (and its dialog)
//   Side     save, problems (validation as you edit), properties of the selected cue,
//            put on air next
//   Below    the timeline's settings and the preview of a range
// timelineId: the library record being edited (null: a new show); after the first save
// setTimelineId(id) moves the address to #/builder/<id> (the page keeps the same builder).
import { useEffect, useState } from 'preact/hooks';
import { html } from '../../html.js';
import { useCatalog } from './catalog.js';
import { createChecker } from './validation.js';
import { PropertiesPanel } from './properties.js';
import { SettingsPanel } from './settings.js';
import { ProblemsPanel } from './problems.js';
import { SaveBar } from './savebar.js';
import { RepeatDialog } from './repeat_dialog.js';
import { RangePreview } from './range_preview.js';
import { OnAirNext } from './onair_next.js';

// The panels' own stylesheet, added once to the page.
if (!document.querySelector('link[data-builder-panels]')) {
  const link = document.createElement('link');
  link.rel = 'stylesheet';
  link.href = new URL('./panels.css', import.meta.url).href;
  link.dataset.builderPanels = '';
  document.head.append(link);
}

function useChecker(builder) {
  const [state, setState] = useState({ checking: true, checked: null, problem: null });
  useEffect(() => {
    const checker = createChecker(builder, { onState: setState });
    return () => checker.stop();
  }, [builder]);
  return state;
}

// What Save and Put on air next share: the record, the last outcome, what is under way.
function useSession(builder, timelineId, setTimelineId) {
  const [outcome, setOutcome] = useState(null);
  const [busy, setBusy] = useState(null);
  useEffect(() => builder.subscribe((_, change) => {
    if (change.kind === 'load') setOutcome(null);
  }), [builder]);
  const recordId = timelineId === undefined || timelineId === '' ? null : timelineId;
  // run(what, label, {keepAddress}): keepAddress leaves the address (and with it the page,
  // which follows it) as it is until follow(id) is called: the flow goes on meanwhile.
  const follow = (id) => {
    if (id !== null && id !== undefined && String(id) !== String(recordId)) setTimelineId(id);
  };
  const run = async (what, label = 'save', { keepAddress = false } = {}) => {
    setBusy(label);
    setOutcome(null);
    let result;
    try {
      result = await what();
    } catch (error) {
      result = { outcome: 'refused', error };
    }
    setBusy(null);
    setOutcome(result);
    if (result.outcome === 'saved' && !keepAddress) follow(result.id);
    return result;
  };
  return { recordId, outcome, busy, setBusy, run, follow };
}

export function Toolbar({ builder, context }) {
  const catalog = useCatalog(context);
  const [repeating, setRepeating] = useState(false);
  return html`
    <button type="button" class="btn btn-small" data-testid="open-repeat"
      title="Alternate sources or repeat an overlay in one action" onClick=${() => setRepeating(true)}>
      Repeat…</button>
    <${RepeatDialog} builder=${builder} catalog=${catalog} open=${repeating}
      onClose=${() => setRepeating(false)} />`;
}

export function Side({ builder, timelineId, setTimelineId, context }) {
  const catalog = useCatalog(context);
  const checker = useChecker(builder);
  const session = useSession(builder, timelineId, setTimelineId);
  return html`
    <div class="builder-panels" data-testid="builder-panels">
      <${SaveBar} builder=${builder} session=${session} />
      <${ProblemsPanel} builder=${builder} checker=${checker} />
      <${PropertiesPanel} builder=${builder} catalog=${catalog} />
      <${OnAirNext} builder=${builder} session=${session} />
    </div>`;
}

export function Below({ builder, context }) {
  const catalog = useCatalog(context);
  return html`
    <div class="builder-below">
      <${SettingsPanel} builder=${builder} catalog=${catalog} />
      <${RangePreview} builder=${builder} />
    </div>`;
}
