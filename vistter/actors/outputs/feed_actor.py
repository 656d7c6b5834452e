"""The state machine shared by destinations and recorders: keep one ffmpeg fed, retry it.

A :class:`FeedActor` owns at most one :class:`~vistter.actors.outputs.chunk_feed.ChunkFeed` at a
time. It judges the output by what ffmpeg reports it has written (bytes, or media time when
the muxer does not count bytes), retries on the :class:`~vistter.actors.outputs.retry.RetrySchedule`
when the output stops, and publishes every state change. Failures of the world are states;
only unexpected errors (a dead feed thread, a bug) crash the actor.

States (:class:`FeedState`): ``connecting`` (started, nothing written yet), ``live`` (the
output moves), ``retrying`` (retry ``attempt`` due in ``next_retry_in`` s), ``failed``
(every scheduled retry failed, an ``alert`` said so, a slow retry continues), ``rejected``
(the server refused the stream key or the application, see :meth:`FeedActor._fail`: retried
only every ``rejected_delay`` s), ``standby`` (a platform output while the show is off
air: no ffmpeg, nothing published), ``stopped``.

An output given an :class:`~vistter.actors.fanout.on_air.OnAir` switch (its kind is
``on_air_only`` in the registry) starts its ffmpeg when the switch goes on air and ends it
cleanly when it goes off air: ffmpeg's stdin is closed, so it finishes its output (for RTMP,
the server sees an unpublish, not a reset) before it is ended by PID.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from vistter.actors.fanout.on_air import OnAir
from vistter.actors.outputs.chunk_feed import ChunkFeed, ChunkSource
from vistter.actors.outputs.payloads import OutputStatus, OutputStatusExtra
from vistter.actors.outputs.retry import RetrySchedule, RetryTracker
from vistter.clock import Timer
from vistter.errors import OperatorError
from vistter.supervisors.actor import SupervisedActor
from vistter.supervisors.link import Link
from vistter.supervisors.worker import WorkerDeathCallback
from vistter.telemetry.topics import ALERT_TOPIC, DESTINATION_TOPIC

__all__ = ["ALERT_TOPIC", "FeedActor", "FeedState", "FeedUnavailableError"]

logger = logging.getLogger(__name__)



class FeedState(enum.StrEnum):
    CONNECTING = "connecting"
    LIVE = "live"
    RETRYING = "retrying"
    FAILED = "failed"
    REJECTED = "rejected"
    STANDBY = "standby"
    STOPPED = "stopped"


OFF_AIR_DRAIN = 5.0
"""Seconds an output's ffmpeg gets to finish its stream after its input ends (off air)."""
CONNECTING_TICK = 0.25
"""Seconds between judgements while connecting: the first accepted bytes make it ``live``
within this (the output's ``tick_interval`` applies once it is live)."""


class FeedUnavailableError(OperatorError):
    """The output cannot be started now (missing folder, full disk...); retried later."""


@dataclass(frozen=True)
class _Tick:
    session: int


@dataclass(frozen=True)
class _FeedExited:
    session: int
    code: int | None


@dataclass(frozen=True)
class _RetryDue:
    wait: int


@dataclass(frozen=True)
class _AirChanged:
    on_air: bool


