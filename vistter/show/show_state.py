"""The show state: the loaded timeline and where it stands on the program. Shared, thread-safe.

One :class:`ShowState` lives as long as the appliance; the orchestrator and the track
executors are restarted around it and re-derive everything from it:

- the loaded timeline, compiled as a :class:`~vistter.show.plan.ShowPlan`, and whether it
  loops (the spec's "30-minute looping timeline": loop by default; a timeline that says
  ``"loop": false`` ends);
- the **segment**: how show frames map to program frames from a program frame on
  (``program frame = anchor + show frame``), with a *generation* number that changes on
  every go-live, pause, resume and jump; a paused segment holds one show frame;
- the manual **overrides** (slate, forced camera, pinned source, overlays cleared) and the
  operator's live texts;
- which cue occurrences each track has armed in this generation (so arming is idempotent
  across executor restarts) and how far each track has armed ("armed through"), whose
  minimum is the offline render's barrier;
- the media sources the video track has asked for.

Locking: one re-entrant lock. Arming goes through :meth:`ShowState.arm`, which checks the
generation and the overrides and hands the armed change (a typed value of
:mod:`vistter.actors.program.changes`) to ``ProgramState.apply`` under that lock, so an
override or a segment change and a concurrent arming never interleave. Lock order is always
ShowState, then ProgramState (the mixer takes only the latter). Listeners run outside the
lock, in the thread that made the change; they must only post a message (an actor ``tell``)
and never raise.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

from vistter.actors.program.changes import ArmedChange, Take
from vistter.actors.program.state import ProgramState
from vistter.models.timeline import TimelineDocument
from vistter.show.errors import ShowError
from vistter.show.payloads import CounterName
from vistter.show.plan import ShowPlan
from vistter.show.values import (
    NO_LIMIT,
    ArmOutcome,
    Overrides,
    Position,
    Segment,
    ShowPhase,
)

__all__ = [
    "NO_LIMIT",
    "ArmOutcome",
    "Overrides",
    "Position",
    "Segment",
    "ShowPhase",
    "ShowState",
]

logger = logging.getLogger(__name__)

ChangeListener = Callable[[str], None]


class ShowState:
    """The show's shared state (see the module doc). Every method: any thread."""

    def __init__(self, program: ProgramState) -> None:
        self.program = program
        self.fps = program.fmt.fps
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._plan: ShowPlan | None = None
        self._timeline_db_id: int | None = None
        self._phase = ShowPhase.IDLE
        self._segment: Segment | None = None
        self._generation = 0
        self._overrides = Overrides()
        self._texts: dict[str, str] = {}
        self._armed: dict[str, dict[tuple[str, int], int]] = {}
        self._marks: dict[str, int] = {}
        self._wanted = -1
        self._media: dict[str, str] = {}
        self._listeners: list[ChangeListener] = []
        self._counters: dict[CounterName, int] = {}
        self.execution_id: int | None = None
        self.last_error: str | None = None
        self.live_since: int | None = None
        """Program frame the current run went live at (None when no run)."""

    # -- guarding ---------------------------------------------------------------------------

    @contextmanager
    def guard(self) -> Iterator[None]:
        """Hold the show lock, to change overrides and the program state atomically."""
        with self._lock:
            yield

    def add_listener(self, listener: ChangeListener) -> Callable[[], None]:
        """Call ``listener(reason)`` after every change; returns the function that removes it."""
        with self._lock:
            self._listeners.append(listener)

        def remove() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return remove

    def notify(self, reason: str) -> None:
        """Tell the listeners that something changed (``reason``: what). Outside the lock."""
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(reason)
            except Exception:
                logger.exception("show listener %r raised on %s", listener, reason)

    # -- the timeline -----------------------------------------------------------------------

    def load(self, document: TimelineDocument, timeline_db_id: int | None, *, loop: bool) -> None:
        """Make ``document`` the show (no segment: nothing plays until a segment starts)."""
        with self._lock:
            self._plan = ShowPlan(document, self.fps, loop=loop)
            self._timeline_db_id = timeline_db_id
            self._segment = None
            self._generation += 1
            self._texts.clear()
            self._armed = {track: {} for track in self._plan.track_ids}
            self._marks = dict.fromkeys(self._plan.track_ids, -1)
            self.execution_id = None
            self.last_error = None
            self.live_since = None
            self._counters.clear()
        self.notify("load")

    @property
    def plan(self) -> ShowPlan | None:
        with self._lock:
            return self._plan

    @property
    def timeline_db_id(self) -> int | None:
        with self._lock:
            return self._timeline_db_id

    @property
    def phase(self) -> ShowPhase:
        with self._lock:
            return self._phase

    def set_phase(self, phase: ShowPhase) -> None:
        with self._lock:
            self._phase = phase
        self.notify("phase")

    # -- segments ---------------------------------------------------------------------------

    @property
    def segment(self) -> Segment | None:
        with self._lock:
            return self._segment

    def start_segment(self, at_frame: int, show_frame: int, *, paused: bool = False) -> Segment:
        """Show frame ``show_frame`` plays at program frame ``at_frame`` from now on (held
        there when ``paused``). A new generation: every track arms again from ``at_frame``."""
        with self._lock:
            self._generation += 1
            segment = Segment(
                self._generation, at_frame, at_frame - show_frame,
                show_frame if paused else None,
            )
            self._segment = segment
            for track in self._armed:
                self._armed[track] = {}
            for track, mark in self._marks.items():
                self._marks[track] = min(mark, at_frame - 1)
            self._changed.notify_all()
        self.notify("segment")
        return segment

    def end_segment(self) -> None:
        """Nothing plays any more (stopped, or a new timeline)."""
        with self._lock:
            self._segment = None
            self._generation += 1
            self._changed.notify_all()
        self.notify("segment")

    def position(self, frame: int | None = None) -> Position | None:
        """Where the show is at program ``frame`` (default: the last planned frame)."""
        with self._lock:
            plan, segment = self._plan, self._segment
        if plan is None or segment is None:
            return None
        if frame is None:
            frame = max(0, self.program.horizon - 1)
        show_frame = segment.show_frame(frame)
        ended = plan.ended(show_frame)
        if ended:
            show_frame = plan.length
        iteration, timeline_frame = plan.iteration_of(show_frame)
        return Position(show_frame, iteration, timeline_frame, timeline_frame / self.fps, ended)

    # -- overrides and live texts -----------------------------------------------------------

    @property
    def overrides(self) -> Overrides:
        with self._lock:
            return self._overrides

    def set_overrides(self, **changes: Any) -> Overrides:
        """Change overrides (keyword = field). Hold :meth:`guard` to change the program in
        the same step. Listeners are told."""
        with self._lock:
            self._overrides = replace(self._overrides, **changes)
            overrides = self._overrides
        self.notify("overrides")
        return overrides

    def text_for(self, cue_id: str) -> str | None:
        """The operator's live text for an overlay cue (None: the cue's own)."""
        with self._lock:
            return self._texts.get(cue_id)

    def set_text(self, cue_id: str, text: str | None) -> None:
        with self._lock:
            if text is None:
                self._texts.pop(cue_id, None)
            else:
                self._texts[cue_id] = text

    # -- arming -----------------------------------------------------------------------------

    def arm(
        self,
        track_id: str,
        generation: int,
        key: tuple[str, int],
        end: int,
        change: ArmedChange,
        *,
        cue_text: tuple[str, str | None] | None = None,
    ) -> ArmOutcome:
        """Apply ``change`` to the program (``ProgramState.apply``) once per ``key`` in
        ``generation``.

        Refused (nothing applied) when the segment changed (STALE), the show is paused or an
        override holds the track (HELD: a video override holds takes, cleared overlays hold
        every other kind), or, with ``cue_text=(cue id, live text rendered)``, when the cue's
        live text has changed since (STALE: render again). ``end`` is the program frame after
        which the key can be forgotten. A ``ProgramStateError`` from ``apply`` propagates (a
        bug: the change was malformed).
        """
        video = isinstance(change, Take)
        with self._lock:
            segment = self._segment
            if segment is None or segment.generation != generation:
                return ArmOutcome.STALE
            armed = self._armed.setdefault(track_id, {})
            if key in armed:
                return ArmOutcome.ALREADY
            if segment.paused:
                return ArmOutcome.HELD
            if video and self._overrides.holds_video:
                return ArmOutcome.HELD
            if not video and self._overrides.overlays_cleared:
                return ArmOutcome.HELD
            if cue_text is not None and self._texts.get(cue_text[0]) != cue_text[1]:
                return ArmOutcome.STALE
            self.program.apply(change)
            armed[key] = end
            return ArmOutcome.ARMED

    def withdraw(self, at_frame: int | None, *, video: bool, overlays: bool) -> tuple[int, int]:
        """Cancel what is armed on the program from ``at_frame`` on (None: the next frame;
        see ``ProgramState.cancel_from``) for the video track and/or the overlay tracks, and
        forget what those tracks armed, so they arm again what the timeline still wants."""
        with self._lock:
            result = self.program.cancel_from(at_frame, takes=video, overlays=overlays)
            plan = self._plan
            if plan is not None:
                for track in self._armed:
                    if (track == plan.video_track_id and video) or (
                        track != plan.video_track_id and overlays
                    ):
                        self._armed[track] = {}
                        frame = self.program.horizon if at_frame is None else at_frame
                        self._marks[track] = min(self._marks.get(track, -1), frame - 1)
        self.notify("withdraw")
        return result

    def is_armed(self, track_id: str, generation: int, key: tuple[str, int]) -> bool:
        with self._lock:
            segment = self._segment
            if segment is None or segment.generation != generation:
                return False
            return key in self._armed.get(track_id, {})

    def armed_keys(self, track_id: str) -> dict[tuple[str, int], int]:
        """The keys ``track_id`` armed in the current generation, with their end frames."""
        with self._lock:
            return dict(self._armed.get(track_id, {}))

    def mark_armed_through(self, track_id: str, generation: int, frame: int) -> None:
        """``track_id`` has armed everything up to program ``frame`` in ``generation``; keys of
        occurrences over before the program's horizon are forgotten."""
        horizon = self.program.horizon
        with self._lock:
            segment = self._segment
            if segment is None or segment.generation != generation:
                return
            if self._marks.get(track_id, -1) < frame:
                self._marks[track_id] = frame
            armed = self._armed.get(track_id)
            if armed:
                for key in [k for k, end in armed.items() if end < horizon]:
                    del armed[key]
            self._changed.notify_all()

    def armed_through(self) -> int:
        """The last program frame every track has armed (:data:`NO_LIMIT` when nothing
        plays or the show is paused). Frames up to it are final unless an operator acts."""
        with self._lock:
            return self._armed_through()

    def _armed_through(self) -> int:
        segment = self._segment
        if segment is None or segment.paused or not self._marks:
            return NO_LIMIT
        return min(self._marks.values())

    def wanted_frame(self) -> int:
        """The furthest frame someone waits to see armed (see :meth:`wait_armed_through`)."""
        with self._lock:
            return self._wanted

    def wait_armed_through(self, frame: int, timeout: float) -> bool:
        """Block until every track has armed program ``frame`` (True) or ``timeout`` real
        seconds pass (False). Asks the executors to arm that far at once. For the offline
        render's frame hook; runs in the caller's thread."""
        with self._lock:
            if self._armed_through() >= frame:
                return True
            self._wanted = max(self._wanted, frame)
        self.notify("arm_request")
        with self._lock:
            return self._changed.wait_for(lambda: self._armed_through() >= frame, timeout)

    # -- counters of a run ------------------------------------------------------------------

    def count(self, name: CounterName) -> None:
        """Add one to a run counter (pauses, jumps, overrides...)."""
        with self._lock:
            self._counters[name] = self._counters.get(name, 0) + 1

    def counters(self) -> dict[CounterName, int]:
        with self._lock:
            return dict(self._counters)

    def reset_counters(self) -> None:
        with self._lock:
            self._counters.clear()

    def frame_hook(self, timeout: float = 10.0) -> Callable[[int], None]:
        """A hook for the offline render's lock-step (``LockStep.add_hook``): before frame
        ``n`` is composed, wait until every track has armed it. Runs in the mixer thread;
        raises :class:`~vistter.show.errors.ShowError` naming the slowest track when that
        takes more than ``timeout`` real seconds (the render then fails with it)."""

        def hook(n: int) -> None:
            if self.wait_armed_through(n, timeout):
                return
            with self._lock:
                behind = sorted((mark, track) for track, mark in self._marks.items())
            slowest = ", ".join(f"{track} (armed to frame {mark})" for mark, track in behind[:3])
            raise ShowError(
                f"the show did not arm program frame {n} within {timeout:g} s; behind: "
                f"{slowest or 'no track'}.",
                hint="A track executor is down or stuck: see the log and the supervision tree.",
            )

        return hook

    # -- media ------------------------------------------------------------------------------

    def media_source(self, location: str) -> str | None:
        with self._lock:
            return self._media.get(location)

    def note_media(self, location: str, source_id: str | None) -> None:
        """Remember (or, with None, forget) the source running for ``location``."""
        with self._lock:
            if source_id is None:
                self._media.pop(location, None)
            else:
                self._media[location] = source_id

    def media(self) -> dict[str, str]:
        with self._lock:
            return dict(self._media)
