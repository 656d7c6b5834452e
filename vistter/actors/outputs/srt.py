"""SRT destinations: the program as MPEG-TS over SRT (caller mode) to an SRT listener.

The output kind ``srt``: ``ffmpeg -c copy -f mpegts srt://HOST:PORT?...``. Judged, retried
and probed like RTMP (:class:`~vistter.actors.outputs.publisher.PublisherActor`): by the
bytes ffmpeg reports the SRT output took (``total_size``), and while waiting by one SRT
induction handshake (:func:`~vistter.actors.outputs.reachability.srt_probe`), since SRT is
UDP and a TCP probe means nothing. A listener that dies or stops answering breaks the SRT
connection after its peer idle timeout (about 5 s); ``-timeout`` bounds a blocked write.

Encoder handovers: at a planned handover the program's MPEG-TS goes on with a new encoder
run whose timestamps continue the old one's, but whose audio starts up to a few AAC frames
*before* the old run's audio ended (the old run's drained tail carries audio a little past
its last video frame). ffmpeg's command line treats an input DTS more than 0.1 s behind the
stream's as a "timestamp discontinuity" of the whole input and shifts every later timestamp
forward by the difference (measured: 0.13 to 0.18 s), which the SRT listener saw as a video
jump of 4 to 7 frames and a lasting audio/video offset at each such seam. So the SRT
publisher keeps the input's timestamps (``-copyts``: no discontinuity correction; MPEG-TS
timestamps need not start at 0) and drops the audio packets that would go back in time
(:data:`AUDIO_IN_ORDER`), as the RTMP publisher does; video is never dropped.

The passphrase is a write-only secret. The bundled ffmpeg can read an option's value from a
file only for ffmpeg's own options (``-/filter_complex FILE``), not for a protocol's options
such as SRT's ``passphrase`` (``-/passphrase`` is refused), so it is passed as
``-passphrase VALUE`` in ffmpeg's argv, never in the URL; logs, status, events and stderr
lines show it masked.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Unpack

import pykka

from vistter.actors.bus import ProgramBus
from vistter.actors.outputs.chunk_feed import ChunkSource
from vistter.actors.outputs.kind import OutputKind
from vistter.actors.outputs.publisher import PublisherActor, PublishOptions, masked
from vistter.actors.outputs.reachability import ProbeTarget, srt_probe
from vistter.media.ffmpeg import FfmpegBinary
from vistter.models.config import ApplianceConfig
from vistter.models.destinations import SrtDestination
from vistter.supervisors.link import Link
from vistter.supervisors.spec import StartFunction

__all__ = ["AUDIO_IN_ORDER", "SRT", "SrtDestinationActor", "srt_output"]

AUDIO_IN_ORDER = r"noise=drop=lt(dts\,ld(0))+0*st(0\,max(ld(0)\,dts))"
"""The audio bitstream filter of the SRT publisher: drop a packet whose DTS is behind the
latest one passed (register 0 of the expression keeps it), so the overlap of two encoder
runs' audio at a handover is not muxed twice (see the module doc)."""


def srt_output(url: str, passphrase: str | None, *, io_timeout: float = 5.0) -> list[str]:
    """The SRT tail of the command: timestamps kept as they come (``-copyts``) with audio
    that goes back in time dropped, I/O timeout, passphrase (if any), MPEG-TS to ``url``."""
    secret = ["-passphrase", passphrase] if passphrase else []
    return [
        "-copyts", "-bsf:a", AUDIO_IN_ORDER,
        "-timeout", str(int(io_timeout * 1_000_000)), *secret,
        "-f", "mpegts", url,
    ]  # fmt: skip


def srt_probe_target(destination: SrtDestination) -> ProbeTarget:
    """One SRT induction handshake to the listener."""
    host, port = destination.endpoint
    return ProbeTarget(host, port, srt_probe)


class SrtDestinationActor(PublisherActor):
    """Publishes the program to one SRT listener and keeps it there on its own.

    Public methods (``status``, ``retry_now``) run in the actor's thread; call them through
    the proxy. ``io_timeout``: ffmpeg's SRT socket timeout; the other options are
    :class:`~vistter.actors.outputs.publisher.PublishOptions`.
    """

    def __init__(
        self,
        link: Link,
        destination: SrtDestination,
        source: ChunkSource,
        ffmpeg: FfmpegBinary,
        *,
        io_timeout: float = 5.0,
        **options: Unpack[PublishOptions],
    ) -> None:
        probe = srt_probe_target(destination)
        super().__init__(link, destination, source, ffmpeg, probe=probe, **options)
        self.destination = destination
        self.io_timeout = io_timeout

    def _output_args(self) -> list[str]:
        return srt_output(
            self.destination.publish_url(), self.destination.passphrase_value(),
            io_timeout=self.io_timeout,
        )  # fmt: skip

    def _output_for_log(self) -> str:
        secret = "-passphrase *** " if self.destination.passphrase is not None else ""
        return f"{secret}-f mpegts {self.destination.display_url}"

    def _secrets(self) -> Sequence[tuple[str, str]]:
        return (
            (self.destination.publish_url(), self.destination.display_url),
            *masked(self.destination.passphrase_value()),
        )


def _start_srt(
    destination: SrtDestination, config: ApplianceConfig, bus: ProgramBus
) -> StartFunction:
    def start(link: Link) -> pykka.ActorRef[Any]:
        queue = bus.fanout.attach(destination.id)
        return SrtDestinationActor.start(
            link, destination, queue, bus.ffmpeg, air=bus.fanout.air_for(destination.id)
        )

    return start


#: The registry entry of SRT destinations.
SRT = OutputKind(
    name="srt", model=SrtDestination, prefix="srt", start=_start_srt, probe=srt_probe_target,
    on_air_only=True,
)
