"""The orchestrator: the show's state machine, driven by the operator (API) and the clock.

States (:class:`~vistter.show.show_state.ShowPhase`) and what each allows::

    idle ──load──▶ idle ──go_live──▶ starting ──▶ live ◀──resume── paused
      ▲  (preflight: idle → preflight → idle)        │  ──pause──▶   │
      │                                              │ jump / skip   │ jump / skip
    stopped ◀── stopping ◀──── stop_show ─────────────┴───────────────┘
      ▲                                              │ end of a timeline that does not loop
      └──────────────────── (completed) ─────────────┘
    error: going live failed; load, go_live and stop_show are allowed from there.

Anything else raises :class:`~vistter.show.errors.ShowStateError` naming what is allowed now.

- ``load`` stores the timeline in the shared ShowState and (re)starts one executor per track
  under ``tracks`` (they idle until the show goes live);
- ``go_live(at_frame)`` starts a segment: timeline frame 0 plays at program frame
  ``at_frame`` (default: ``switch_lead`` after the next frame); the executors arm ahead;
- ``pause`` holds the program as it is from the next frame: the source and overlays on air
  stay, armed future changes are withdrawn, the output keeps running; ``resume`` goes on
  from the same timeline frame ``switch_lead`` later; ``jump`` moves to a cue's start or a
  time of the current loop iteration (while paused it moves the held position only);
  ``skip`` jumps to the next video cue;
- ``stop_show`` withdraws what is armed and takes the overlays off; the program keeps its
  current source (the output never stops; the platform destinations go off air unless the
  appliance is always on air);
- ``start_live(countdown)`` goes live now or after a countdown that runs here (cancelled by
  ``cancel_live``); ``stop_live`` ends the show or cancels the countdown; ``checklist`` is the
  preflight in any state (see :class:`~vistter.show.going_live.GoLiveDesk`);
- ``put_next`` queues a library timeline to follow the running pass frame-exact, and
  ``cancel_next`` withdraws it (see :mod:`vistter.show.next_up`);
- the manual overrides are delegated to :class:`~vistter.show.overrides.OverrideDesk`.

Every change is published on ``event.show``; each run is recorded through the injected
:class:`~vistter.show.controls.ExecutionRecorder` (start; finish as completed, stopped or
error, with metrics); a failing recorder is logged and alerted, never fatal.

Public methods are called through the actor's proxy and run in the actor's thread; the
orchestrator's own checks run on a timer of the injected clock.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import Any

from vistter.actors.fanout.on_air import OnAir
from vistter.actors.program.changes import ClearOverlays, Take
from vistter.actors.sources.table import SLATE_SOURCE_ID
from vistter.clock import Timer
from vistter.errors import OperatorError
from vistter.models.timeline import TimelineDocument
from vistter.show.context import ShowContext
from vistter.show.controls import ExecutionRecorder
from vistter.show.errors import ShowError, ShowStateError
from vistter.show.going_live import GoLiveDesk, LiveStatus
from vistter.show.live_controls import CountdownDone, LiveControls
from vistter.show.next_up import NextControls
from vistter.show.override_controls import OverrideControls
from vistter.show.overrides import OverrideDesk
from vistter.show.payloads import PreflightPayload
from vistter.show.preflight import PreflightChecks, PreflightReport
from vistter.show.runs import RunLog
from vistter.show.status import show_status
from vistter.show.tracks import TracksRef, start_executors, stop_executors
from vistter.show.values import ShowPhase as P
from vistter.supervisors.actor import SupervisedActor
from vistter.supervisors.link import Link
from vistter.telemetry.topics import SHOW_TOPIC

__all__ = ["Orchestrator"]

logger = logging.getLogger(__name__)

_ALLOWED: dict[str, frozenset[P]] = {
    "load": frozenset({P.IDLE, P.STOPPED, P.ERROR}),
    "preflight": frozenset({P.IDLE, P.STOPPED, P.ERROR}),
    "go_live": frozenset({P.IDLE, P.STOPPED, P.ERROR}),
    "pause": frozenset({P.LIVE}),
    "resume": frozenset({P.PAUSED}),
    "jump": frozenset({P.LIVE, P.PAUSED}),
    "skip": frozenset({P.LIVE, P.PAUSED}),
    "stop_show": frozenset({P.LIVE, P.PAUSED, P.ERROR}),
}


@dataclass(frozen=True)
class _Check:
    pass


class Orchestrator(LiveControls, NextControls, OverrideControls, SupervisedActor):
    """The show's state machine (see the module doc)."""

    def __init__(
        self,
        link: Link,
        context: ShowContext,
        tracks: TracksRef,
        *,
        recorder: ExecutionRecorder | None = None,
        preflight: PreflightChecks | None = None,
        air: OnAir | None = None,
    ) -> None:
        super().__init__(link)
        self.live = GoLiveDesk(link.clock, air)
        self.context = context
        self.show = context.show
        self.program = context.program
        self._tracks = tracks
        self._runs = RunLog(context, recorder, link.events)
        self._preflight = preflight or PreflightChecks()
        self.overrides = OverrideDesk(context, cameras=self._preflight.cameras)
        self._timer: Timer | None = None
        self._iteration: int | None = None

    # -- lifecycle --------------------------------------------------------------------------

    def setup(self) -> None:
        """Actor thread. After a restart, pick up from the ShowState: settle a transition
        that was cut short and start the executors of the loaded timeline again. If they
        cannot start, this raises: the start fails and the show supervisor tries again."""
        phase = self.show.phase
        if phase is P.PREFLIGHT:
            self.show.set_phase(P.IDLE)
        elif phase is P.STARTING:
            self._fail("the orchestrator restarted while going live")
        elif phase is P.STOPPING:
            self._runs.finish("stopped", None)
            self.show.set_phase(P.STOPPED)
        if self.show.plan is not None:
            self._start_executors()
        self._schedule()

    def teardown(self) -> None:
        """Actor thread: stop the check timer (the executors belong to ``tracks``)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def on_receive(self, message: Any) -> Any:
        if isinstance(message, _Check):
            self._timer = None
            self._check()
            self._schedule()
            return None
        if isinstance(message, CountdownDone):
            self._countdown_done(message.token)
            return None
        return super().on_receive(message)

    # -- the timeline -----------------------------------------------------------------------

    def load(
        self, document: TimelineDocument, timeline_db_id: int | None = None,
        loop: bool | None = None,
    ) -> LiveStatus:
        """Make ``document`` the show (validated already: see ``load_timeline``).

        ``loop`` None: the timeline's own ``loop`` if it says so, else the settings' default.
        """
        self._require("load")
        self._no_countdown("load a timeline")
        timeline = document.timeline
        if loop is None:
            loop = timeline.loop if "loop" in timeline.model_fields_set else \
                self.context.settings.loop
        self._stop_executors()
        self._release_media()
        self.show.load(document, timeline_db_id, loop=loop)
        self.show.set_phase(P.IDLE)
        self._start_executors()
        fps = self.context.fmt.fps
        if timeline.fps != fps:
            logger.warning("timeline '%s' is written for %d fps; the program runs at %d fps: "
                           "cue times are converted at %d fps", timeline.id, timeline.fps,
                           fps, fps)
        self._publish("loaded")
        return self.status()

    def preflight(self) -> PreflightPayload:
        """Check cameras, assets and destinations for the loaded timeline."""
        self._require("preflight")
        before = self.show.phase
        self.show.set_phase(P.PREFLIGHT)
        try:
            report = self._run_preflight()
        finally:
            self.show.set_phase(before)
        self._publish("preflight", report=report.to_dict())
        return report.to_dict()

    def go_live(self, at_frame: int | None = None, force: bool = False) -> LiveStatus:
        """Start the loaded timeline: its frame 0 plays at program frame ``at_frame``.

        Refused when preflight finds a blocking problem, unless ``force``.
        """
        self._require("go_live")
        self._no_countdown("go live again")
        report = self._ready_to_go_live(force)
        self.show.set_phase(P.STARTING)
        try:
            self._start_executors()
        except OperatorError as exc:
            self._fail(f"the track executors did not start: {exc}")
            raise
        horizon = self.program.horizon
        start = at_frame if at_frame is not None else horizon + self._lead()
        begin = max(start, horizon)
        self.show.reset_counters()
        self.show.start_segment(begin, begin - start)
        self.show.live_since = begin
        self._iteration = None
        self._runs.start()
        self.show.set_phase(P.LIVE)
        self.live.on_air(begin)
        self._publish("live", at_frame=begin, warnings=len(report.warnings))
        return self.status()

    def pause(self) -> LiveStatus:
        """Hold the program as it is from the next frame; the output keeps running."""
        self._require("pause")
        with self.show.guard():
            at = self.program.horizon
            segment = self.show.segment
            assert segment is not None
            self.show.start_segment(at, segment.show_frame(at), paused=True)
            self.program.cancel_from(at)
            self.show.set_phase(P.PAUSED)
        self.show.count("pauses")
        self._publish("paused", at_frame=at)
        return self.status()

    def resume(self) -> LiveStatus:
        """Go on from the timeline frame the show was paused at."""
        self._require("resume")
        segment = self.show.segment
        assert segment is not None and segment.held_at is not None
        at = self.program.horizon + self._lead()
        with self.show.guard():
            self.show.start_segment(at, segment.held_at)
            self.show.set_phase(P.LIVE)
        self._publish("resumed", at_frame=at)
        return self.status()

    def jump(self, cue_id: str | None = None, seconds: float | None = None) -> LiveStatus:
        """Move to the start of cue ``cue_id``, or to ``seconds`` into the timeline, in the
        current loop iteration."""
        self._require("jump")
        plan = self.show.plan
        assert plan is not None
        if (cue_id is None) == (seconds is None):
            raise ShowError("a jump needs either a cue id or a time.",
                            hint="Give cue_id (e.g. cue_v2) or seconds (e.g. 65), not both.")
        if cue_id is not None:
            span = plan.find(cue_id) if isinstance(cue_id, str) else None
            if span is None:
                raise ShowError(f"there is no cue '{cue_id}' in the loaded timeline.",
                                hint="Use a cue id from the timeline.")
            target = span.start
        else:
            if isinstance(seconds, bool) or not isinstance(seconds, int | float):
                raise ShowError(f"{seconds!r:.40} is not a time in seconds.",
                                hint="Give seconds as a number, e.g. 65 or 12.5.")
            if not 0 <= seconds <= plan.timeline.duration:  # NaN, inf, 10**400: before any math
                raise ShowError(
                    f"{seconds!r:.40} s is outside the timeline (0 to "
                    f"{plan.timeline.duration:g} s).",
                    hint="Jump to a time within the timeline's duration.",
                )
            target = plan.frames(seconds)
            if not 0 <= target < plan.length:
                raise ShowError(
                    f"{seconds:g} s is outside the timeline (0 to {plan.timeline.duration:g} s).",
                    hint="Jump to a time within the timeline's duration.",
                )
        return self._jump_to(target, event="jump", cue=cue_id)

    def skip(self) -> LiveStatus:
        """Jump to the start of the next video cue (the operator's "next")."""
        self._require("skip")
        plan, position = self.show.plan, self.show.position()
        assert plan is not None and position is not None
        span = plan.next_video(position.show_frame)
        if span is None:
            raise ShowError("there is no next video cue.",
                            hint="The timeline does not loop and this is its last cue.")
        iteration = position.iteration
        if span.start <= position.frame:
            iteration += 1  # wrapped round to the next loop iteration
        return self._jump_to(iteration * plan.length + span.start, event="skip", cue=span.cue_id,
                             absolute=True)

    def stop_show(self) -> LiveStatus:
        """End the run: armed changes withdrawn, overlays off, the source on air stays.

        (Named ``stop_show`` because ``stop`` is Pykka's own: it stops the actor.)"""
        if self.show.phase in (P.IDLE, P.STOPPED) and self.live.off_air():
            self._publish("off_air")  # between shows: the operator ends the platform stream
            return self.status()
        self._require("stop_show")
        self.show.set_phase(P.STOPPING)
        with self.show.guard():
            self.show.end_segment()
            self.program.cancel_from(None)
            self.program.apply(ClearOverlays())
        self._release_media()
        self._withdraw_next()
        self._runs.finish("stopped", None)
        self.show.set_phase(P.STOPPED)
        self.live.off_air()
        self._publish("stopped")
        return self.status()

    # -- status -----------------------------------------------------------------------------

    def status(self) -> LiveStatus:
        """The show as the API and telemetry show it, with the countdown and the on-air
        switch."""
        return self.live.status(show_status(self.context), self.next_status())

    # -- internals --------------------------------------------------------------------------

    def _require(self, operation: str) -> None:
        phase = self.show.phase
        if phase in _ALLOWED[operation]:
            return
        allowed = [op for op, phases in _ALLOWED.items() if phase in phases]
        raise ShowStateError(
            f"cannot {operation.replace('_', ' ')}: the show is {phase.value}.",
            hint=f"Allowed now: {', '.join(allowed) or 'overrides only'}.",
        )

    def _lead(self) -> int:
        return self.context.frames(self.context.settings.switch_lead)

    def _jump_to(self, target: int, *, event: str, cue: str | None,
                 absolute: bool = False) -> LiveStatus:
        plan, position = self.show.plan, self.show.position()
        assert plan is not None and position is not None
        show_frame = target if absolute else position.iteration * plan.length + target
        with self.show.guard():
            segment = self.show.segment
            assert segment is not None
            if segment.paused:
                self.show.start_segment(self.program.horizon, show_frame, paused=True)
                at = self.program.horizon
            else:
                at = self.program.horizon + self._lead()
                self.show.start_segment(at, show_frame)
                self.program.cancel_from(at)
        self.show.count("jumps")
        self._publish(event, at_frame=at, cue=cue, show_frame=show_frame)
        return self.status()

    def _run_preflight(self, *, probe: bool = True) -> PreflightReport:
        return self._preflight.run(self.show.plan, probe=probe)

    def _start_executors(self) -> None:
        plan = self.show.plan
        if plan is not None:
            start_executors(self._tracks.handle(), self.context, plan)

    def _stop_executors(self) -> None:
        with contextlib.suppress(OperatorError):
            stop_executors(self._tracks.handle())

    def _release_media(self) -> None:
        sources = self.context.sources
        on_air = self.program.source_at(max(0, self.program.horizon - 1))
        for location, source_id in self.show.media().items():
            if source_id == on_air:
                continue
            self.show.note_media(location, None)
            if sources is not None:
                try:
                    sources.release_media(source_id)
                except OperatorError as exc:
                    logger.warning("releasing %s: %s", source_id, exc)

    def _check(self) -> None:
        """Timer (actor thread): a show that does not loop completes; loops are announced."""
        if self.show.phase is not P.LIVE:
            return
        self._check_next()
        position = self.show.position()
        if position is None:
            return
        if position.ended:
            self.show.end_segment()
            self._runs.finish("completed", None)
            self.show.set_phase(P.STOPPED)  # platforms stay on air until the operator's Stop
            if not self.show.overrides.holds_video:  # between shows, viewers see the slate
                self.program.apply(Take(SLATE_SOURCE_ID, tag="show:ended"))
            self._publish("completed")
            return
        if self._iteration is not None and position.iteration > self._iteration:
            self._publish("loop", iteration=position.iteration)
        self._iteration = position.iteration

    def _schedule(self) -> None:
        self._timer = self.post_later(self.context.settings.status_interval, _Check())

    def _fail(self, error: str) -> None:
        logger.error("show: %s", error)
        self.show.last_error = error
        self._withdraw_next()
        self.show.end_segment()
        self._runs.finish("error", error)
        self.show.set_phase(P.ERROR)  # platforms stay on air until the operator's Stop
        self._publish("error", error=error)

    def _publish(self, event: str, **extra: Any) -> None:
        plan = self.show.plan
        position = self.show.position()
        self.link.events.publish(SHOW_TOPIC, {
            "event": event,
            "state": self.show.phase.value,
            "timeline": None if plan is None else plan.timeline.id,
            "position": None if position is None else position.to_dict(),
            "overrides": self.show.overrides.to_dict(),
            **extra,
        })
