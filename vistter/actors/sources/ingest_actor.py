"""Live ingest sources: one ingest ffmpeg, its frames in the source's slot, its health.

:class:`IngestSourceActor` keeps one ingest process running for a live source and says how
it is doing, as a :class:`~vistter.actors.sources.table.SourceState`:

* ``connecting``: the process was started and no frame came yet;
* ``online``: frames arrive;
* ``stalled``: no frame for ``stall_timeout`` seconds while the process lives (a stopped
  camera can leave ffmpeg alive with its sockets open: only a watchdog on frames arriving
  notices; it looks every ``WATCHDOG_TICK`` s, and exactly when the last frame turns half
  the stall timeout and the stall timeout old), unless the ingest is still being fed and the
  machine is just slow (:mod:`~vistter.actors.sources.stall`). Stalled for ``stall_restart_after``
  seconds, the process is killed by PID. A
  stalled source is ``online`` again only once frames have arrived at a live pace for
  ``resume_after`` seconds (:mod:`~vistter.actors.sources.pacing`): the burst of old frames
  an ffmpeg flushes when its own timeout fires is not life, and does not restart the kill
  timer;
* ``offline``: the process exited (with ANY code: an RTSP ingest whose camera died exits
  0), could not be started, or was killed; a reconnect follows after a backoff delay
  (0.5, 1, 2, 4, 8, 10, 10, ... s by default, from the start again once the source stayed
  online for ``reconnect.reset_after`` seconds). While a wait longer than
  ``PROBE_INTERVAL`` runs, a source with a server (an RTSP camera: :meth:`_server_probe`)
  probes it at once and then every ``PROBE_INTERVAL`` s; a server seen down that answers
  again ends the wait (:class:`~vistter.actors.sources.rtsp_probe.ServerComeback`). The first
  probe is at once because a server that returns within a second of the failed attempt
  would otherwise never be *seen* down, and the wait would run to its end.

These are states, not crashes: a camera down for six hours keeps its actor and its
supervisor's restart intensity intact. Only the unexpected crashes the actor: a bug in a
handler, or the frame reader thread dying with an exception (reported through
:meth:`~vistter.supervisors.actor.SupervisedActor.worker_died`).

Subclasses: :class:`~vistter.actors.sources.camera.CameraActor` and
:class:`~vistter.actors.sources.files.VideoFileSource`.
"""

from __future__ import annotations

import contextlib
import logging
import subprocess
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from vistter.actors.outputs.reachability import ProbeResult
from vistter.actors.sources.ingest import FrameReader, FrameStats, IngestCommand
from vistter.actors.sources.ingest_messages import (
    FramesFlowing,
    IngestEnded,
    ProbeAnswer,
    ProbeDue,
    ReconnectDue,
    WatchdogTick,
)
from vistter.actors.sources.liveness import IngestLiveness
from vistter.actors.sources.pacing import FramePacing
from vistter.actors.sources.payloads import IngestStatus, SourceEventFields
from vistter.actors.sources.rtsp_probe import RtspTarget, ServerComeback
from vistter.actors.sources.stall import StallJudge
from vistter.actors.sources.table import SourceState, SourceTable
from vistter.clock import Timer
from vistter.media.ffmpeg import FfmpegBinary
from vistter.media.frames import FrameFormat, FrameSlot
from vistter.media.stderr_tail import StderrTail
from vistter.supervisors.actor import SupervisedActor
from vistter.supervisors.backoff import Backoff
from vistter.supervisors.link import Link
from vistter.supervisors.processes import OwnedProcess
from vistter.telemetry.topics import SOURCE_TOPIC

logger = logging.getLogger(__name__)


DEFAULT_RECONNECT = Backoff(initial=0.5, factor=2.0, maximum=10.0, reset_after=10.0)
"""Reconnects after 0.5, 1, 2, 4, 8, then every 10 s; 10 s online starts again from 0.5 s."""
PROBE_INTERVAL = 1.0
"""Seconds between two probes of a source's server while its reconnect waits."""
INGEST_GRACE = 1.0
"""Seconds an ingest ffmpeg gets to exit (on its own, or after SIGTERM) before SIGKILL."""
WATCHDOG_TICK = 0.25
"""Seconds between two looks of the stall watchdog at most (half a shorter ``stall_timeout``;
see :meth:`~vistter.actors.sources.stall.StallJudge.next_look` for the looks in between)."""


_Ending = Literal["exited", "stop", "kill"]


@dataclass
class _IngestRun:
    generation: int
    process: OwnedProcess
    reader: FrameReader
    tail: StderrTail
    started_at: float
    liveness: IngestLiveness