class FeedActor(SupervisedActor):
    """Base of :class:`~vistter.actors.outputs.destination.DestinationActor` and
    :class:`~vistter.actors.outputs.recorder.RecorderActor`.

    Subclasses implement :meth:`_new_feed` and may override :meth:`_prepare`,
    :meth:`_status_extra`, :meth:`_on_wait_started`, :meth:`_on_other` and :meth:`_redact`.
    All of them run in the actor's thread. A :class:`FeedUnavailableError` from
    :meth:`_prepare` is an expected failure (the output goes ``retrying``); any other
    exception from a hook is a bug and crashes the actor (its supervisor restarts it).
    """

    kind: ClassVar[str] = "output"
    event_topic: ClassVar[str] = DESTINATION_TOPIC
    program: ClassVar[str] = "ffmpeg"
    """What the output's process is called in ``last_error`` ("ffmpeg exited (code 1): ...")."""

    def __init__(
        self,
        link: Link,
        *,
        output_id: str,
        source: ChunkSource,
        schedule: RetrySchedule | None,
        stall_timeout: float,
        connect_timeout: float,
        tick_interval: float,
        air: OnAir | None = None,
    ) -> None:
        super().__init__(link)
        self.air = air
        self._unsubscribe_air: Callable[[], None] | None = None
        self.output_id = output_id
        self.source = source
        self.schedule = schedule or RetrySchedule()
        self.stall_timeout = stall_timeout
        self.connect_timeout = connect_timeout
        self.tick_interval = tick_interval
        self._tracker = RetryTracker(self.schedule)
        self._state = FeedState.CONNECTING
        self._since = 0.0
        self._feed: ChunkFeed | None = None
        self._session = 0
        self._wait = 0
        self._tick_timer: Timer | None = None
        self._retry_timer: Timer | None = None
        self._next_retry_at: float | None = None
        self._last_error = ""
        self._output_done = 0
        self._input_done = 0
        self._samples: list[tuple[float, int]] = []
        self._published: tuple[FeedState, int] | None = None

    # -- hooks -------------------------------------------------------------------------

    def _new_feed(
        self, on_exit: Callable[[int | None], None], on_error: WorkerDeathCallback
    ) -> ChunkFeed:
        """A new (not started) feed; ``on_exit``/``on_error`` go to the ChunkFeed as is."""
        raise NotImplementedError

    def _prepare(self) -> None:
        """Check the output can be started; raise :class:`FeedUnavailableError` if not."""

    def _status_extra(self) -> OutputStatusExtra:
        return {}

    def _on_wait_started(self) -> None:
        """A retry wait began (``self._wait`` is its token)."""

    def _on_other(self, message: Any) -> None:
        """A message the base does not know."""

    def _on_exit(self, code: int | None, detail: str) -> None:
        """The output's process exited by itself with ``code``; ``detail``: its last line."""
        self._fail(f"{self.program} exited (code {code}): {detail}")

    def _on_idle(self) -> None:
        """The output just went ``standby`` or waiting (``retrying``, ``failed``,
        ``rejected``): nothing runs, a start is to come (a publisher may start its spare
        process now)."""

    def _redact(self, text: str) -> str:
        return text

    # -- lifecycle ---------------------------------------------------------------------

    def setup(self) -> None:
        """Actor thread: start the first ffmpeg (an on-air-only output off air waits in
        ``standby``). A start that fails is retried, not raised."""
        self._since = self.link.clock.monotonic()
        if self.air is not None:
            self._unsubscribe_air = self.air.subscribe(
                lambda on_air: self.post(_AirChanged(on_air))
            )
            if not self.air.on_air:
                self._set_state(FeedState.STANDBY)
                return
        self._start_feed()

    def teardown(self) -> None:
        """Actor thread: cancel timers, end ffmpeg by PID and report ``stopped``."""
        if self._unsubscribe_air is not None:
            self._unsubscribe_air()
        self._cancel_timers()
        self._end_feed()
        self._set_state(FeedState.STOPPED)

    # -- public API (actor thread) -----------------------------------------------------

    def status(self) -> OutputStatus:
        """The output as the API and telemetry show it (no secrets)."""
        now = self.link.clock.monotonic()
        progress = self._feed.progress() if self._feed is not None else None
        retry_in = None if self._next_retry_at is None else max(0.0, self._next_retry_at - now)
        return {
            "id": self.output_id,
            "kind": self.kind,
            "state": self._state.value,
            "since": round(now - self._since, 3),
            "attempt": self._tracker.attempt,
            "max_attempts": self.schedule.max_attempts,
            "next_retry_in": retry_in,
            "bytes_sent": self._output_done + self._session_output(),
            "input_bytes": self._input_done + (progress.input_bytes if progress else 0),
            "bitrate_kbps": self._bitrate_kbps(),
            "last_error": self._last_error,
            "pid": self._feed.pid if self._feed is not None else None,
            "on_air_only": self.air is not None,
            **self._status_extra(),
        }

    def retry_now(self) -> None:
        """Retry at once if the output is waiting (an operator's "reconnect")."""
        if self.waiting:
            self._start_feed()

    # -- messages (actor thread) -------------------------------------------------------

    def on_receive(self, message: Any) -> Any:
        """Actor thread. Messages of an older session or wait are stale and ignored.

        A dead feed thread crashes the actor through ``worker_died`` (see the actor base) and
        its supervisor restarts it.
        """
        if isinstance(message, _Tick):
            if message.session == self._session:
                self._on_tick()
        elif isinstance(message, _FeedExited):
            if message.session == self._session and self._feed is not None:
                self._on_exit(message.code, self._feed.last_error() or "no message")
        elif isinstance(message, _RetryDue):
            if message.wait == self._wait:
                self._start_feed()
        elif isinstance(message, _AirChanged):
            self._on_air_changed(message.on_air)
        else:
            self._on_other(message)
        return None

    # -- the state machine -------------------------------------------------------------

    def _on_air_changed(self, on_air: bool) -> None:
        """On air: start publishing now; off air: finish the stream cleanly, then standby."""
        if on_air and self._state is FeedState.STANDBY:
            logger.info("%s %s: on air; publishing", self.kind, self.output_id)
            self._start_feed()
        elif not on_air and self._state is not FeedState.STANDBY:
            logger.info("%s %s: off air; ending the stream", self.kind, self.output_id)
            self._cancel_timers()
            self._wait += 1  # a retry or probe of the last wait is stale now
            self._next_retry_at = None
            self._session += 1  # the ending feed's exit is not a failure
            self._end_feed(grace=OFF_AIR_DRAIN, drain=True)
            self._tracker = RetryTracker(self.schedule)  # the next show starts afresh
            self._set_state(FeedState.STANDBY)

    def _start_feed(self) -> None:
        if self.air is not None and not self.air.on_air:
            self._set_state(FeedState.STANDBY)
            return
        self._cancel_timers()
        self._wait += 1  # every timer and probe of the previous wait is now stale
        self._next_retry_at = None
        self._session += 1
        session = self._session
        self._samples.clear()
        self._set_state(FeedState.CONNECTING)
        try:
            self._prepare()
        except FeedUnavailableError as exc:
            self._fail(str(exc))
            return
        self.source.resync()
        feed = self._new_feed(
            lambda code: self.post(_FeedExited(session, code)), self.worker_died
        )
        try:
            feed.start()
        except OSError as exc:
            self._fail(f"cannot start ffmpeg: {exc.strerror or exc}")
            return
        self._feed = feed
        self._schedule_tick()

    def _on_tick(self) -> None:
        feed = self._feed
        if feed is None:
            return
        now = self.link.clock.monotonic()
        progress = feed.progress()
        self._samples.append((now, progress.output_bytes or 0))
        while len(self._samples) > 2 and now - self._samples[0][0] > 5.0:
            self._samples.pop(0)
        live = self._state is FeedState.LIVE
        moved = progress.last_output_at > progress.started_at or bool(progress.output_bytes)
        if not live and moved:
            self._go_live(now)
        elif live and self._tracker.check_stable(now):
            self._publish_event(force=True)
        limit = self.stall_timeout if live else self.connect_timeout
        quiet = now - progress.last_output_at
        if quiet > limit and progress.input_waiting(now, limit):
            what = "took no bytes" if live else "did not start"
            self._fail(f"the output {what} for {quiet:.0f} s while the program was flowing")
            return
        self._schedule_tick()

    def _go_live(self, now: float) -> None:
        was_failed = self._tracker.failed
        self._tracker.live(now)
        self._set_state(FeedState.LIVE)
        if was_failed:
            self._alert("info", f"{self.kind.capitalize()} {self.output_id} is live again.", "",
                        kind="destination_failed", cleared=True)

    def _fail(self, reason: str, *, rejected: bool = False) -> None:
        """The attempt failed: wait for the next one. ``rejected``: the server refused the
        stream key (or the application), which retrying soon will not change: the wait is at
        least the schedule's ``rejected_delay`` and the state ``rejected`` (its owner
        alerts), whatever the count of attempts."""
        self._end_feed(grace=1.0)  # a failed ffmpeg owes us no clean ending
        now = self.link.clock.monotonic()
        decision = self._tracker.failure(now)
        delay = max(decision.delay, self.schedule.rejected_delay) if rejected else decision.delay
        self._last_error = self._redact(reason)
        logger.warning(
            "%s %s: %s; retry %d in %g s",
            self.kind, self.output_id, self._last_error, decision.attempt, delay,
        )  # fmt: skip
        self._wait += 1
        self._next_retry_at = now + delay
        self._retry_timer = self.post_later(delay, _RetryDue(self._wait))
        state = FeedState.FAILED if decision.failed else FeedState.RETRYING
        self._set_state(FeedState.REJECTED if rejected else state)
        if decision.newly_failed and not rejected:
            self._alert(
                "error",
                f"{self.kind.capitalize()} {self.output_id} failed after "
                f"{self.schedule.max_attempts} attempts: {self._last_error}; still retrying "
                f"every {self.schedule.slow_interval:g} s",
                self._failed_hint(), kind="destination_failed",
            )
        self._on_wait_started()

    def _failed_hint(self) -> str:
        return "Fix the cause named in the message; the output restarts by itself."

    def _end_feed(self, grace: float = 3.0, *, drain: bool = False) -> None:
        if self._feed is not None:
            self._feed.stop(grace, drain=drain)
            self._output_done += self._session_output()
            self._input_done += self._feed.progress().input_bytes
            self._feed = None
        self._samples.clear()

    # -- helpers -----------------------------------------------------------------------

    @property
    def waiting(self) -> bool:
        return self._state in (FeedState.RETRYING, FeedState.FAILED, FeedState.REJECTED)

    def _session_output(self) -> int:
        if self._feed is None:
            return 0
        return self._feed.progress().output_bytes or 0

    def _bitrate_kbps(self) -> float:
        if len(self._samples) < 2:
            return 0.0
        (t0, b0), (t1, b1) = self._samples[0], self._samples[-1]
        return round((b1 - b0) * 8 / 1000 / (t1 - t0), 1) if t1 > t0 else 0.0

    def _set_state(self, state: FeedState) -> None:
        if state is not self._state:
            self._state = state
            self._since = self.link.clock.monotonic()
            if state is FeedState.STANDBY or self.waiting:
                self._on_idle()
        self._publish_event()

    def _publish_event(self, *, force: bool = False) -> None:
        key = (self._state, self._tracker.attempt)
        if key != self._published or force:
            self._published = key
            self.link.events.publish(self.event_topic, dict(self.status()))

    def _alert(
        self, severity: str, message: str, hint: str, *, kind: str = "output", **extra: Any
    ) -> None:
        """Report on ``alert``; ``kind`` names the condition (one alert per source and kind,
        see :mod:`vistter.alerts`), ``extra`` adds fields such as ``cleared``."""
        message = self._redact(message)
        logger.log(logging.ERROR if severity == "error" else logging.WARNING, "%s", message)
        self.link.events.publish(ALERT_TOPIC, {
            "severity": severity, "source": f"{self.kind}:{self.output_id}",
            "message": message, "hint": hint, "kind": kind, **extra,
        })  # fmt: skip

    def _schedule_tick(self) -> None:
        live = self._state is FeedState.LIVE
        interval = self.tick_interval if live else min(self.tick_interval, CONNECTING_TICK)
        self._tick_timer = self.post_later(interval, _Tick(self._session))

    def _cancel_timers(self) -> None:
        for timer in (self._tick_timer, self._retry_timer):
            if timer is not None:
                timer.cancel()
        self._tick_timer = self._retry_timer = None

