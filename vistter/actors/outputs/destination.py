"""RTMP(S) destinations: one publisher (MPEG-TS copied to FLV) for one platform.

The output kind ``rtmp`` (YouTube, Facebook, Twitch, any RTMP server): the program's MPEG-TS
from its fanout queue, published as FLV to the destination's server. Judged by bytes
accepted and probed while waiting (the RTMP handshake, see
:mod:`~vistter.actors.outputs.rtmp_handshake`) by
:class:`~vistter.actors.outputs.publisher.PublisherActor`. The publisher process is
:mod:`~vistter.actors.outputs.flv_publisher` (PyAV's libavformat, stream copy): it reads the
URL with the key from its stdin, so the key is in no command line, and gives up a connect or
write blocked for ``rw_timeout`` seconds, like ffmpeg's ``-rw_timeout``.
At start, the actor checks the program against the platform's preset (alerts only). A
platform output: it publishes only while the show is on air (``on_air_only`` in its registry entry).

The stream key is a secret: no argv or environment of any process holds it, and logs,
status, events, alerts and errors only ever see the redacted URL
(:attr:`RtmpDestination.display_url`). :func:`publisher_argv` is the equivalent ffmpeg
command (key in its argv), kept for the benchmarks' floor measurement.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Unpack

import pykka

from vistter.actors.bus import ProgramBus
from vistter.actors.outputs.chunk_feed import ChunkSource
from vistter.actors.outputs.command import copy_argv
from vistter.actors.outputs.feed_actor import OFF_AIR_DRAIN, FeedState
from vistter.actors.outputs.kind import OutputKind
from vistter.actors.outputs.payloads import OutputStatusExtra
from vistter.actors.outputs.publish_request import PublishRequest, probe_bytes_for
from vistter.actors.outputs.publisher import (
    FeedCommand,
    PublisherActor,
    PublishOptions,
    masked,
)
from vistter.actors.outputs.reachability import ProbeTarget, endpoint_of
from vistter.actors.outputs.rtmp_handshake import rtmp_handshake, rtmps_handshake
from vistter.actors.outputs.rtmp_stage import EXIT_APP_REFUSED, EXIT_KEY_REFUSED
from vistter.actors.outputs.session_limit import (
    Moment,
    Observed,
    ProgramMoments,
    QuietMoments,
    SessionPlan,
    limit_words,
    local_now,
)
from vistter.errors import ConfigError
from vistter.media.ffmpeg import FfmpegBinary
from vistter.models.config import ApplianceConfig, check_destination_bitrate
from vistter.models.destinations import RtmpDestination
from vistter.models.redact import redact_url
from vistter.models.settings import EncodingConfig
from vistter.supervisors.link import Link
from vistter.supervisors.spec import StartFunction

__all__ = [
    "RTMP", "ChunkSource", "DestinationActor", "DestinationState", "flv_publisher_argv",
    "publisher_argv",
]  # fmt: skip

DestinationState = FeedState

QUIET_POLL = 0.02
"""Seconds between looks at the program while a planned reconnect waits for a quiet moment."""


@dataclass(frozen=True)
class _QuietPoll:
    session: int


def flv_output(url: str, *, rw_timeout: float = 5.0) -> list[str]:
    """The RTMP tail of the command: ``-rw_timeout`` (give up when the server stops taking
    bytes), then FLV to ``url``."""
    return [
        "-rw_timeout", str(int(rw_timeout * 1_000_000)),
        "-flvflags", "no_duration_filesize", "-f", "flv", url,
    ]  # fmt: skip


def publisher_argv(ffmpeg: str, url: str, *, rw_timeout: float = 5.0) -> list[str]:
    """The ffmpeg equivalent of the RTMP publisher: MPEG-TS on stdin, copied as FLV to ``url``
    (the key in its argv; the benchmarks' floor, not used by the appliance)."""
    return copy_argv(ffmpeg, flv_output(url, rw_timeout=rw_timeout))


def flv_publisher_argv(python: str = sys.executable) -> list[str]:
    """The RTMP publisher's command line: the same for every destination, no secret in it.
    ``-I``: no current directory or ``PYTHON*`` variable decides what code it runs."""
    return [python, "-I", "-m", "vistter.actors.outputs.flv_publisher"]


def rtmp_probe(destination: RtmpDestination) -> ProbeTarget:
    """The RTMP handshake with the server (inside TLS for ``rtmps``). Raises
    :class:`ConfigError` for a URL that names no usable server."""
    try:
        host, port = endpoint_of(destination.rtmp_url)
    except ValueError as exc:
        raise ConfigError(
            f"destination '{destination.id}' has an unusable url "
            f"({redact_url(destination.rtmp_url)}): {exc}.",
            hint="Write it as rtmp://HOST[:PORT]/APP or rtmps://HOST[:PORT]/APP.",
        ) from None
    tls = destination.rtmp_url.lower().startswith("rtmps:")
    return ProbeTarget(host, port, check=rtmps_handshake if tls else rtmp_handshake)


class DestinationActor(PublisherActor):
    """Publishes the program to one RTMP(S) destination and keeps it there on its own.

    Public methods (``status``, ``retry_now``) run in the actor's thread; call them through
    the proxy. ``encoding`` (the program's settings) enables the platform checks at start:
    an ``alert`` when the bitrate is above the platform's limit or the keyframe interval
    differs from the recommended one. ``rw_timeout``: the publisher's own I/O timeout; the other
    options are :class:`~vistter.actors.outputs.publisher.PublishOptions`.

    Session limit (:mod:`~vistter.actors.outputs.session_limit`): when the destination has one
    (Facebook 8 h, Twitch 48 h, or ``max_session_hours``), ``reconnect_margin_minutes`` before
    it the actor starts a spare publisher and looks at ``moments`` (the program) every
    :data:`QUIET_POLL` s; at a cut (or, late in the margin, any frame not inside a transition)
    it ends the publish session cleanly and starts a new one at a keyframe, says so in its
    status and raises an ``info`` alert. Without ``moments`` every frame counts as steady.
    """

    program: ClassVar[str] = "the publisher"
    refusal_exits: ClassVar[dict[int, str]] = {
        EXIT_KEY_REFUSED: "stream key",
        EXIT_APP_REFUSED: "server URL (its application part, before the key)",
    }

    def __init__(
        self,
        link: Link,
        destination: RtmpDestination,
        source: ChunkSource,
        ffmpeg: FfmpegBinary,
        *,
        encoding: EncodingConfig | None = None,
        rw_timeout: float = 5.0,
        moments: QuietMoments | None = None,
        wall: Callable[[], datetime] = local_now,
        **options: Unpack[PublishOptions],
    ) -> None:
        probe = rtmp_probe(destination)
        super().__init__(link, destination, source, ffmpeg, probe=probe, **options)
        self.destination = destination
        self.encoding = encoding
        self.rw_timeout = rw_timeout
        self._moments = moments
        limit = destination.session_limit_seconds
        margin = destination.reconnect_margin_minutes * 60
        self._plan = (
            None if limit is None else SessionPlan(destination.platform, limit, margin, wall)
        )
        self._searching = False

    def setup(self) -> None:
        """Actor thread: check the platform preset (alerts only), then start publishing."""
        self._check_preset()
        super().setup()

    # -- PublisherActor hooks ----------------------------------------------------------

    def _command(self) -> FeedCommand:
        """The PyAV publisher, told where to publish on its stdin (key never in argv)."""
        key = self.destination.stream_key
        request = PublishRequest(
            url=self.destination.publish_url(), shown_as=self.destination.display_url,
            secrets=(key.get_secret_value(),) if key is not None else (),
            rw_timeout=self.rw_timeout,
            probe_bytes=probe_bytes_for(self.encoding.bitrate_kbps if self.encoding else 6000),
        )  # fmt: skip
        return FeedCommand(
            flv_publisher_argv(),
            f"flv_publisher (PyAV) -f mpegts -i pipe:0 -c copy -f flv "
            f"{self.destination.display_url}",
            request.secret_input(),
        )

    def _secrets(self) -> Sequence[tuple[str, str]]:
        key = self.destination.stream_key
        return (
            (self.destination.publish_url(), self.destination.display_url),
            *masked(key.get_secret_value() if key is not None else None),
        )

    def _status_extra(self) -> OutputStatusExtra:
        extra = super()._status_extra()
        if self._plan is not None:
            extra["session_limit"] = self._plan.status(self.link.clock.monotonic())
        return extra

    # -- planned reconnect before the platform's session limit ----------------------------

    def _go_live(self, now: float) -> None:
        if self._plan is not None:
            self._plan.session_started(now)
        super()._go_live(now)

    def _set_state(self, state: FeedState) -> None:
        if self._plan is not None and state not in (FeedState.LIVE, FeedState.CONNECTING):
            self._plan.session_ended()
            self._searching = False
        super()._set_state(state)

    def _on_tick(self) -> None:
        super()._on_tick()
        plan = self._plan
        if plan is None or self._searching or self._state is not FeedState.LIVE:
            return
        if plan.due(self.link.clock.monotonic()):
            self._searching = True
            self._on_idle()  # a spare publisher, ready when the quiet moment comes
            self.post(_QuietPoll(self._session))

    def _on_other(self, message: Any) -> None:
        if isinstance(message, _QuietPoll):
            if message.session == self._session and self._searching:
                self._look_for_quiet(message.session)
        else:
            super()._on_other(message)

    def _look_for_quiet(self, session: int) -> None:
        plan = self._plan
        assert plan is not None
        observed = self._moments.observe() if self._moments else Observed(Moment.STEADY, 0)
        if not plan.quiet_enough(self.link.clock.monotonic(), observed):
            self.post_later(QUIET_POLL, _QuietPoll(session))
            return
        self._searching = False
        words = plan.reconnected(observed)
        limit = limit_words(self.destination.platform, plan.limit)
        self._cancel_timers()
        self._session += 1  # the ending session's exit is not a failure
        self._end_feed(grace=OFF_AIR_DRAIN, drain=True)
        self._start_feed()
        self._alert(
            "info",
            f"Destination {self.output_id} {words} before {limit} "
            f"({observed.moment.value}, program frame {observed.frame}).",
            "Nothing to do: the stream continues in a new publish session.",
            kind="planned_reconnect",
        )  # fmt: skip

    # -- platform checks ---------------------------------------------------------------

    def _check_preset(self) -> None:
        """Alert (warning) when the program does not suit the platform. The configuration
        refuses a too-high bitrate at load time; this covers destinations added later."""
        if self.encoding is None:
            return
        problem = check_destination_bitrate(self.destination, self.encoding)
        if problem is not None:
            self._alert("warning", problem.message, problem.hint, kind="platform_bitrate")
        recommended = self.destination.preset.recommended_keyframe
        if self.encoding.keyframe_interval != recommended:
            self._alert(
                "warning",
                f"destination '{self.destination.id}' ({self.destination.platform}) "
                f"recommends a keyframe every {recommended} s; the program has one every "
                f"{self.encoding.keyframe_interval:g} s",
                f"Set encoding.keyframe_interval = {recommended}.", kind="platform_keyframe",
            )


def _start_rtmp(
    destination: RtmpDestination, config: ApplianceConfig, bus: ProgramBus
) -> StartFunction:
    def start(link: Link) -> pykka.ActorRef[Any]:
        queue = bus.fanout.attach(destination.id)
        return DestinationActor.start(
            link, destination, queue, bus.ffmpeg, encoding=config.encoding,
            air=bus.fanout.air_for(destination.id), moments=ProgramMoments(bus.state),
        )

    return start


#: The registry entry of RTMP(S) destinations.
RTMP = OutputKind(
    name="rtmp", model=RtmpDestination, prefix="destination", start=_start_rtmp,
    probe=rtmp_probe, on_air_only=True,
)  # fmt: skip
