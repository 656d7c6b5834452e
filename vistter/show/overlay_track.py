"""An overlay track executor: renders each overlay cue ahead of time and arms its showing.

One executor per overlay track (z-order = the track's ``layer``; the layer id on the program
is the track id, the showing's tag is the cue id). Every arming round it

- renders (Pillow, off the frame path) every cue starting in the window, scaled from the
  timeline's resolution to the program's, and arms ``show_overlay`` from the cue's first
  frame until its end frame with its fades and opacity; the cue on air at the first frame
  the round can still change, if not armed in this generation, is shown there at once (no
  fade-in, mid-cue); a showing left on the layer with no end (held by a pause or a jump)
  where no cue plays any more is hidden;
- keeps ``dynamic_text`` cues current: the text is rendered for the wall-clock time of the
  frame it appears on, and each time the ``{time}`` part changes a new rendering is armed
  for the exact frame the wall clock reaches it; a data source (JSON file or URL) is
  polled on a thread, a new value is shown from the next frame, and a failed read raises
  an ``alert`` while the last value is kept;
- a cue that cannot be rendered (missing picture, bad template) raises an ``alert`` and is
  skipped: the show goes on.

An operator's live text (``ShowState.text_for``) replaces the cue's text or template.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from vistter.actors.program.changes import OverlayOff, OverlayOn
from vistter.actors.program.overlay_layer import OverlayLayer
from vistter.models.overlays import DataSource, DynamicTextOverlay
from vistter.models.timeline import OverlayCue
from vistter.overlays import (
    DataPoller,
    DataProvider,
    DataStatus,
    OverlayError,
    next_time_change,
    render_overlay,
    resolution_scale,
)
from vistter.overlays.cache import RenderCache
from vistter.show.context import ShowContext
from vistter.show.plan import Occurrence, ShowPlan
from vistter.show.show_state import ArmOutcome
from vistter.show.track_base import TrackExecutor, Window
from vistter.supervisors.link import Link
from vistter.telemetry.topics import ALERT_TOPIC

__all__ = ["OverlayTrackExecutor", "RenderedCue", "render_cue"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RenderedCue:
    """An overlay cue drawn for the program: the layer to composite and its opacity."""

    layer: OverlayLayer
    opacity: float


def render_cue(
    context: ShowContext,
    plan: ShowPlan,
    cue: OverlayCue,
    *,
    text: str | None = None,
    moment: datetime | None = None,
    value: object = None,
) -> RenderedCue:
    """Render ``cue`` for the program (``text``: a live text; ``moment``/``value``: a dynamic
    text's time and value). Runs in the caller's thread, a few ms. Raises
    :class:`~vistter.overlays.OverlayError` when the cue cannot be drawn."""
    scale = resolution_scale(plan.timeline.height, context.fmt)
    rendered = render_overlay(
        cue.params, context.fmt, context.assets_dir,
        text=text, now=moment, value=value, scale=scale,
    )
    layer = rendered.to_layer()
    layer.animated = isinstance(cue.params, DynamicTextOverlay)  # degraded mode may omit it
    return RenderedCue(layer, rendered.opacity)


@dataclass
class _Dynamic:
    """A dynamic text showing on the program: the moment its latest rendering is for."""

    occurrence: Occurrence
    moment: datetime | None = None
    version: int = 0
    sources: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class _DataRead:
    location: str
    status: DataStatus


def _source_name(source: DataSource) -> str:
    return f"{source.url or source.path}#{source.key or ''}"


class OverlayTrackExecutor(TrackExecutor):
    """Arms one overlay track (see the module doc). Messages run in the actor thread."""

    def __init__(self, link: Link, context: ShowContext, track_id: str) -> None:
        super().__init__(link, context, track_id)
        self._cache: RenderCache[tuple[str, str | None], RenderedCue] = RenderCache()
        self._failed: dict[tuple[int, tuple[str, int]], int] = {}
        self._dynamic: dict[tuple[int, tuple[str, int]], _Dynamic] = {}
        self._providers: dict[str, DataProvider] = {}
        self._pollers: list[DataPoller] = []

    # -- data sources -----------------------------------------------------------------------

    def start_threads(self) -> None:
        """Start a poller per data source of the track's dynamic texts."""
        plan = self.show.plan
        if plan is None:
            return
        for span in plan.spans(self.track_id):
            params = span.cue.params
            if not isinstance(params, DynamicTextOverlay) or params.source is None:
                continue
            name = _source_name(params.source)
            if name in self._providers:
                continue
            provider = DataProvider(params.source, self.context.assets_dir,
                                    clock=self.link.clock, network=self.context.network)
            self._providers[name] = provider
            poller = DataPoller(
                provider, clock=self.link.clock,
                on_status=self._poster(name),
                on_crash=lambda exc: self.worker_died("overlay data poller", exc),
                name=f"overlay-data-{self.track_id}",
            )
            self._pollers.append(poller)
            poller.start()

    def _poster(self, name: str) -> Callable[[DataStatus], None]:
        def on_status(status: DataStatus) -> None:  # the poller's thread
            self.post(_DataRead(name, status))

        return on_status

    def stop_threads(self) -> None:
        for poller in self._pollers:
            if not poller.stop(timeout=2.0):
                logger.warning("%s: a data source read is still running", self.link.path)

    def on_wake(self, reason: str) -> None:
        """A live text changed: dynamic showings of that cue are rendered anew."""
        if reason.startswith("text:"):
            cue_id = reason.removeprefix("text:")
            for dynamic in self._dynamic.values():
                if dynamic.occurrence.cue.id == cue_id:
                    dynamic.version += 1
                    dynamic.moment = None

    def on_message(self, message: Any) -> Any:
        """Actor thread: a data source read (alert on failure; a new value re-renders)."""
        if isinstance(message, _DataRead):
            alert = message.status.alert()
            if alert is not None:  # one alert per data source (vistter.alerts: subject)
                alert.update(source="data-provider", subject=message.location,
                             track=self.track_id)
                self.link.events.publish(ALERT_TOPIC, alert)
            elif message.status.recovered:
                self.link.events.publish(ALERT_TOPIC, {
                    "severity": "info", "kind": "overlay_data", "source": "data-provider",
                    "subject": message.location, "cleared": True, "track": self.track_id,
                    "message": f"Overlay data source {message.location} reads again.",
                })  # fmt: skip
            if message.status.changed:
                for dynamic in self._dynamic.values():
                    if message.location in dynamic.sources:
                        dynamic.version += 1
                        dynamic.moment = None
                self.run_round()
            return None
        return super().on_message(message)

    # -- a round ----------------------------------------------------------------------------

    def arm_window(self, window: Window) -> bool:
        plan, segment = window.plan, window.segment
        generation = segment.generation
        entry = plan.covering(self.track_id, segment.anchor, window.lo)
        if entry is None and not self._hide_held(window):
            return False
        occurrences = [] if entry is None else [entry]
        occurrences += [
            occ for occ in plan.starting(self.track_id, segment.anchor, window.lo, window.hi)
            if entry is None or occ.key != entry.key
        ]
        for occurrence in occurrences:
            if not self._arm(window, occurrence):
                return False
        for key in [k for k, d in self._dynamic.items()
                    if k[0] != generation or d.occurrence.end <= window.lo]:
            del self._dynamic[key]
        for key in [k for k, end in self._failed.items() if k[0] != generation or end < window.lo]:
            del self._failed[key]
        return all(self._advance(window, dynamic) for dynamic in list(self._dynamic.values()))

    def _arm(self, window: Window, occurrence: Occurrence) -> bool:
        generation = window.segment.generation
        key = (generation, occurrence.key)
        cue = occurrence.cue
        assert isinstance(cue, OverlayCue)
        dynamic = isinstance(cue.params, DynamicTextOverlay)
        if key in self._failed:
            return True
        if self.show.is_armed(self.track_id, generation, occurrence.key):
            if dynamic and key not in self._dynamic:
                self._track_dynamic(key, occurrence, None)  # restarted: show it anew
            return True
        at = max(occurrence.start, window.lo)
        moment = self.context.calendar.datetime_at(at) if dynamic else None
        outcome = self._show(window, occurrence, at, moment, occurrence.key)
        if outcome is ArmOutcome.STALE:
            return False
        if outcome is ArmOutcome.ARMED and dynamic:
            self._track_dynamic(key, occurrence, moment)
        return True

    def _track_dynamic(self, key: tuple[int, tuple[str, int]], occurrence: Occurrence,
                       moment: datetime | None) -> None:
        params = occurrence.cue.params
        assert isinstance(params, DynamicTextOverlay)
        names = (_source_name(params.source),) if params.source is not None else ()
        self._dynamic[key] = _Dynamic(occurrence, moment, sources=names)

    def _show(
        self, window: Window, occurrence: Occurrence, at: int, moment: datetime | None,
        key: tuple[str, int],
    ) -> ArmOutcome | None:
        """Render the cue and arm it from ``at`` to its end; None when it cannot be drawn."""
        cue = occurrence.cue
        assert isinstance(cue, OverlayCue)
        text = self.show.text_for(cue.id)
        rendered = self._render(window.plan, cue, text, moment)
        if rendered is None:
            self._failed[(window.segment.generation, occurrence.key)] = occurrence.end
            return None
        length = occurrence.end - occurrence.start
        fade_in = min(length, window.plan.frames(cue.params.fade_in)) \
            if at == occurrence.start and key == occurrence.key else 0
        fade_out = min(length, window.plan.frames(cue.params.fade_out))
        showing = OverlayOn(
            self.track_id, window.plan.layers[self.track_id], rendered.layer, at,
            until_frame=occurrence.end, fade_in_frames=fade_in, fade_out_frames=fade_out,
            opacity=rendered.opacity, tag=cue.id,
        )
        return self.show.arm(
            self.track_id, window.segment.generation, key, occurrence.end, showing,
            cue_text=(cue.id, text),
        )

    def _render(
        self, plan: ShowPlan, cue: OverlayCue, text: str | None, moment: datetime | None
    ) -> RenderedCue | None:
        dynamic = isinstance(cue.params, DynamicTextOverlay) and text is None
        cached = None if dynamic else self._cache.get((cue.id, text))
        if cached is not None:
            return cached
        value = self._value(cue) if dynamic else None
        try:
            rendered = render_cue(self.context, plan, cue, text=text, moment=moment, value=value)
        except OverlayError as exc:
            self.alert(
                "overlay_render",
                f"overlay cue '{cue.id}' cannot be drawn: {exc.problem}; the show goes on "
                "without it",
                hint=exc.hint, cue=cue.id,
            )
            return None
        if not dynamic:
            self._cache[(cue.id, text)] = rendered
        return rendered

    def _value(self, cue: OverlayCue) -> object:
        params = cue.params
        if not isinstance(params, DynamicTextOverlay) or params.source is None:
            return None
        provider = self._providers.get(_source_name(params.source))
        return None if provider is None else provider.value

    def _advance(self, window: Window, dynamic: _Dynamic) -> bool:
        """Arm the next renderings of a dynamic text within the window; False when stale."""
        occurrence = dynamic.occurrence
        cue = occurrence.cue
        params = cue.params
        assert isinstance(params, DynamicTextOverlay)
        if self.show.text_for(cue.id) is not None or self.show.overrides.overlays_cleared:
            return True
        calendar = self.context.calendar
        iteration = occurrence.iteration
        if dynamic.moment is not None and calendar.frame_at(dynamic.moment) > window.hi + 1:
            # the wall clock went back (an NTP step, DST done by hand): what is shown lies in
            # the future now, and its next change an hour away; show the time anew
            dynamic.version += 1
            dynamic.moment = None
        if dynamic.moment is None:
            at = max(occurrence.start, window.lo)
            moment = calendar.datetime_at(at)
            key = (f"{cue.id}@{at}v{dynamic.version}", iteration)
            outcome = self._show(window, occurrence, at, moment, key)
            if outcome is ArmOutcome.STALE:
                return False
            if outcome not in (ArmOutcome.ARMED, ArmOutcome.ALREADY):
                return True
            dynamic.moment = moment
        while True:
            change = next_time_change(params.template, dynamic.moment)
            if change is None:
                return True
            frame = calendar.frame_at(change)
            if frame >= occurrence.end or frame >= window.hi:
                return True
            at = max(frame, window.lo)
            moment = change if at == frame else calendar.datetime_at(at)
            key = (f"{cue.id}@{at}v{dynamic.version}", iteration)
            outcome = self._show(window, occurrence, at, moment, key)
            if outcome is ArmOutcome.STALE:
                return False
            if outcome not in (ArmOutcome.ARMED, ArmOutcome.ALREADY):
                return True
            dynamic.moment = moment

    def _hide_held(self, window: Window) -> bool:
        """Hide a showing left on this layer with no end where no cue plays now."""
        held = [
            entry for entry in self.program.on_air()["overlays"]
            if entry["layer_id"] == self.track_id and entry["end"] is None
            and entry["start"] <= window.lo
        ]
        if not held:
            return True
        at = window.lo
        outcome = self.show.arm(
            self.track_id, window.segment.generation, ("#hide", at), at,
            OverlayOff(self.track_id, at),
        )
        return outcome is not ArmOutcome.STALE
