""""Put on air next": a library timeline that follows the running one, frame-exact.

A mixin of :class:`~vistter.show.orchestrator.Orchestrator` (kept apart so each module stays
one concept). While a show is live, :meth:`NextControls.put_next` queues a timeline; it goes
on air at the end of the running timeline's current pass (the *boundary*: the program frame
where that pass would loop, or where a timeline that does not loop ends) instead of the loop.
With nothing on air, it is loaded, as ``load`` does. :meth:`NextControls.cancel_next`
withdraws it.

How the switch stays frame-exact: the orchestrator's check timer calls :meth:`_check_next`.
Once every track of the running timeline has armed its pass up to the boundary
(``armed_through``; the executors arm ``lookahead`` seconds ahead), and while the boundary is
still at least ``switch_lead`` plus :data:`SWITCH_MARGIN` ahead of the program, the switch is
made in one step: whatever the old tracks armed from the boundary on (the start of their next
pass) is withdrawn, every overlay is cut at the boundary, the queued timeline becomes the
show with its frame 0 at the boundary, and its executors start and arm from there, like any
cue. The old run is recorded as completed and a new run starts. When the boundary is already
too close (the check came late), the switch moves to the end of the next pass (a looping
timeline) or to the first frame it can still make (a timeline that ends).

The queued timeline lives in the orchestrator: a restarted orchestrator has none. A pause
keeps it queued (the boundary moves with the show); stopping the show withdraws it. Media
sources of the old timeline are kept until the show stops or another timeline is loaded.

Every method runs in the orchestrator's thread (through its proxy, or its timer).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from vistter.actors.program.changes import ClearOverlays
from vistter.errors import OperatorError
from vistter.models.timeline import TimelineDocument
from vistter.show.errors import ShowStateError
from vistter.show.going_live import LiveStatus
from vistter.show.payloads import NextPayload
from vistter.show.values import ShowPhase

if TYPE_CHECKING:
    from vistter.actors.program.state import ProgramState
    from vistter.show.context import ShowContext
    from vistter.show.runs import RunLog
    from vistter.show.show_state import ShowState

__all__ = ["SWITCH_MARGIN", "NextControls", "NextPayload", "QueuedNext"]

logger = logging.getLogger(__name__)

SWITCH_MARGIN = 0.5
"""Seconds, beyond ``switch_lead``, the switch is made ahead of the boundary at the latest:
time for the new executors to start and arm their first cues before the program gets there."""


@dataclass(frozen=True)
class QueuedNext:
    """A validated library timeline waiting for the end of the running pass."""

    document: TimelineDocument
    timeline_db_id: int | None
    loop: bool | None

    @property
    def name(self) -> str:
        return self.document.timeline.name


class NextControls:
    """Put on air next, cancel, and the switch (see the module doc)."""

    context: ShowContext
    show: ShowState
    program: ProgramState
    _runs: RunLog
    _iteration: int | None
    _queued_next: QueuedNext | None = None

    if TYPE_CHECKING:  # given by the orchestrator

        def load(self, document: TimelineDocument, timeline_db_id: int | None = None,
                 loop: bool | None = None) -> LiveStatus: ...

        def status(self) -> LiveStatus: ...

        def _lead(self) -> int: ...

        def _start_executors(self) -> None: ...

        def _stop_executors(self) -> None: ...

        def _publish(self, event: str, **extra: Any) -> None: ...

        def _fail(self, error: str) -> None: ...

    # -- the operator (through the proxy) ---------------------------------------------------

    def put_next(
        self, document: TimelineDocument, timeline_db_id: int | None = None,
        loop: bool | None = None,
    ) -> LiveStatus:
        """Queue ``document`` (validated already) to follow the running pass; with nothing on
        air, load it (as :meth:`load`). A second call replaces the queued one."""
        if self.show.phase not in (ShowPhase.LIVE, ShowPhase.PAUSED):
            return self.load(document, timeline_db_id, loop)
        self._queued_next = QueuedNext(document, timeline_db_id, loop)
        self._publish("next_queued", next=self.next_status())
        self._check_next()
        return self.status()

    def cancel_next(self) -> LiveStatus:
        """Withdraw the queued timeline; the running one loops (or ends) as before."""
        queued = self._queued_next
        if queued is None:
            raise ShowStateError(
                "no timeline is queued to go on air next.",
                hint="POST /api/show/next with a timeline_id queues one.",
            )
        self._queued_next = None
        self._publish("next_cancelled", timeline=queued.name)
        return self.status()

    # -- status -----------------------------------------------------------------------------

    def next_status(self) -> NextPayload | None:
        """The queued timeline and when it goes on air (None: nothing queued)."""
        queued = self._queued_next
        if queued is None:
            return None
        boundary = self._boundary() if self.show.phase is ShowPhase.LIVE else None
        at, in_seconds = None, None
        if boundary is not None:
            at = self.context.calendar.datetime_at(boundary).isoformat(timespec="seconds")
            in_seconds = round(max(0, boundary - self.program.horizon) / self.context.fmt.fps, 2)
        return NextPayload(timeline_id=queued.timeline_db_id, name=queued.name,
                           at_frame=boundary, at=at, in_seconds=in_seconds)

    # -- the switch (the orchestrator's check timer) ----------------------------------------

    def _withdraw_next(self) -> None:
        """The show stopped or failed: nothing follows it."""
        if self._queued_next is not None:
            self._queued_next = None
            logger.info("show: the timeline queued next was withdrawn (the show ended)")

    def _check_next(self) -> None:
        """Switch to the queued timeline once the running pass is armed to its end."""
        queued = self._queued_next
        if queued is None or self.show.phase is not ShowPhase.LIVE:
            return
        boundary = self._boundary()
        if boundary is None:
            return
        if self.show.armed_through() >= boundary - 1:
            self._switch(queued, boundary)

    def _boundary(self) -> int | None:
        """The program frame the queued timeline starts on: the end of the running pass, or
        of the next one when the switch could no longer be made in time for it."""
        plan, segment = self.show.plan, self.show.segment
        if plan is None or segment is None or segment.paused:
            return None
        horizon = self.program.horizon
        earliest = horizon + self._lead() + self.context.frames(SWITCH_MARGIN)
        show_frame = segment.show_frame(horizon)
        boundary = segment.anchor + (show_frame // plan.length + 1) * plan.length
        if boundary < earliest:
            if plan.loop:
                boundary += plan.length * -(-(earliest - boundary) // plan.length)
            else:
                boundary = earliest
        return boundary

    def _switch(self, queued: QueuedNext, boundary: int) -> None:
        """Make ``queued`` the show from program frame ``boundary`` on (see the module doc).
        If its executors cannot start, the show fails as a GO LIVE does."""
        self._queued_next = None
        previous = self.show.plan
        self._stop_executors()  # first: nothing of the old timeline is armed after this
        with self.show.guard():
            self.program.cancel_from(boundary)  # the old tracks' next pass
            self.program.apply(ClearOverlays(boundary))
        self._runs.finish("completed", None)
        timeline = queued.document.timeline
        loop = queued.loop
        if loop is None:
            loop = timeline.loop if "loop" in timeline.model_fields_set else \
                self.context.settings.loop
        self.show.load(queued.document, queued.timeline_db_id, loop=loop)
        self.show.start_segment(boundary, 0)
        self.show.live_since = boundary
        self._iteration = None
        try:
            self._start_executors()
        except OperatorError as exc:  # as at GO LIVE: the show fails, the program runs on
            self._fail(f"the track executors of '{timeline.name}' did not start: {exc}")
            return
        self._runs.start()
        logger.info("show: '%s' follows '%s' at program frame %d", timeline.name,
                    previous.timeline.name if previous is not None else "?", boundary)
        self._publish("next_on_air", at_frame=boundary,
                      previous=previous.timeline.id if previous is not None else None)
