"""The base of network destinations: one ``ffmpeg -c copy`` publisher, judged by bytes
accepted, that probes its server while it waits to retry.

A publisher is judged by bytes the server actually **accepts** (ffmpeg's ``total_size``
growing), never by "the process runs": a black-holed server keeps a publisher looking busy
for seconds while buffers fill, so a live publisher whose output stops growing for
``stall_timeout`` seconds while the program is flowing is killed and retried (see
:class:`~vistter.actors.outputs.feed_actor.FeedActor`, which also owns states, retries and
``event.destination``). On top of that, while it waits to retry, the actor probes the server
every ``probe_interval`` seconds with its kind's probe (the RTMP handshake, the SRT
handshake) and retries at once when a server that did not answer answers again, so it is back
within seconds of the network coming back instead of waiting out a 60 s delay.

A server that takes the connection and then refuses the stream key (or the application) is
not a network fault: the publisher exits with one of its kind's ``refusal_exits``, and the
destination goes ``rejected``: one ``destination_rejected`` alert that names what to check,
no probing (the server answers; the key is the problem), the next try only after the
schedule's ``rejected_delay`` (the backoff's maximum), shown in ``next_retry_in``. The
alert clears when the destination is live again or stops.

While it waits (``standby`` before GO LIVE, ``retrying``, ``failed``), a destination whose
publisher's argv holds no secret (RTMP(S)) keeps one spare publisher started and waiting on its
stdin, so GO LIVE or a retry does not wait for Python and ``import av`` (see
:meth:`PublisherActor._on_idle`).

Secrets: an RTMP(S) stream key reaches its publisher on stdin only
(:mod:`~vistter.actors.outputs.flv_publisher`); an SRT passphrase is still in its ffmpeg's
argv (see :mod:`vistter.media.secrets`). Logs, status, events, alerts and errors see the
redacted URL and every secret is masked in what the process says on stderr.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, TypedDict

from vistter.actors.fanout.on_air import OnAir
from vistter.actors.outputs.chunk_feed import ChunkFeed, ChunkSource, spawn_feed_process
from vistter.actors.outputs.command import copy_argv, copy_for_log
from vistter.actors.outputs.feed_actor import FeedActor, FeedState
from vistter.actors.outputs.payloads import OutputStatusExtra
from vistter.actors.outputs.reachability import ProbeResult, ProbeTarget, ReachabilityProbe
from vistter.actors.outputs.retry import RetrySchedule
from vistter.clock import Timer
from vistter.media.ffmpeg import FfmpegBinary
from vistter.models.redact import MASK
from vistter.supervisors.link import Link
from vistter.supervisors.processes import OwnedProcess
from vistter.supervisors.secret_input import SecretInput
from vistter.supervisors.worker import WorkerDeathCallback
from vistter.telemetry.topics import ALERT_TOPIC, DESTINATION_TOPIC

__all__ = ["FeedCommand", "PublishOptions", "PublishedModel", "PublisherActor", "masked"]

logger = logging.getLogger(__name__)


class PublishOptions(TypedDict, total=False):
    """How a publisher is judged and retried: ``schedule`` (default: the spec's), and
    ``stall_timeout`` (seconds without accepted bytes, while the program is flowing, before
    a live publisher is killed), ``connect_timeout`` (the same before the first byte),
    ``tick_interval`` (seconds between judgements) and ``air`` (the on-air switch it
    follows: None, publish always)."""

    schedule: RetrySchedule | None
    air: OnAir | None
    stall_timeout: float
    connect_timeout: float
    tick_interval: float


class PublishedModel(Protocol):
    """What a network destination's model gives the publisher."""

    @property
    def id(self) -> str: ...

    @property
    def platform(self) -> str: ...

    @property
    def display_url(self) -> str: ...


@dataclass(frozen=True)
class FeedCommand:
    """The process a publisher runs: ``argv`` (no secret in it), its loggable form, and the
    ``preamble`` its stdin starts with (a secret, or None)."""

    argv: list[str]
    args_for_log: str
    preamble: SecretInput | None = field(default=None, repr=False)


@dataclass(frozen=True)
class _ProbeDue:
    wait: int


@dataclass(frozen=True)
class _ProbeDone:
    wait: int
    result: ProbeResult


class PublisherActor(FeedActor):
    """Publishes the program to one network destination and keeps it there on its own.

    ``destination`` gives the id, platform and (redacted) URL shown in status; ``probe`` is
    its kind's reachability probe; the timings are :class:`PublishOptions`. Subclasses give
    either the output tail of an ffmpeg copy command (:meth:`_output_args`, secrets inside)
    and its loggable form (:meth:`_output_for_log`), or a whole :meth:`_command`; the
    secrets to mask (:meth:`_secrets`) and the ``platform``/``url`` shown in status. Every
    hook runs in the actor's thread; one that raises crashes the actor (a bug; its
    supervisor restarts it).
    """

    kind = "destination"
    event_topic = DESTINATION_TOPIC
    refusal_exits: ClassVar[dict[int, str]] = {}
    """Exit codes of the publisher that mean "the server refused", each with what to check
    (``stream key``, ``server URL``): the destination goes ``rejected``."""
    _REJECTED_ALERT: ClassVar[str] = "destination_rejected"

    def __init__(
        self,
        link: Link,
        destination: PublishedModel,
        source: ChunkSource,
        ffmpeg: FfmpegBinary,
        *,
        probe: ProbeTarget,
        schedule: RetrySchedule | None = None,
        stall_timeout: float = 5.0,
        connect_timeout: float = 10.0,
        tick_interval: float = 1.0,
        air: OnAir | None = None,
    ) -> None:
        super().__init__(
            link, output_id=destination.id, source=source, schedule=schedule,
            stall_timeout=stall_timeout, connect_timeout=connect_timeout,
            tick_interval=tick_interval, air=air,
        )  # fmt: skip
        output_id = destination.id
        platform = destination.platform
        display_url = destination.display_url
        self.ffmpeg = ffmpeg
        self.platform = platform
        self.display_url = display_url
        self._probe = ReachabilityProbe(
            probe.host, probe.port, check=probe.check,
            on_error=self.worker_died,
            name=f"dest-{output_id}",
        )  # fmt: skip
        self._probe_timer: Timer | None = None
        self._failed_at_connect = False  # the last attempt found no server
        self._credit = False  # this wait counts that as having seen the server down
        self._probe_saw_down = False  # a probe of this wait found it down
        self._ended_on_credit = False  # the last wait ended on the credit alone
        self._reachable: bool | None = None
        self._spare: OwnedProcess | None = None
        self._rejection_alerted = False

    # -- what subclasses give ----------------------------------------------------------

    def _output_args(self) -> list[str]:
        """The command's tail after the copy head: muxer, options, URL (secrets inside)."""
        raise NotImplementedError

    def _output_for_log(self) -> str:
        """The tail as logs and the supervision tree show it (no secrets)."""
        raise NotImplementedError

    def _secrets(self) -> Sequence[tuple[str, str]]:
        """``(secret, shown as)`` pairs replaced in everything ffmpeg says."""
        return ()

    def _command(self) -> FeedCommand:
        """The process to run: by default ``ffmpeg -c copy`` with :meth:`_output_args`."""
        return FeedCommand(
            copy_argv(self.ffmpeg.path, self._output_args()),
            copy_for_log(self._output_for_log()),
        )

    # -- lifecycle ---------------------------------------------------------------------

    def teardown(self) -> None:
        """Actor thread: stop probing, then the base's teardown (timers, ffmpeg, stopped)."""
        if self._probe_timer is not None:
            self._probe_timer.cancel()
        self._probe.join(2.0)
        super().teardown()
        self._clear_rejection(f"Destination {self.output_id} stopped.")

    # -- FeedActor hooks ---------------------------------------------------------------

    def _new_feed(
        self, on_exit: Callable[[int | None], None], on_error: WorkerDeathCallback
    ) -> ChunkFeed:
        command = self._command()
        spare, self._spare = self._spare, None
        return ChunkFeed(
            name=f"publisher-{self.output_id}",
            argv=command.argv,
            args_for_log=command.args_for_log,
            preamble=command.preamble,
            spare=spare if command.preamble is not None else None,
            source=self.source,
            processes=self.processes,
            clock=self.link.clock,
            on_exit=on_exit,
            on_error=on_error,
            redact=self._redact,
        )

    def _status_extra(self) -> OutputStatusExtra:
        return {"platform": self.platform, "url": self.display_url, "reachable": self._reachable}

    def _go_live(self, now: float) -> None:
        self._reachable = True
        self._ended_on_credit = False
        super()._go_live(now)
        self._clear_rejection(f"Destination {self.output_id} is live again.")

    def _on_exit(self, code: int | None, detail: str) -> None:
        check = self.refusal_exits.get(code) if code is not None else None
        self._failed_at_connect = check is None and failed_at_connect(detail)
        if check is None:
            super()._on_exit(code, detail)
            return
        words = detail.removeprefix("flv publisher: ")
        if not self._rejection_alerted:  # one alert until it is live again
            self._alert_rejection(words, check)
        self._fail(words, rejected=True)

    def _alert_rejection(self, words: str, check: str) -> None:
        """One alert for the refusal (actor thread): what the server refused, what to check.
        It resolves the "failing" alerts of the same destination: this one says more."""
        every = self.schedule.rejected_delay
        self._rejection_alerted = True
        self._alert(
            "error", f"Destination {self.output_id}: {words}.",
            f"Check the {check} of destination {self.output_id}: copy it again from the "
            "platform's live dashboard (and check that the live stream is set up there), "
            f"then save it. Vistter tries again every {every:g} s; Reconnect tries at once.",
            kind=self._REJECTED_ALERT, resolves=["destination_failing", "destination_failed"],
        )  # fmt: skip

    def _clear_rejection(self, words: str) -> None:
        if self._rejection_alerted:
            self._rejection_alerted = False
            self.link.events.publish(ALERT_TOPIC, {
                "source": f"{self.kind}:{self.output_id}", "kind": self._REJECTED_ALERT,
                "cleared": True, "message": words,
            })  # fmt: skip

    def _on_idle(self) -> None:
        """Start a spare publisher, so that the next start (GO LIVE, a retry) does not wait
        for Python and ``import av`` (1-2 s on a loaded box): only for a command whose argv
        holds no secret (the secret comes on stdin); it waits there, using no CPU."""
        if self._spare is not None:
            if self._spare.alive():
                return
            self.processes.end(self._spare, 0.5)
            self._spare = None
        command = self._command()
        if command.preamble is None:
            return  # the destination's own argv (SRT): nothing generic to start ahead
        try:
            self._spare = spawn_feed_process(
                self.processes, f"publisher-{self.output_id}", command.argv,
                f"{command.args_for_log} (spare, waiting)",
            )  # fmt: skip
        except OSError as exc:
            logger.warning("destination %s: no spare publisher: %s", self.output_id, exc)

    def _on_wait_started(self) -> None:
        """The first probe of a wait goes out at once. A server that the failed attempt could
        not even connect to counts as seen down already: when it answers that first probe (it
        came back in the moment between the attempt and the probe), the wait ends at once.
        Chaos scenario 5 measured a 32 s wait when that moment was not counted.

        The credit is not given twice in a row: a server whose probe answers while every
        publish is refused (the probe and the publisher reach different places) would else be
        retried at once, every time, instead of on the backoff."""
        self._credit = self._failed_at_connect and not self._ended_on_credit
        self._failed_at_connect = self._probe_saw_down = self._ended_on_credit = False
        if self._state is not FeedState.REJECTED:  # the server answers: the key is wrong
            self._schedule_probe(0.0)

    def _failed_hint(self) -> str:
        return (
            "Check the server URL, the stream key or passphrase and the network; the "
            "destination reconnects by itself as soon as the server answers."
        )

    def _on_other(self, message: Any) -> None:
        if isinstance(message, _ProbeDue) and message.wait == self._wait and self.waiting:
            wait = message.wait
            if not self._probe.start(lambda result: self.post(_ProbeDone(wait, result))):
                # the previous wait's probe is still in flight
                self._schedule_probe(self.schedule.probe_interval)
        elif isinstance(message, _ProbeDone) and message.wait == self._wait and self.waiting:
            self._on_probe(message.result)

    def _redact(self, text: str) -> str:
        for secret, shown in self._secrets():
            if secret:
                text = text.replace(secret, shown)
        return text

    # -- reachability ------------------------------------------------------------------

    def _on_probe(self, result: ProbeResult) -> None:
        """A server that did not answer and answers again ends the wait at once; while it
        answers (the failure was something else) it is probed only now and then."""
        self._reachable = result.reachable
        if not result.reachable:
            self._probe_saw_down = True
        elif self._probe_saw_down or self._credit:
            logger.info("destination %s: the server answers again; retrying now", self.output_id)
            self._ended_on_credit = not self._probe_saw_down
            self._start_feed()
            return
        schedule = self.schedule
        self._schedule_probe(
            schedule.answered_probe_interval if result.reachable else schedule.probe_interval
        )

    def _schedule_probe(self, interval: float) -> None:
        if self.schedule.probe_interval <= 0:
            return
        if interval <= 0:
            self.post(_ProbeDue(self._wait))  # at once, no timer
        else:
            self._probe_timer = self.post_later(interval, _ProbeDue(self._wait))


_NETWORK_WORDS = (
    "connection refused", "timed out", "unreachable", "no route to host", "connection reset",
)  # fmt: skip


def failed_at_connect(detail: str) -> bool:
    """Whether a publisher's last line says the server could not be reached at all: the flv
    publisher's "connecting to ... failed: Connection refused" (or timed out, unreachable), or
    ffmpeg's "Error opening output" / SRT "Connection setup failure" (ffmpeg's SRT caller
    could not set up the connection). A failure after the connection (writing, a refusal the
    flv publisher recognised) is not: the server was there. A wrong SRT passphrase also fails
    the setup; the credit it gets then costs one early attempt, not more (see
    :meth:`PublisherActor._on_wait_started`)."""
    words = detail.lower()
    if "connection setup failure" in words or "error opening output" in words:
        return True
    return "connecting to" in words and any(word in words for word in _NETWORK_WORDS)


def masked(secret: str | None) -> tuple[tuple[str, str], ...]:
    """The ``(secret, MASK)`` pair of a secret that is set, for :meth:`_secrets`."""
    return ((secret, MASK),) if secret else ()
