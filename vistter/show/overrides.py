"""Manual overrides: the operator wins over the timeline until the override is released.

Each override takes effect on the **next program frame**: it changes the
:class:`~vistter.show.show_state.ShowState` overrides and the ``ProgramState`` in one step
under the show lock (so a track executor arming at the same moment either arms before, and is
withdrawn, or is refused), and arms its change for "the next frame" (``at_frame=None``).

- **emergency slate**: the slate goes on air; video cues are ignored until released;
- **force camera**: that camera goes on air; video cues are ignored until released;
- **pin camera**: the source on air stays; video cues are ignored, overlays go on;
- **clear overlays**: every overlay goes off air, and overlay cues are ignored until
  released (so a wrong graphic cannot come back with the next cue); on release, the overlay
  cues playing at that moment come back (armed by their executors within a round: a few ms);
- releasing a video override puts back, on the next frame, what is still overridden
  (slate, then a forced camera, then a pin) or else the source of the timeline's cue playing
  now (its media source, if not running yet, is taken by the executor as soon as it is);
- **live text**: an overlay cue's text is re-rendered and replaces the showing's pixels from
  the next frame, timing unchanged (the output never pauses); it stays for the rest of the
  run, in every later occurrence of the cue, until set back with ``text=None``.

Every change reaches the program as a typed armed change (``Take``, ``ClearOverlays``,
``TextChange``) through ``ProgramState.apply``; the slate's take goes through
``ProgramState.take``, which also says the frame it takes effect on (``slate_frame``).

Skipping to the next cue is a jump (see the orchestrator). Every method runs in the calling
thread (the orchestrator's) and raises :class:`~vistter.show.errors.ShowError` when the
request cannot be met.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from vistter.actors.program.changes import ClearOverlays, Take, TextChange
from vistter.actors.sources.table import SLATE_SOURCE_ID, camera_source_id
from vistter.models.overlays import DynamicTextOverlay, LowerThirdOverlay, TextOverlay
from vistter.models.timeline import CameraCue, MediaCue, OverlayCue
from vistter.show.context import ShowContext
from vistter.show.errors import ShowError
from vistter.show.overlay_track import render_cue
from vistter.show.payloads import TextUpdate
from vistter.show.show_state import Overrides
from vistter.show.video_track import entry_take, video_source

__all__ = ["OverrideAction", "OverrideDesk"]

OverrideAction = Callable[[], Overrides]
"""One of the desk's operations, as the orchestrator runs it."""


