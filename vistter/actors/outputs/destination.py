"""The destination actor: one RTMP(S) publisher (``ffmpeg -c copy``) for one platform.

It takes the program's MPEG-TS from its fanout queue and publishes it as FLV to the
destination's server. A destination is judged by bytes the server actually **accepts**
(ffmpeg's ``total_size`` growing), never by "the process runs": a black-holed server keeps a
publisher looking busy for seconds while the kernel buffers fill, so a live publisher whose
output stops growing for ``stall_timeout`` seconds while the program is flowing is killed
and retried; ``-rw_timeout`` makes ffmpeg itself give up a blocked write as well.

States, retries and events come from :class:`~vistter.actors.outputs.feed_actor.FeedActor`
(``event.destination`` on every change). On top of them, while it waits to retry, the
actor probes the server's TCP port every ``probe_interval`` seconds and retries at once
when a server that did not answer answers again, so it is back within seconds of the
network coming back instead of waiting out a 60 s delay.

The stream key is a secret: logs, status, events, alerts and errors only ever see the
redacted URL (:attr:`RtmpDestination.display_url`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vistter.actors.outputs.chunk_feed import ChunkFeed, ChunkSource
from vistter.actors.outputs.feed_actor import FeedActor, FeedState
from vistter.actors.outputs.reachability import ProbeResult, ReachabilityProbe, endpoint_of
from vistter.actors.outputs.retry import RetrySchedule
from vistter.clock import Timer
from vistter.errors import ConfigError
from vistter.media.ffmpeg import FfmpegBinary
from vistter.models.config import check_destination_bitrate
from vistter.models.destinations import RtmpDestination
from vistter.models.redact import MASK, redact_url
from vistter.models.settings import EncodingConfig
from vistter.supervisors.link import Link

__all__ = ["ChunkSource", "DestinationActor", "DestinationState", "publisher_argv"]

logger = logging.getLogger(__name__)

DestinationState = FeedState


@dataclass(frozen=True)
class _ProbeDue:
    wait: int


@dataclass(frozen=True)
class _ProbeDone:
    wait: int
    result: ProbeResult


def publisher_argv(ffmpeg: str, url: str, *, rw_timeout: float = 5.0) -> list[str]:
    """The publisher's command line: MPEG-TS on stdin, copied as FLV to ``url``.

    ``-progress pipe:1`` reports the bytes the output took once a second; ``-rw_timeout``
    makes ffmpeg give up when the server stops taking bytes; a short ``-analyzeduration``
    lets a (re)started publisher send within about a second.
    """
    return [
        ffmpeg, "-hide_banner", "-loglevel", "warning", "-nostats",
        "-progress", "pipe:1", "-stats_period", "1",
        "-analyzeduration", "1000000", "-f", "mpegts", "-i", "pipe:0",
        "-map", "0:v:0", "-map", "0:a:0?", "-c", "copy",
        "-rw_timeout", str(int(rw_timeout * 1_000_000)),
        "-flvflags", "no_duration_filesize", "-f", "flv", url,
    ]  # fmt: skip


class DestinationActor(FeedActor):
    """Publishes the program to one RTMP(S) destination and keeps it there on its own.

    Public methods (``status``, ``retry_now``) run in the actor's thread; call them through
    the proxy. ``encoding`` (the program's settings) enables the platform checks at start:
    an ``alert`` when the bitrate is above the platform's limit or the keyframe interval
    differs from the recommended one. ``stall_timeout``: seconds without accepted bytes,
    while the program is flowing, before a live publisher is killed; ``connect_timeout``:
    the same before the first byte; ``rw_timeout``: ffmpeg's own I/O timeout.
    """

    kind = "destination"
    event_topic = "event.destination"

    def __init__(
        self,
        link: Link,
        destination: RtmpDestination,
        source: ChunkSource,
        ffmpeg: FfmpegBinary,
        *,
        schedule: RetrySchedule | None = None,
        encoding: EncodingConfig | None = None,
        stall_timeout: float = 5.0,
        connect_timeout: float = 10.0,
        rw_timeout: float = 5.0,
        tick_interval: float = 1.0,
    ) -> None:
        super().__init__(
            link, output_id=destination.id, source=source, schedule=schedule,
            stall_timeout=stall_timeout, connect_timeout=connect_timeout,
            tick_interval=tick_interval,
        )  # fmt: skip
        self.destination = destination
        self.ffmpeg = ffmpeg
        self.encoding = encoding
        self.rw_timeout = rw_timeout
        try:
            host, port = endpoint_of(destination.rtmp_url)
        except ValueError as exc:
            raise ConfigError(
                f"destination '{destination.id}' has an unusable url "
                f"({redact_url(destination.rtmp_url)}): {exc}.",
                hint="Write it as rtmp://HOST[:PORT]/APP or rtmps://HOST[:PORT]/APP.",
            ) from None
        self._probe = ReachabilityProbe(
            host, port, on_error=self._thread_died, name=f"dest-{destination.id}"
        )
        self._probe_timer: Timer | None = None
        self._seen_unreachable = False
        self._reachable: bool | None = None

    # -- lifecycle ---------------------------------------------------------------------

    def setup(self) -> None:
        """Actor thread: check the platform preset (alerts only), then start publishing."""
        self._check_preset()
        super().setup()

    def teardown(self) -> None:
        """Actor thread: stop probing, then the base's teardown (timers, ffmpeg, stopped)."""
        if self._probe_timer is not None:
            self._probe_timer.cancel()
        self._probe.join(2.0)
        super().teardown()

    # -- FeedActor hooks ---------------------------------------------------------------

    def _new_feed(
        self, on_exit: Callable[[int | None], None], on_error: Callable[[BaseException], None]
    ) -> ChunkFeed:
        url = self.destination.publish_url()
        return ChunkFeed(
            name=f"publisher-{self.destination.id}",
            argv=publisher_argv(self.ffmpeg.path, url, rw_timeout=self.rw_timeout),
            args_for_log=f"ffmpeg -f mpegts -i pipe:0 -c copy -f flv "
            f"{self.destination.display_url}",
            source=self.source,
            processes=self.processes,
            clock=self.link.clock,
            on_exit=on_exit,
            on_error=on_error,
            redact=self._redact,
        )

    def _status_extra(self) -> dict[str, Any]:
        return {
            "platform": self.destination.platform,
            "url": self.destination.display_url,
            "reachable": self._reachable,
        }

    def _go_live(self, now: float) -> None:
        self._reachable = True
        super()._go_live(now)

    def _on_wait_started(self) -> None:
        self._seen_unreachable = False
        self._schedule_probe()

    def _failed_hint(self) -> str:
        return (
            "Check the server URL, the stream key and the network; the destination "
            "reconnects by itself as soon as the server answers."
        )

    def _on_other(self, message: Any) -> None:
        if isinstance(message, _ProbeDue) and message.wait == self._wait and self.waiting:
            wait = message.wait
            if not self._probe.start(lambda result: self.post(_ProbeDone(wait, result))):
                self._schedule_probe()  # the previous wait's probe is still in flight
        elif isinstance(message, _ProbeDone) and message.wait == self._wait and self.waiting:
            self._on_probe(message.result)

    def _redact(self, text: str) -> str:
        text = text.replace(self.destination.publish_url(), self.destination.display_url)
        key = self.destination.stream_key
        if key is not None and key.get_secret_value():
            text = text.replace(key.get_secret_value(), MASK)
        return text

    # -- reachability ------------------------------------------------------------------

    def _on_probe(self, result: ProbeResult) -> None:
        self._reachable = result.reachable
        if not result.reachable:
            self._seen_unreachable = True
        elif self._seen_unreachable:
            logger.info(
                "destination %s: the server answers again; retrying now", self.destination.id
            )
            self._start_feed()
            return
        self._schedule_probe()

    def _schedule_probe(self) -> None:
        if self.schedule.probe_interval > 0:
            self._probe_timer = self.post_later(self.schedule.probe_interval, _ProbeDue(self._wait))

    # -- platform checks ---------------------------------------------------------------

    def _check_preset(self) -> None:
        """Alert (warning) when the program does not suit the platform. The configuration
        refuses a too-high bitrate at load time; this covers destinations added later."""
        if self.encoding is None:
            return
        problem = check_destination_bitrate(self.destination, self.encoding)
        if problem is not None:
            self._alert("warning", problem.message, problem.hint)
        recommended = self.destination.preset.recommended_keyframe
        if self.encoding.keyframe_interval != recommended:
            self._alert(
                "warning",
                f"destination '{self.destination.id}' ({self.destination.platform}) "
                f"recommends a keyframe every {recommended} s; the program has one every "
                f"{self.encoding.keyframe_interval:g} s",
                f"Set encoding.keyframe_interval = {recommended}.",
            )
