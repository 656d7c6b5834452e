"""The common part of the track executors: arming rounds on a timer and on show changes.

A track executor is an actor that works *ahead* of the program. Every ``tick`` seconds of the
injected clock, and at once whenever the show state changes (go-live, pause, resume, jump,
override, live text, a render asking for frames), it runs one *arming round* in its actor
thread: it places the cues of its track that start within the lookahead window on the
program (program frame = segment anchor + show frame) and arms them on the
``ProgramState`` through :meth:`~vistter.show.show_state.ShowState.arm` as typed armed changes
(:mod:`vistter.actors.program.changes`: ``Take``, ``OverlayOn``, ``OverlayOff``) stamped with
their exact frame, so a cue lands on that frame however late this thread wakes. It then marks the
track as armed through the end of the window (the offline render's barrier).

Every round re-derives what to do from the shared :class:`~vistter.show.show_state.ShowState`
and ``ProgramState`` alone: the cue on air at the first frame the round can still change (the
*entry* cue; armed there, mid-cue, if it is not armed in this generation) and the cues starting
in the window. So a restarted executor neither misses a cue nor arms one twice.

Background threads (a PTZ worker, data pollers) report an unexpected error through
``worker_died`` (see :class:`~vistter.supervisors.actor.SupervisedActor`): the executor
crashes and its supervisor restarts it.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vistter.clock import Timer
from vistter.show.context import ShowContext
from vistter.show.payloads import TrackSync
from vistter.show.plan import ShowPlan
from vistter.show.show_state import Segment
from vistter.supervisors.actor import SupervisedActor
from vistter.supervisors.link import Link
from vistter.telemetry.topics import ALERT_TOPIC, SHOW_TOPIC

__all__ = ["TrackExecutor", "Window", "Worker"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Tick:
    pass


@dataclass(frozen=True)
class _Wake:
    reason: str


@dataclass(frozen=True, slots=True)
class Window:
    """One arming round: program frames ``[lo, hi)`` of ``segment``; ``now`` is the frame
    due now (or the first one not planned yet, when the program runs ahead of the clock)."""

    plan: ShowPlan
    segment: Segment
    now: int
    lo: int
    hi: int


class Worker:
    """A daemon thread running jobs one after the other (slow side effects: PTZ moves).

    ``on_crash`` is called (in the worker thread) when a job raises; the worker then ends.
    """

    def __init__(self, name: str, on_crash: Callable[[BaseException], None]) -> None:
        self._jobs: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._on_crash = on_crash
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, job: Callable[[], None]) -> None:
        self._jobs.put(job)

    def stop(self, timeout: float) -> bool:
        """Ask the thread to end after the job in hand; True when it ended in ``timeout``."""
        self._jobs.put(None)
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            try:
                job()
            except BaseException as exc:
                logger.exception("%s: job failed", self._thread.name)
                self._on_crash(exc)
                return


class TrackExecutor(SupervisedActor):
    """Base of the video and overlay track executors (actor thread unless said otherwise)."""

    is_video = False

    def __init__(self, link: Link, context: ShowContext, track_id: str) -> None:
        super().__init__(link)
        self.context = context
        self.show = context.show
        self.program = context.program
        self.track_id = track_id
        self._timer: Timer | None = None
        self._remove_listener: Callable[[], None] | None = None
        self._stopping = threading.Event()
        self.rounds = 0

    # -- lifecycle --------------------------------------------------------------------------

    def setup(self) -> None:
        """Listen to the show state and start the arming timer; the first round runs as the
        first message. Actor thread; if it raises (a background thread cannot start), the
        executor fails to start and its supervisor retries."""
        self._remove_listener = self.show.add_listener(self._on_change)
        self.start_threads()
        self._schedule()
        self.actor_ref.tell(_Wake("start"))

    def teardown(self) -> None:
        """Stop the timer, the listener and the background threads. Actor thread; an error
        here is logged by the base class and the actor ends all the same."""
        self._stopping.set()
        if self._timer is not None:
            self._timer.cancel()
        if self._remove_listener is not None:
            self._remove_listener()
        self.stop_threads()

    def start_threads(self) -> None:
        """Hook: start background threads (actor thread, from ``setup``)."""

    def stop_threads(self) -> None:
        """Hook: stop background threads (actor thread, from ``teardown``)."""

    # -- messages ---------------------------------------------------------------------------

    def on_receive(self, message: Any) -> Any:
        """Actor thread. (A dead background thread crashes the actor through
        ``worker_died``.)"""
        if isinstance(message, _Tick):
            self._timer = None
            self.run_round()
            self._schedule()
        elif isinstance(message, _Wake):
            self.on_wake(message.reason)
            self.run_round()
        else:
            return self.on_message(message)
        return None

    def on_wake(self, reason: str) -> None:
        """Hook: the show state changed (``reason``), a round follows. Actor thread."""

    def on_message(self, message: Any) -> Any:
        """Hook for subclass messages (actor thread)."""
        logger.warning("%s: unexpected message %r", self.link.path, message)
        return None

    def sync(self) -> TrackSync:
        """Answered after every message posted before it (tests and status). Actor thread."""
        return TrackSync(track=self.track_id, rounds=self.rounds)

    def _on_change(self, reason: str) -> None:
        """Show state listener: runs in the changing thread; only posts."""
        if reason != "phase":
            self.post(_Wake(reason))

    def _schedule(self) -> None:
        if self._stopping.is_set():
            return
        self._timer = self.post_later(self.context.settings.tick, _Tick())

    # -- arming rounds ----------------------------------------------------------------------

    def run_round(self) -> None:
        """One arming round (see the module doc). Actor thread."""
        self.rounds += 1
        plan = self.show.plan
        segment = self.show.segment
        if plan is None or segment is None or segment.paused:
            return
        if self.track_id not in plan.track_ids:
            return  # a timeline without this track: the orchestrator will replace us
        horizon = self.program.horizon
        now = max(self.program.epoch.index_at(self.link.clock.monotonic()), horizon)
        lo = max(segment.start, horizon)
        hi = max(now + self.lookahead_frames(plan), self.show.wanted_frame() + 1, lo + 1)
        window = Window(plan, segment, now, lo, hi)
        if self.arm_window(window):
            self.show.mark_armed_through(self.track_id, segment.generation, hi - 1)

    def lookahead_frames(self, plan: ShowPlan) -> int:
        """How far ahead of ``now`` a round arms."""
        return self.context.frames(self.context.settings.lookahead)

    def arm_window(self, window: Window) -> bool:
        """Arm the track's cues for ``window``; False when the segment changed meanwhile
        (the round is incomplete: a new one follows at once)."""
        raise NotImplementedError

    def publish(self, event: str, **payload: Any) -> None:
        self.link.events.publish(SHOW_TOPIC, {"event": event, "track": self.track_id, **payload})

    def alert(self, kind: str, message: str, hint: str = "", **extra: Any) -> None:
        logger.warning("%s: %s", self.link.path, message)
        self.link.events.publish(ALERT_TOPIC, {
            "severity": "warning", "kind": kind, "source": f"track:{self.track_id}",
            "message": message, "hint": hint, "subject": str(extra.get("cue", "")),
            "one_shot": True, **extra,
        })