class IngestSourceActor(SupervisedActor):
    """A source fed by an ingest ffmpeg, kept running with health states and backoff.

    Subclasses implement :meth:`_ingest_command` and may extend :meth:`_event_fields` and
    :meth:`setup`. Every handler runs in the actor's thread; the frame reader and stderr
    threads only post messages to it.
    """

    event_topic: ClassVar[str] = SOURCE_TOPIC

    def __init__(
        self,
        link: Link | None,
        *,
        source_id: str,
        label: str,
        fmt: FrameFormat,
        sources: SourceTable,
        ffmpeg: FfmpegBinary,
        reconnect: Backoff = DEFAULT_RECONNECT,
        stall_timeout: float = 0.5,
        stall_restart_after: float = 5.0,
        connect_timeout: float = 15.0,
        resume_after: float = 1.0,
    ) -> None:
        super().__init__(link)
        if stall_timeout <= 0 or stall_restart_after < 0 or connect_timeout <= 0 or (
            resume_after <= 0
        ):
            raise ValueError(
                "stall_timeout, connect_timeout and resume_after must be > 0 and "
                "stall_restart_after >= 0"
            )
        self.source_id = source_id
        self.label = label
        self._fmt = fmt
        self._sources = sources
        self._ffmpeg = ffmpeg
        self._reconnect = reconnect
        self._stall_timeout = float(stall_timeout)
        self._stall_restart_after = float(stall_restart_after)
        self._connect_timeout = float(connect_timeout)
        self._tick = min(WATCHDOG_TICK, self._stall_timeout / 2)
        self._judge = StallJudge(label, self._stall_timeout)
        self._clock = self.link.clock
        self._slot: FrameSlot | None = None
        self._pacing = FramePacing(fmt.fps, window=resume_after, max_gap=self._stall_timeout)
        self._stats = FrameStats(pacing=self._pacing)
        self._run: _IngestRun | None = None
        self._generation = 0
        self._starts = 0
        self._state = SourceState.OFFLINE
        self._detail = ""
        self._since = self._clock.monotonic()
        self._online_since: float | None = None
        self._attempt = 0
        self._reconnect_token = 0
        self._reconnect_at: float | None = None
        self._reconnect_timer: Timer | None = None
        self._probe_timer: Timer | None = None
        self._comeback: ServerComeback | None = None
        self._watchdog: Timer | None = None
        self._last_error = ""
        self._display_url = ""
        self._stopping = False

    # -- for subclasses ----------------------------------------------------------------

    def _ingest_command(self) -> IngestCommand:
        """The command line of the next ingest process. Runs in the actor's thread."""
        raise NotImplementedError

    def _event_fields(self) -> SourceEventFields:
        """Fields identifying this source in published events and in status."""
        return {"source_id": self.source_id, "name": self.label}

    def _server_probe(self) -> RtspTarget | None:
        """The server to probe while a reconnect waits (None: none). Actor thread."""
        return None

    # -- lifecycle -----------------------------------------------------------------------

    def setup(self) -> None:
        """Runs in the actor's thread: starts the first ingest and the stall watchdog.

        Raises only for bugs or a bad command; a source that cannot be reached is a state.
        """
        self._slot = self._sources.slot(self.source_id)
        target = self._server_probe()
        if target is not None:
            self._comeback = ServerComeback(target, on_error=self.worker_died,
                                            name=f"{self.source_id}-server")
        self._start_ingest()
        self._arm_watchdog()

    def teardown(self) -> None:
        """Runs in the actor's thread: stops the timers, ends the ingest by PID, waits for
        its threads, and marks the source offline."""
        self._stopping = True
        for timer in (self._watchdog, self._reconnect_timer, self._probe_timer):
            if timer is not None:
                timer.cancel()
        if self._comeback is not None:
            self._comeback.join(1.5)
        self._end_ingest("stop")
        self._set_state(SourceState.OFFLINE, f"{self.label} stopped")

    # -- ask-able ------------------------------------------------------------------------

    def status(self) -> IngestStatus:
        """What the source is doing, safe to show (no credentials). Actor thread."""
        now = self._clock.monotonic()
        run = self._run
        last_error = run.tail.last_line() if run is not None else ""
        return {
            **self._event_fields(),
            "state": self._state.value,
            "detail": self._detail,
            "since": self._since,
            "for_seconds": round(now - self._since, 3),
            "frames_received": self._stats.count,
            "fps": round(self._stats.fps(now), 2),
            "url": self._display_url,
            "pid": run.process.pid if run is not None and run.process.alive() else None,
            "restarts": max(0, self._starts - 1),
            "last_error": last_error or self._last_error,
            "reconnect_in": (
                None if self._reconnect_at is None else round(max(0.0, self._reconnect_at - now), 3)
            ),
            "late_not_stalled": self._judge.late_not_stalled,
            "late_reason": self._judge.last_reason,
        }

    # -- messages ------------------------------------------------------------------------

    def on_receive(self, message: Any) -> Any:
        """Actor thread. Stale messages (from an ingest already replaced) are ignored.

        Raises ``TypeError`` for an unknown message: the actor crashes and its supervisor
        restarts it (as it does when a frame reader died, see :meth:`worker_died`).
        """
        if isinstance(message, FramesFlowing):
            # From stalled, only the watchdog's pacing check brings the source back.
            if self._current(message.generation) and self._state in (
                SourceState.CONNECTING, SourceState.OFFLINE
            ):
                self._go_online()
        elif isinstance(message, WatchdogTick):
            self._on_watchdog()
        elif isinstance(message, IngestEnded):
            if self._current(message.generation):
                self._on_ingest_ended()
        elif isinstance(message, ReconnectDue):
            if message.token == self._reconnect_token and self._run is None:
                self._reconnect_at = None
                self._start_ingest()
        elif isinstance(message, ProbeDue):
            if message.token == self._reconnect_token and self._run is None:
                self._probe_server(message.token)
        elif isinstance(message, ProbeAnswer):
            if message.token == self._reconnect_token and self._run is None:
                self._on_probe_answer(message.result)
        else:
            raise TypeError(f"{type(self).__name__} got an unknown message {message!r}")
        return None

    # -- internals -----------------------------------------------------------------------

    def _current(self, generation: int) -> bool:
        return self._run is not None and self._run.generation == generation

    def _probe_server(self, token: int) -> None:
        """Probe the server now, and again in ``PROBE_INTERVAL`` s if the wait lasts."""
        assert self._comeback is not None
        self._comeback.probe(lambda result: self.post(ProbeAnswer(token, result)))
        at = self._reconnect_at
        if at is not None and at - self._clock.monotonic() > PROBE_INTERVAL:
            self._probe_timer = self.post_later(PROBE_INTERVAL, ProbeDue(token))

    def _on_probe_answer(self, result: ProbeResult) -> None:
        if self._comeback is None or not self._comeback.came_back(result):
            return
        if self._reconnect_timer is not None:
            self._reconnect_timer.cancel()
        self._reconnect_at = None
        logger.info("%s: its server answers again; reconnecting now", self.label)
        self._start_ingest()

    def _start_ingest(self) -> None:
        if self._stopping:
            return
        if self._comeback is not None:
            self._comeback.attempted()
        if self._probe_timer is not None:
            self._probe_timer.cancel()
            self._probe_timer = None
        assert self._slot is not None
        command = self._ingest_command()
        self._display_url = command.display_url
        self._generation += 1
        generation = self._generation
        try:
            process = self.processes.spawn(
                f"{self.source_id} ingest",
                command.argv,
                args_for_log=command.args_for_log,
                stdin=command.stdin,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                bufsize=0,
            )
        except OSError as exc:
            self._last_error = f"cannot start ffmpeg: {exc.strerror or exc}"
            self._fail(self._last_error)
            return
        self._starts += 1
        assert process.popen.stdout is not None and process.popen.stderr is not None
        thread_name = f"{self.source_id}-{process.pid}"
        tail = StderrTail(
            process.popen.stderr, 20, name=f"{thread_name}-stderr", redact=command.redactor()
        )
        reader = FrameReader(
            process.popen.stdout,
            self._fmt,
            self._slot,
            self._clock,
            self._stats,
            name=f"{thread_name}-reader",
            resume_gap=self._stall_timeout,
            on_flowing=lambda: self.post(FramesFlowing(generation)),
            on_end=lambda: self.post(IngestEnded(generation)),
            on_error=lambda exc: self.worker_died("frame reader", exc),
        )
        liveness = IngestLiveness(process.pid, process.popen.stdout.fileno())
        self._run = _IngestRun(generation, process, reader, tail, self._clock.monotonic(),
                               liveness)
        self._set_state(SourceState.CONNECTING, f"connecting to {command.display_url}")

    def _end_ingest(self, how: _Ending) -> tuple[int | None, str]:
        """End the current ingest; returns its exit code and last stderr line.

        ``exited``: it is exiting on its own; let it finish writing stderr before the pipes
        close. ``stop``: SIGTERM, then SIGKILL after the grace. ``kill``: a hung ingest
        (stalled, never connected) is killed outright; its output is raw frames on a pipe to
        us, there is nothing to flush, and a blocked ffmpeg can take seconds over SIGTERM.
        """
        run, self._run = self._run, None
        if run is None:
            return None, ""
        run.reader.stop()
        if how == "exited":
            with contextlib.suppress(subprocess.TimeoutExpired):
                run.process.popen.wait(timeout=INGEST_GRACE)
            run.tail.join(0.5)
        elif how == "kill":
            with contextlib.suppress(ProcessLookupError):
                run.process.popen.kill()
        code = self.processes.end(run.process, grace=INGEST_GRACE)
        run.tail.join(0.5)
        if not run.reader.join(2.0):
            logger.warning("%s: frame reader of pid %d did not end", self.label, run.process.pid)
        last = run.tail.last_line()
        if last:
            self._last_error = last
        return code, last

    def _on_ingest_ended(self) -> None:
        code, last = self._end_ingest("exited")
        detail = f"ingest exited with code {code}"
        self._fail(f"{detail}: {last}" if last else detail)

    def _fail(self, detail: str) -> None:
        """Go offline and schedule a reconnect after the next backoff delay."""
        now = self._clock.monotonic()
        online_for = None if self._online_since is None else now - self._online_since
        if online_for is not None and online_for >= self._reconnect.reset_after:
            self._attempt = 0
        self._online_since = None
        delay = self._reconnect.delay(self._attempt)
        self._attempt += 1
        if not self._stopping:
            # Armed before the state is published: whoever sees "offline" can count on it.
            self._reconnect_token += 1
            token = self._reconnect_token
            self._reconnect_at = now + delay
            self._reconnect_timer = self.post_later(delay, ReconnectDue(token))
            if self._comeback is not None and delay > PROBE_INTERVAL:
                self._probe_server(token)  # at once: see the module doc
        self._set_state(SourceState.OFFLINE, f"{detail}; reconnecting in {delay:g} s")

    def _go_online(self) -> None:
        if self._online_since is None:
            self._online_since = self._clock.monotonic()
        self._set_state(SourceState.ONLINE, "receiving frames")

    def _arm_watchdog(self) -> None:
        if not self._stopping:
            last = self._stats.last_arrival()
            age = None if last is None or self._state is not SourceState.ONLINE else (
                self._clock.monotonic() - last)
            self._watchdog = self.post_later(self._judge.next_look(age, self._tick),
                                             WatchdogTick())

    def _on_watchdog(self) -> None:
        try:
            self._check_progress()
        finally:
            self._arm_watchdog()

    def _check_progress(self) -> None:
        run = self._run
        if run is None:
            return
        now = self._clock.monotonic()
        last = self._stats.last_arrival()
        if self._state is SourceState.CONNECTING:
            if now - run.started_at >= self._connect_timeout:
                self._end_ingest("kill")
                self._fail(f"no frame within {self._connect_timeout:g} s of connecting")
            return
        age = now - (last if last is not None else run.started_at)
        if self._state is SourceState.ONLINE:
            verdict = self._judge.verdict(age, run.liveness)
            if verdict is not None:
                self._set_state(SourceState.STALLED, verdict)
        elif self._state is SourceState.STALLED and self._pacing.steady(now):
            self._go_online()
        elif self._state is SourceState.STALLED and now - self._since >= self._stall_restart_after:
            self._end_ingest("kill")
            stalled = now - self._since + self._stall_timeout  # old frames flushed are no life
            self._fail(f"stalled: no live frame for {stalled:.1f} s; ingest killed")

    def _set_state(self, state: SourceState, detail: str) -> None:
        if state is self._state and detail == self._detail:
            return
        previous = self._state
        self._state, self._detail = state, detail
        self._since = self._clock.monotonic()
        self._sources.set_health(self.source_id, state, detail)
        payload = {**self._event_fields(), "state": state.value, "detail": detail,
                   "retry_max_s": self._reconnect.maximum,  # for the alert's remediation
                   "stopping": self._stopping}  # stopped on purpose: not a fault
        self.link.events.publish(self.event_topic, payload)
        # A source down for hours retries every few seconds: log its first failures only.
        retrying = self._attempt > 3 and state in (SourceState.OFFLINE, SourceState.CONNECTING)
        if state is previous or retrying:
            level = logging.DEBUG
        elif state in (SourceState.OFFLINE, SourceState.STALLED):
            level = logging.WARNING
        else:
            level = logging.INFO
        logger.log(level, "%s is %s: %s", self.label, state, detail)
