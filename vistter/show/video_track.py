"""The video track executor: takes each video cue's source on its exact program frame.

Every arming round (see :mod:`vistter.show.track_base`) it

- takes the source of every video cue starting in the window at the cue's frame, with the
  cue's transition (cut, fade, dissolve) and length in frames; the cue on air at the first
  frame the round can still change, if not armed in this generation (a resume, a jump, the
  end of an override), is taken there with a cut;
- makes ``show_media`` sources exist ahead of time (``SourceControl.ensure_media``) and
  releases those no cue needs any more (after ``media_linger``, for transitions);
- pre-rolls PTZ cameras: a camera cue with a ``preset_id`` moves its camera ``settle time +
  ptz_margin`` seconds before the cue if the camera is off air then, or at the cue's start,
  on air, if the camera is on air (the log says so). Moves run on a worker thread so the
  mailbox stays responsive; a failed move never stops the cue (the controller alerts).

While an override holds the video track (slate, forced camera, pinned camera) takes are
refused by the show state; media and PTZ preparation go on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from vistter.actors.program.changes import Take
from vistter.actors.sources.table import camera_source_id, media_source_id
from vistter.errors import OperatorError
from vistter.models.timeline import CameraCue, MediaCue
from vistter.show.context import ShowContext
from vistter.show.payloads import PtzPreroll, VideoTrackSync
from vistter.show.plan import Occurrence, ShowPlan
from vistter.show.show_state import ArmOutcome, ShowState
from vistter.show.track_base import TrackExecutor, Window, Worker
from vistter.supervisors.link import Link

__all__ = ["VideoTrackExecutor", "video_source"]

logger = logging.getLogger(__name__)

_Key = tuple[int, tuple[str, int]]


@dataclass(frozen=True)
class _PrerollDone:
    record: PtzPreroll


def video_source(show: ShowState, cue: CameraCue | MediaCue, *, local: bool) -> str | None:
    """The program source a video cue takes: ``camera:<id>``, or the media source running
    for its file (``media:<location>`` when no ``SourceControl`` manages media, i.e.
    ``local``); None when its media source is not running yet."""
    if isinstance(cue, CameraCue):
        return camera_source_id(cue.params.camera_id)
    location = cue.params.media_url
    if local:
        return media_source_id(location)
    return show.media_source(location)


def entry_take(show: ShowState, occurrence: Occurrence, at: int, generation: int,
               *, local: bool) -> ArmOutcome | None:
    """Arm ``occurrence`` (a video cue) at program frame ``at`` (>= its start: its own
    transition; later, mid-cue: a cut). None when its source is not ready. Any thread."""
    cue = occurrence.cue
    assert isinstance(cue, CameraCue | MediaCue)
    source = video_source(show, cue, local=local)
    if source is None:
        return None
    exact = occurrence.start >= at
    transition = cue.params.transition if exact else "cut"
    duration = round(cue.params.transition_seconds * show.fps) if exact else 0
    return show.arm(
        occurrence.span.track_id, generation, occurrence.key, occurrence.end,
        Take(source, max(at, occurrence.start), transition, duration, tag=cue.id),
    )


class VideoTrackExecutor(TrackExecutor):
    """Arms the video track (see the module doc). Messages run in the actor thread."""

    is_video = True

    def __init__(self, link: Link, context: ShowContext, track_id: str) -> None:
        super().__init__(link, context, track_id)
        self._worker: Worker | None = None
        self._prerolled: dict[_Key, int] = {}
        self._media_failed: dict[_Key, int] = {}
        self.prerolls: list[PtzPreroll] = []

    def start_threads(self) -> None:
        self._worker = Worker(
            f"vistter-preroll-{self.track_id}",
            lambda exc: self.worker_died("PTZ preroll", exc),
        )

    def stop_threads(self) -> None:
        if self._worker is not None and not self._worker.stop(timeout=2.0):
            logger.warning("%s: a PTZ pre-roll is still running; left to finish", self.link.path)

    def lookahead_frames(self, plan: ShowPlan) -> int:
        """The lookahead, plus the longest PTZ lead of the timeline's camera cues."""
        return self.context.frames(self.context.settings.lookahead) + self._max_lead(plan)

    def sync(self) -> VideoTrackSync:
        status = super().sync()
        return VideoTrackSync(track=status["track"], rounds=status["rounds"],
                              prerolls=list(self.prerolls))

    def on_message(self, message: Any) -> Any:
        """Actor thread: a finished PTZ pre-roll is recorded and published."""
        if isinstance(message, _PrerollDone):
            self.prerolls.append(message.record)
            del self.prerolls[:-50]
            self.publish("ptz_preroll", **message.record)
            return None
        return super().on_message(message)

    # -- a round ----------------------------------------------------------------------------

    def arm_window(self, window: Window) -> bool:
        plan, segment = window.plan, window.segment
        generation = segment.generation
        entry = plan.covering(self.track_id, segment.anchor, window.lo)
        occurrences = [] if entry is None else [entry]
        occurrences += [
            occ for occ in plan.starting(self.track_id, segment.anchor, window.lo, window.hi)
            if entry is None or occ.key != entry.key
        ]
        for occurrence in occurrences:
            key = (generation, occurrence.key)
            cue = occurrence.cue
            if isinstance(cue, MediaCue) and not self._ensure_media(cue, key, occurrence.end):
                continue
            if self.show.is_armed(self.track_id, generation, occurrence.key):
                outcome: ArmOutcome | None = ArmOutcome.ALREADY
            else:
                outcome = entry_take(self.show, occurrence, window.lo, generation,
                                     local=self.context.sources is None)
            if outcome is ArmOutcome.STALE:
                return False
            if outcome is ArmOutcome.ARMED:
                logger.debug("%s: armed %s at frame %d", self.link.path, cue.id,
                             max(occurrence.start, window.lo))
            if isinstance(cue, CameraCue):
                self._maybe_preroll(window, occurrence, cue, key)
        self._release_media(window)
        for done in (self._prerolled, self._media_failed):
            for old in [k for k, end in done.items() if k[0] != generation or end < window.lo]:
                del done[old]
        return True

    # -- media ------------------------------------------------------------------------------

    def _ensure_media(self, cue: MediaCue, key: _Key, end: int) -> bool:
        """Make the cue's media source exist; False (with an alert, once) when it cannot."""
        sources = self.context.sources
        location = cue.params.media_url
        if sources is None or self.show.media_source(location) is not None:
            return True
        if key in self._media_failed:
            return False
        try:
            source_id = sources.ensure_media(location)
        except OperatorError as exc:
            self._media_failed[key] = end
            self.alert(
                "media_failed",
                f"video cue '{cue.id}' cannot show {location}: {exc.problem}; the program "
                "stays on the previous source",
                hint=exc.hint, cue=cue.id,
            )
            return False
        self.show.note_media(location, source_id)
        return True

    def _release_media(self, window: Window) -> None:
        sources = self.context.sources
        if sources is None:
            return
        running = self.show.media()
        if not running:
            return
        plan, anchor = window.plan, window.segment.anchor
        linger = self.context.frames(self.context.settings.media_linger)
        needed: set[str] = set()
        candidates = [
            plan.covering(self.track_id, anchor, window.lo),
            plan.covering(self.track_id, anchor, max(0, window.lo - linger)),
            *plan.starting(self.track_id, anchor, window.lo, window.hi),
        ]
        for occurrence in candidates:
            if occurrence is not None and isinstance(occurrence.cue, MediaCue):
                needed.add(occurrence.cue.params.media_url)
        on_air = {self.program.source_at(max(0, window.lo - 1)),
                  self.program.source_at(window.lo)}
        for location, source_id in running.items():
            if location in needed or source_id in on_air:
                continue
            self.show.note_media(location, None)
            try:
                sources.release_media(source_id)
            except OperatorError as exc:
                logger.warning("%s: releasing %s: %s", self.link.path, source_id, exc)

    # -- PTZ --------------------------------------------------------------------------------

    def _max_lead(self, plan: ShowPlan) -> int:
        ptz = self.context.ptz
        if ptz is None:
            return 0
        leads = [
            self._lead(cue.params.camera_id)
            for cue in (span.cue for span in plan.video_spans())
            if isinstance(cue, CameraCue) and cue.params.preset_id is not None
        ]
        return max(leads, default=0)

    def _lead(self, camera_id: int) -> int:
        ptz = self.context.ptz
        settle = ptz.settle_time(camera_id) if ptz is not None else None
        return self.context.frames((settle or 0.0) + self.context.settings.ptz_margin)

    def _maybe_preroll(
        self, window: Window, occurrence: Occurrence, cue: CameraCue, key: _Key
    ) -> None:
        ptz, preset = self.context.ptz, cue.params.preset_id
        if ptz is None or preset is None or key in self._prerolled:
            return
        if occurrence.start < window.segment.start or occurrence.end <= window.now:
            return  # entered mid-cue (go-live, resume, jump), or over: the shot is what it is
        camera = camera_source_id(cue.params.camera_id)
        on_air = camera in (
            self.program.source_at(window.now), self.program.source_at(occurrence.start - 1)
        )
        due = occurrence.start if on_air else occurrence.start - self._lead(cue.params.camera_id)
        if window.now < due:
            return
        self._prerolled[key] = occurrence.end
        worker = self._worker
        assert worker is not None
        if on_air:
            logger.info("%s: camera %d is on air: cue '%s' moves it to preset '%s' on air",
                        self.link.path, cue.params.camera_id, cue.id, preset)
        worker.submit(lambda: self._preroll(cue, preset, on_air, occurrence.start))

    def _preroll(self, cue: CameraCue, preset: str, on_air: bool, frame: int) -> None:
        """Worker thread: the move itself (blocks for the move and the settle time)."""
        ptz = self.context.ptz
        assert ptz is not None
        started = self.link.clock.monotonic()
        result = ptz.preroll(cue.params.camera_id, preset, on_air=on_air)
        record = PtzPreroll(
            cue=cue.id, camera_id=cue.params.camera_id, preset=preset,
            on_air=on_air, ok=result.ok, started=started, frame=frame,
            finished=self.link.clock.monotonic(), message=result.message,
        )
        self.post(_PrerollDone(record))