class OverrideDesk:
    """The overrides of one show; see the module doc."""

    def __init__(
        self, context: ShowContext, *, cameras: Callable[[], Collection[int]] | None = None
    ) -> None:
        self.context = context
        self.show = context.show
        self.program = context.program
        self._cameras = cameras

    # -- video ------------------------------------------------------------------------------

    def emergency_slate(self) -> Overrides:
        """The slate from the next frame; ``slate_frame`` says which (kept while it stays)."""
        with self.show.guard():
            before = self.show.overrides
            self.show.set_overrides(slate=True)
            self.show.withdraw(None, video=True, overlays=False)
            armed = self.program.take(SLATE_SOURCE_ID, tag="override:slate")
            since = before.slate_frame if before.slate else armed.at_frame
            overrides = self.show.set_overrides(slate_frame=since)
        self.show.count("override_slate")
        return overrides

    def release_slate(self) -> Overrides:
        return self._release(slate=False)

    def force_camera(self, camera_id: int) -> Overrides:
        if self._cameras is not None:
            known = set(self._cameras())
            if camera_id not in known:
                raise ShowError(
                    f"camera {camera_id} is not configured.",
                    hint=f"Force one of the configured cameras: "
                    f"{', '.join(map(str, sorted(known))) or 'none'}.",
                )
        with self.show.guard():
            overrides = self.show.set_overrides(forced_camera=camera_id)
            self.show.withdraw(None, video=True, overlays=False)
            if not overrides.slate:
                self.program.apply(Take(camera_source_id(camera_id), tag="override:camera"))
        self.show.count("override_camera")
        return overrides

    def release_camera(self) -> Overrides:
        return self._release(forced_camera=None)

    def pin_camera(self) -> Overrides:
        with self.show.guard():
            source = self.program.source_at(max(0, self.program.horizon - 1))
            if source is None:
                raise ShowError(
                    "nothing is on air to pin.", hint="Take a camera or go live first."
                )
            overrides = self.show.set_overrides(pinned_source=source)
            self.show.withdraw(None, video=True, overlays=False)
        self.show.count("override_pin")
        return overrides

    def unpin_camera(self) -> Overrides:
        return self._release(pinned_source=None)

    # -- overlays ---------------------------------------------------------------------------

    def clear_overlays(self) -> Overrides:
        with self.show.guard():
            overrides = self.show.set_overrides(overlays_cleared=True)
            self.show.withdraw(None, video=False, overlays=True)
            self.program.apply(ClearOverlays())
        self.show.count("override_clear_overlays")
        return overrides

    def restore_overlays(self) -> Overrides:
        with self.show.guard():
            before = self.show.overrides
            overrides = self.show.set_overrides(overlays_cleared=False)
            if before.overlays_cleared:
                self.show.withdraw(None, video=False, overlays=True)
        return overrides

    def release_all(self) -> Overrides:
        self.restore_overlays()
        return self._release(slate=False, forced_camera=None, pinned_source=None)

    def update_text(self, cue_id: str, text: str | None) -> TextUpdate:
        """Show ``text`` in overlay cue ``cue_id`` from the next frame (None: its own text)."""
        plan = self.show.plan
        span = plan.find(cue_id) if plan is not None else None
        if plan is None or span is None or not isinstance(span.cue, OverlayCue):
            raise ShowError(
                f"there is no overlay cue '{cue_id}' in the loaded timeline.",
                hint="Name an overlay cue of the timeline (GET the show status for its cues).",
            )
        params = span.cue.params
        if not isinstance(params, TextOverlay | LowerThirdOverlay | DynamicTextOverlay):
            raise ShowError(
                f"overlay cue '{cue_id}' is a {params.type}: it has no text.",
                hint="Update a text, lower_third or dynamic_text cue.",
            )
        if text is not None and not text.strip():
            raise ShowError("the new text is empty.", hint="Send some text, or null to reset.")
        rendered = None
        if text is not None or not isinstance(params, DynamicTextOverlay):
            # Rendered before taking the show lock (bounded by the frame, yet tens of ms at
            # 1080p), so the track executors' arming never waits for it; raises OverlayError.
            rendered = render_cue(self.context, plan, span.cue, text=text)
        replaced = False
        with self.show.guard():
            self.show.set_text(cue_id, text)
            if rendered is not None:
                replaced = self.program.apply(TextChange(span.track_id, rendered.layer, cue_id))
        self.show.count("live_text")
        self.show.notify(f"text:{cue_id}")
        return TextUpdate(cue_id=cue_id, text=text, on_air=replaced)

    # -- internals --------------------------------------------------------------------------

    def _release(self, **changes: Any) -> Overrides:
        if changes.get("slate") is False:
            changes["slate_frame"] = None
        with self.show.guard():
            before = self.show.overrides
            overrides = self.show.set_overrides(**changes)
            if before.holds_video and overrides != before:
                self.show.withdraw(None, video=True, overlays=False)
                self._restore_video(overrides)
        return overrides

    def _restore_video(self, overrides: Overrides) -> None:
        """Put on air, at the next frame, what the overrides left still want. Lock held."""
        if overrides.slate:
            self.program.apply(Take(SLATE_SOURCE_ID, tag="override:slate"))
            return
        if overrides.forced_camera is not None:
            self.program.apply(Take(camera_source_id(overrides.forced_camera),
                                    tag="override:camera"))
            return
        if overrides.pinned_source is not None:
            self.program.apply(Take(overrides.pinned_source, tag="override:pin"))
            return
        plan, segment = self.show.plan, self.show.segment
        if plan is None or segment is None:
            return
        at = max(self.program.horizon, segment.start)
        occurrence = plan.covering(plan.video_track_id, segment.anchor, at)
        if occurrence is None:
            return
        local = self.context.sources is None
        if segment.paused:
            cue = occurrence.cue
            assert isinstance(cue, CameraCue | MediaCue)
            source = video_source(self.show, cue, local=local)
            if source is not None:
                self.program.apply(Take(source, tag=cue.id))
            return
        entry_take(self.show, occurrence, at, segment.generation, local=local)
