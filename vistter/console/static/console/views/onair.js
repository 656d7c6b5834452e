// What viewers see now: the camera on air and why, the position in the timeline with its
// cues, the next cue with a countdown, and the timeline put on air next (and when).
import { html } from '../html.js';
import { duration, sourceName } from '../format.js';
import { degradedNotice } from '../degraded.js';

const FALLBACK_WHY = {
  backup: (wanted) => `backup for ${sourceName(wanted)}, which is offline`,
  slate: (wanted) => `slate: ${sourceName(wanted)} and its backup are offline`,
  last_frame: (wanted) => `last picture of ${sourceName(wanted)}, which stalled`,
};

// The source the program wants: GET /api/status says it in on_air.scheduled (on_air.source
// is what viewers see); older appliances said it in on_air.source.
function wantedSource(status) {
  return status?.on_air?.scheduled ?? status?.on_air?.source;
}

// What viewers see: the source the program wants, or what the fallback put in its place.
export function sourceOnAir(status) {
  const wanted = wantedSource(status);
  const route = wanted ? status?.fallback?.[wanted] : null;
  return route && route.reason !== 'wanted' && route.on_air ? route.on_air : wanted;
}

export function whyOnAir(show, status) {
  const overrides = show?.overrides || {};
  const wanted = wantedSource(status);
  const route = wanted ? status?.fallback?.[wanted] : null;
  if (route && route.reason !== 'wanted' && FALLBACK_WHY[route.reason]) {
    return FALLBACK_WHY[route.reason](wanted);
  }
  if (overrides.slate) return 'Emergency slate (manual override)';
  if (overrides.forced_camera != null) return 'Forced by the operator';
  if (overrides.pinned_source) return 'Pinned by the operator';
  if (show && (show.state === 'live' || show.state === 'paused')) {
    return show.video_cue ? `Timeline, cue ${show.video_cue}` : 'Timeline';
  }
  return 'No show on air: the slate holds the program';
}

// "Next: Evening show at 14:30:00" for the timeline queued with POST /api/show/next
// (``at`` is the appliance's local time; none while the show is paused).
export function nextTimeline(show) {
  const next = show?.next;
  if (!next) return null;
  const clock = typeof next.at === 'string' ? next.at.split('T')[1] : null;
  return clock ? `Next: ${next.name} at ${clock}` : `Next: ${next.name} (when the show runs again)`;
}

export function elapsedSince(show, showAt, now) {
  return show?.state === 'live' ? Math.max(0, (now - showAt) / 1000) : 0;
}

function positionNow(show, showAt, now) {
  const seconds = show?.position?.seconds;
  if (seconds == null) return null;
  const total = seconds + elapsedSince(show, showAt, now);
  const length = show.timeline?.duration;
  if (!length) return total;
  return show.timeline.loop ? total % length : Math.min(total, length);
}

function PositionBar({ show, cues, position }) {
  const length = show?.timeline?.duration;
  if (!length) return html`<p class="muted">No timeline loaded.</p>`;
  const at = (seconds) => `${Math.min(100, Math.max(0, (seconds / length) * 100))}%`;
  const next = show.next_cue;
  const marks = cues && cues.length
    ? cues.map((cue) => ({ ...cue, now: cue.id === show.video_cue, next: cue.id === next?.id }))
    : next ? [{ id: next.id, start: next.start_seconds, now: false, next: true }] : [];
  return html`
    <div class="bar" role="progressbar" aria-label="Position in the timeline"
         aria-valuemin="0" aria-valuemax=${length} aria-valuenow=${Math.round(position ?? 0)}
         aria-valuetext=${`${duration(position)} of ${duration(length)}`}>
      <div class="bar-fill" style=${{ width: at(position ?? 0) }}></div>
      ${marks.map((cue) => html`
        <div class=${`cue${cue.now ? ' cue-now' : ''}${cue.next ? ' cue-next' : ''}`}
             style=${{ left: at(cue.start) }} title=${`${cue.id} at ${duration(cue.start)}`}>
        </div>`)}
    </div>
    <div class="bar-scale">
      <span>${duration(position)}</span>
      <span>${show.timeline.loop ? 'loops every ' : 'ends at '}${duration(length)}</span>
    </div>`;
}

function videoCues(show) {
  return (show?.cues || []).filter((cue) => cue.action !== 'show_overlay')
    .map((cue) => ({ id: cue.id, start: cue.start_seconds, duration: cue.end_seconds - cue.start_seconds }));
}

// Degraded mode's notice: what is stepped down and why (nothing while as configured).
function DegradedNotice({ status }) {
  const notice = degradedNotice(status);
  if (!notice) return null;
  return html`
    <p class="alert degraded-notice" role="status" data-testid="degraded-notice">
      <strong>${notice.title}</strong>: ${notice.steps}${notice.since ? ` (${notice.since})` : ''}
      ${notice.reason ? html`<br /><span>${notice.reason}</span>` : ''}
      ${notice.pending ? html`<br /><span class="muted">${notice.pending}</span>` : ''}
    </p>`;
}

export function OnAir({ state, now }) {
  const { show, status } = state;
  const elapsed = elapsedSince(show, state.showAt, now);
  const next = show?.next_cue;
  const countdown = next ? Math.max(0, next.in_seconds - elapsed) : null;
  return html`
    <section class="panel" aria-labelledby="onair-title">
      <h2 id="onair-title">On air</h2>
      <div class="onair-source">
        <strong class="big" data-testid="on-air">${sourceName(sourceOnAir(status))}</strong>
        <span data-testid="on-air-why">${whyOnAir(show, status)}</span>
      </div>
      <${DegradedNotice} status=${status} />
      <${PositionBar} show=${show} cues=${videoCues(show)} position=${positionNow(show, state.showAt, now)} />
      <dl class="facts">
        <div><dt>Cue now</dt><dd>${show?.video_cue ?? '—'}</dd></div>
        <div><dt>Next timeline</dt><dd data-testid="next-timeline">${nextTimeline(show) ?? '—'}</dd></div>
        <div><dt>Next cue</dt><dd data-testid="next-cue">${next
          ? html`${next.id} in <strong>${duration(countdown)}</strong>` : '—'}</dd></div>
        <div><dt>Overlays on air</dt><dd data-testid="overlays-on-air">${show?.overlays?.length
          ? html`<ul class="plain">${show.overlays.map((o) => html`
              <li>${o.cue ?? o.track}${o.left_seconds != null
                ? html` · <strong>${duration(o.left_seconds - elapsed)}</strong> left` : ''}</li>`)}</ul>`
          : 'none'}</dd></div>
      </dl>
    </section>`;
}
