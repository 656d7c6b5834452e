"""The operator's GO LIVE controls of the orchestrator: start (now or after a countdown),
cancel the countdown, stop, and the checklist in any state.

With a ``starting_soon`` image in the show settings, a countdown puts it on the program and
the platforms on air at its start, so what they receive before the show's first frame is a
"starting soon" slate, never black or nothing; a cancelled (or failed) countdown takes it
off again and the platforms off air.

A mixin of :class:`~vistter.show.orchestrator.Orchestrator` (kept apart so each module stays
one concept): the methods run in the orchestrator's thread, through its proxy; the
countdown's end arrives as a :class:`CountdownDone` message on a timer of the link's clock.
An :class:`~vistter.errors.OperatorError` they raise goes back to the caller (a 4xx in the
API); one raised when a countdown ends is published as an ``error`` event on ``event.show``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from vistter.errors import OperatorError
from vistter.show.errors import ShowError, ShowStateError
from vistter.show.going_live import MAX_COUNTDOWN_SECONDS, GoLiveDesk, LiveStatus
from vistter.show.payloads import PreflightPayload
from vistter.show.preflight import PreflightReport

if TYPE_CHECKING:
    from vistter.actors.program.state import ProgramState
    from vistter.clock import Timer
    from vistter.show.context import ShowContext
    from vistter.show.show_state import ShowState

__all__ = ["CountdownDone", "LiveControls"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CountdownDone:
    """The countdown ``token`` ran out (posted to the orchestrator by its timer)."""

    token: int


class LiveControls:
    """GO LIVE, countdown, cancel, stop and checklist (see the module doc)."""

    live: GoLiveDesk
    show: ShowState
    context: ShowContext
    program: ProgramState
    _before_soon: str | None = None
    _soon_on_air = False

    if TYPE_CHECKING:  # given by the orchestrator

        def go_live(self, at_frame: int | None = None, force: bool = False) -> LiveStatus: ...

        def stop_show(self) -> LiveStatus: ...

        def status(self) -> LiveStatus: ...

        def post_later(self, delay: float, message: object) -> Timer: ...

        def _require(self, operation: str) -> None: ...

        def _run_preflight(self, *, probe: bool = True) -> PreflightReport: ...

        def _publish(self, event: str, **extra: Any) -> None: ...

        def _lead(self) -> int: ...

    def start_live(self, countdown: int = 0, force: bool = False) -> LiveStatus:
        """GO LIVE now (``countdown`` 0) or after ``countdown`` seconds (1..60), counted
        here: the call returns at once. The checks run now, so a blocked GO LIVE is refused
        before the countdown starts (unless ``force``)."""
        if isinstance(countdown, bool) or not isinstance(countdown, int) \
                or not 0 <= countdown <= MAX_COUNTDOWN_SECONDS:
            raise ShowError(f"{countdown!r:.40} is not a countdown.",
                            hint=f"Give whole seconds from 0 to {MAX_COUNTDOWN_SECONDS}.")
        if countdown == 0:
            return self.go_live(force=force)
        self._require("go_live")
        self._no_countdown("start another countdown")
        self._ready_to_go_live(force)
        armed = self.live.begin(countdown, force=force)
        self.post_later(countdown, CountdownDone(armed.token))
        self._starting_soon()
        self._publish("countdown", seconds=countdown)
        return self.status()

    def cancel_live(self) -> LiveStatus:
        """Withdraw the GO LIVE countdown under way."""
        if self.live.cancel() is None:
            raise ShowStateError("there is no GO LIVE countdown to cancel.",
                                 hint="POST /api/live/start with a countdown starts one.")
        self._end_starting_soon()
        self._publish("countdown_cancelled")
        return self.status()

    def stop_live(self) -> LiveStatus:
        """Stop: cancel the countdown under way, or end the show (see :meth:`stop_show`)."""
        if self.live.countdown is not None:
            return self.cancel_live()
        return self.stop_show()

    def checklist(self) -> PreflightPayload:
        """The preflight checks in any state, without changing it (``GET /api/preflight``)."""
        return self._run_preflight().to_dict()

    def _no_countdown(self, operation: str) -> None:
        if self.live.countdown is not None:
            raise ShowStateError(f"cannot {operation}: a GO LIVE countdown is under way.",
                                 hint="POST /api/live/cancel withdraws it.")

    def _ready_to_go_live(self, force: bool) -> PreflightReport:
        """Raise :class:`ShowError` when no timeline is loaded or (unless ``force``) the
        preflight finds a blocking problem."""
        if self.show.plan is None:
            raise ShowError("no timeline is loaded.", hint="Load a timeline first.")
        report = self._run_preflight(probe=False)  # no waiting on the network here
        if not report.ok and not force:
            problems = "; ".join(f"{i.subject}: {i.message}" for i in report.errors)
            raise ShowError(f"preflight failed: {problems}.",
                            hint=" ".join(i.hint for i in report.errors) or "")
        return report

    def _countdown_done(self, token: int) -> None:
        """Timer (actor thread): the countdown ended; go live. A refusal now (a camera
        removed meanwhile...) is published as an ``error`` event, never raised."""
        countdown = self.live.take(token)
        if countdown is None:
            return  # cancelled
        try:
            self.go_live(force=countdown.force)
            self._soon_on_air, self._before_soon = False, None  # the show took over
        except OperatorError as exc:
            self._end_starting_soon()
            logger.error("show: GO LIVE after the countdown failed: %s", exc)
            self.show.last_error = str(exc)
            self._publish("error", error=str(exc))

    def _starting_soon(self) -> None:
        """The countdown started: the ``starting_soon`` image on the program (unless an
        override holds the video) and the platforms on air from its first keyframe. An image
        that cannot play is logged and published; the countdown goes on without it."""
        location = self.context.settings.starting_soon
        sources = self.context.sources
        if location is None or sources is None:
            return
        try:
            source_id = sources.ensure_media(location)
        except OperatorError as exc:
            logger.warning("show: the starting-soon slate cannot play: %s", exc)
            self._publish("starting_soon_failed", error=str(exc))
            return
        self.show.note_media(location, source_id)  # released once the show no longer shows it
        lead = self._lead()
        with self.show.guard():
            if self.show.overrides.holds_video:
                return
            at = self.program.horizon + lead
            self._before_soon = self.program.source_at(max(0, at - 1))
            self.program.take(source_id, at_frame=at)
        self._soon_on_air = True
        self.live.on_air(at)
        self._publish("starting_soon", source=source_id)

    def _end_starting_soon(self) -> None:
        """The countdown ended without the show: platforms off air, and the program back to
        what it showed before the slate (unless an override holds the video now)."""
        if not self._soon_on_air:
            return
        self._soon_on_air = False
        before, self._before_soon = self._before_soon, None
        self.live.off_air()
        with self.show.guard():
            if before is not None and not self.show.overrides.holds_video:
                self.program.take(before, at_frame=self.program.horizon + self._lead())
