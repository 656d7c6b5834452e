// The bar above the tracks: zoom (seconds to the whole show), the playhead as a time a
// keyboard user can type, and what part of the show is in view.
import { useEffect, useState } from 'preact/hooks';
import { html } from '../html.js';
import { useBuilder } from './hooks.js';
import { formatClock, parseClock } from './timeaxis.js';

export function CanvasBar({ builder, view }) {
  useBuilder(builder);
  const [text, setText] = useState(formatClock(builder.playhead));
  const [invalid, setInvalid] = useState(false);
  useEffect(() => { setText(formatClock(builder.playhead)); setInvalid(false); },
    [builder.playhead]);
  const place = (event) => {
    event.preventDefault();
    const seconds = parseClock(text);
    if (seconds === null || seconds > Number(builder.timeline.duration)) {
      setInvalid(true);
      return;
    }
    builder.setPlayhead(seconds);
    view.current?.sync();
  };
  const act = (name) => () => view.current?.[name]();
  return html`
    <div class="canvas-bar" role="toolbar" aria-label="View">
      <button type="button" class="btn btn-small" onClick=${act('zoomIn')}
              title="Show half as much, around the playhead (Ctrl + mouse wheel zooms too)">Zoom in</button>
      <button type="button" class="btn btn-small" onClick=${act('zoomOut')}
              title="Show twice as much, around the playhead">Zoom out</button>
      <button type="button" class="btn btn-small" onClick=${act('whole')}
              title="Show the whole timeline">Whole show</button>
      <form class="playhead-form" onSubmit=${place}>
        <label for="builder-playhead">Playhead</label>
        <input id="builder-playhead" value=${text} size="8" inputmode="numeric"
               aria-invalid=${invalid ? 'true' : 'false'}
               aria-describedby="builder-playhead-help"
               onInput=${(event) => setText(event.currentTarget.value)} />
        <button type="submit" class="btn btn-small">Place playhead</button>
        <span id="builder-playhead-help" class=${invalid ? 'field-error' : 'muted'}>
          ${invalid ? `Write a time such as 1:05, up to ${formatClock(Number(builder.timeline.duration))}.`
            : `mm:ss · show ${formatClock(Number(builder.timeline.duration))}`}
        </span>
      </form>
    </div>`;
}
