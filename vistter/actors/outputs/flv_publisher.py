"""The RTMP(S) publisher process: the program's MPEG-TS on stdin, copied as FLV to a server.

Run as ``python -m vistter.actors.outputs.flv_publisher`` (an argv without any secret). It
does what ``ffmpeg -f mpegts -i pipe:0 -map 0:v:0 -map 0:a:0? -c copy -f flv URL`` did, with
the libavformat bundled in PyAV (stream copy, no decoding), but it learns the URL (the
stream key inside) from its stdin: a :class:`~vistter.actors.outputs.publish_request.
PublishRequest` comes first, the program follows. The bundled ffmpeg cannot take an output
URL or a protocol option from anywhere but its argv (see :mod:`vistter.media.secrets`).

It speaks to its parent (:class:`~vistter.actors.outputs.chunk_feed.ChunkFeed`) exactly like
``ffmpeg -progress pipe:1``: ``total_size=`` (bytes of program handed to the connection:
packet payloads, without FLV/RTMP framing), ``out_time_us=`` and ``progress=continue``
blocks on stdout, at the first bytes and then once a second; on stderr, libavformat's
warnings and, last, one line saying why it stopped. The URL is shown redacted in all of it.

Exit codes: 0 the program ended (stdin closed) and the stream was finished cleanly;
1 the connection failed or broke (server gone, network down); 2 no usable program or request
on stdin; 3 a connect or write blocked for ``rw_timeout`` seconds (a black-holed server: PyAV
opens its output without options, so ffmpeg's ``-rw_timeout`` is enforced here by a watchdog
thread); 4 the server took the connection and refused the stream key; 5 it refused the
application in the URL (see :mod:`~vistter.actors.outputs.rtmp_stage`: while it connects,
the publisher follows libavformat's RTMP debug lines to tell a refusal from a network fault).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from fractions import Fraction
from typing import Any

import av
import av.logging

from vistter.actors.outputs import held_connection
from vistter.actors.outputs.publish_request import PublishRequest, PublishRequestError
from vistter.actors.outputs.rtmp_stage import EXIT_APP_REFUSED, EXIT_KEY_REFUSED, RtmpProgress

__all__ = [
    "EXIT_APP_REFUSED", "EXIT_INPUT", "EXIT_KEY_REFUSED", "EXIT_OUTPUT", "EXIT_TIMEOUT", "main",
]  # fmt: skip

EXIT_OUTPUT = 1
EXIT_INPUT = 2
EXIT_TIMEOUT = 3
PROGRESS_SECONDS = 1.0
_WATCH_SECONDS = 0.1
_RELEASE_SECONDS = 2.0
"""Seconds the server gets to close its side after the stream is finished (see
:mod:`~vistter.actors.outputs.held_connection`)."""
_MICROSECONDS = 1_000_000


def _say(line: str) -> None:
    """One line on stderr, written at once (safe from the watchdog thread)."""
    with contextlib.suppress(OSError):
        os.write(2, (line.replace("\n", " ") + "\n").encode("utf-8", "replace"))


class _Watchdog:
    """Ends the process when one output call blocks longer than ``limit`` seconds.

    :meth:`busy` runs in the main thread around a connect or write; the watch runs in a
    daemon thread and calls ``os._exit`` (the blocked C call cannot be interrupted).
    """

    def __init__(self, limit: float, request: PublishRequest) -> None:
        self._limit = limit
        self._request = request
        self._lock = threading.Lock()
        self._since: float | None = None
        self._what = ""
        threading.Thread(target=self._watch, name="flv-watchdog", daemon=True).start()

    @contextlib.contextmanager
    def busy(self, what: str) -> Iterator[None]:
        with self._lock:
            self._since, self._what = time.monotonic(), what
        try:
            yield
        finally:
            with self._lock:
                self._since = None

    def _watch(self) -> None:
        while True:
            time.sleep(_WATCH_SECONDS)
            with self._lock:
                since, what = self._since, self._what
            if since is not None and time.monotonic() - since > self._limit:
                _say(
                    f"flv publisher: {what} {self._request.shown_as} blocked for "
                    f"{self._limit:g} s (the server takes no bytes): Connection timed out"
                )
                os._exit(EXIT_TIMEOUT)


class _LibavLines(logging.Handler):
    """libavformat's log lines, masked, on stderr; keeps the last error for the reason."""

    def __init__(self, request: PublishRequest) -> None:
        super().__init__(logging.WARNING)
        self._request = request
        self.last_error = ""

    def emit(self, record: logging.LogRecord) -> None:
        line = self._request.mask(record.getMessage().strip())
        if record.levelno >= logging.ERROR:
            self.last_error = line
        _say(f"[{record.name.removeprefix('libav.')}] {line}")


class _Progress:
    """The ``-progress`` blocks on stdout: at the first bytes, then once a second."""

    def __init__(self) -> None:
        self.total_size = 0
        self.out_time_us = 0
        self._said_at: float | None = None

    def add(self, size: int, time_us: int | None) -> None:
        self.total_size += size
        if time_us is not None:
            self.out_time_us = max(self.out_time_us, time_us)
        now = time.monotonic()
        if self._said_at is None or now - self._said_at >= PROGRESS_SECONDS:
            self._said_at = now
            self.say("continue")

    def say(self, state: str) -> None:
        block = (
            f"total_size={self.total_size}\nout_time_us={self.out_time_us}\nprogress={state}\n"
        )
        sys.stdout.write(block)
        sys.stdout.flush()


class _InOrder:
    """Passes a packet only if its DTS does not go back on its stream: FLV's muxer refuses
    time going back, and the first audio of a new encoder run (a restart or handover, see
    :mod:`vistter.actors.encoder.encoder`) may overlap the last run's tail by a few ms."""

    def __init__(self) -> None:
        self._last: dict[int, int] = {}
        self.dropped = 0

    def accept(self, packet: Any) -> bool:
        index, dts = packet.stream.index, packet.dts
        if dts < self._last.get(index, dts):
            self.dropped += 1
            return False
        self._last[index] = dts
        return True


def _offset(start_us: int, time_base: Fraction | None) -> int:
    """The input's start time in a stream's time base (ffmpeg shifts outputs to start at 0)."""
    if not time_base:
        return 0
    return round(Fraction(start_us, _MICROSECONDS) / time_base)


def _reason(exc: BaseException, request: PublishRequest, libav: _LibavLines) -> str:
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    detail = f" ({libav.last_error})" if libav.last_error else ""
    return request.mask(f"{text}{detail}")


@contextlib.contextmanager
def _following_rtmp() -> Iterator[RtmpProgress]:
    """While the publisher connects: libavformat's debug lines go to an :class:`RtmpProgress`
    (the ``libav`` logger opened to them, PyAV's level raised), then both back as they were.
    Only around the connect: the debug level costs a callback per line."""
    progress = RtmpProgress()
    libav = logging.getLogger("libav")
    level = libav.level
    libav.addHandler(progress)
    libav.setLevel(1)
    av.logging.set_level(av.logging.DEBUG)
    try:
        yield progress
    finally:
        av.logging.set_level(av.logging.WARNING)
        libav.setLevel(level)
        libav.removeHandler(progress)


def _finish(sink: Any, watchdog: _Watchdog) -> None:
    """Write the trailer and unpublish (libavformat's close), then end the connection with a
    FIN after the server's last words, never a reset (see
    :mod:`~vistter.actors.outputs.held_connection`). Raises what ``sink.close`` raises."""
    held = held_connection.hold()
    with watchdog.busy("finishing the stream on"):
        sink.close()
    if held is not None:
        held.release(_RELEASE_SECONDS)  # bounded by its own timeout


def _open_program(request: PublishRequest, libav: _LibavLines) -> tuple[Any, list[Any]] | int:
    """Open the program on stdin (PyAV's probe of its first bytes): the container and the
    streams to copy (video, and audio when there is some), or the exit code."""
    try:
        source: Any = av.open(
            "pipe:0", format="mpegts",
            # fpsprobesize 0: no frame-rate estimation from ~20 frames (measured: the input
            # opens ~0.25 s sooner; the rate comes from the stream's time base all the same)
            options={"analyzeduration": str(request.analyze_us), "fpsprobesize": "0",
                     "probesize": str(request.probe_bytes)},
        )
    except (av.FFmpegError, OSError) as exc:
        _say(f"flv publisher: cannot read the program on stdin: {_reason(exc, request, libav)}")
        return EXIT_INPUT
    if not source.streams.video:
        _say("flv publisher: the program on stdin has no video stream")
        return EXIT_INPUT
    audio = source.streams.audio[:1]
    if audio and not audio[0].codec_context.sample_rate:
        _say(f"flv publisher: the program's audio showed no parameters in its first "
             f"{request.probe_bytes} bytes (a stream without audio must not reach the platform)")
        return EXIT_INPUT
    return source, [source.streams.video[0], *audio]


def publish(request: PublishRequest) -> int:
    """Copy the program from stdin to ``request.url`` as FLV until stdin ends. Main thread;
    returns the exit code (module docstring) and never raises for a failure of the world."""
    libav = _LibavLines(request)
    logging.getLogger("libav").addHandler(libav)
    logging.getLogger("libav").propagate = False
    av.logging.set_level(av.logging.WARNING)
    watchdog = _Watchdog(request.rw_timeout, request)
    opened = _open_program(request, libav)
    if isinstance(opened, int):
        return opened
    source, inputs = opened
    start_us = source.start_time or 0
    offsets = {stream.index: _offset(start_us, stream.time_base) for stream in inputs}
    in_order = _InOrder()
    progress = _Progress()
    packets = source.demux(inputs)
    what = "connecting to"
    connect = contextlib.ExitStack()
    rtmp = connect.enter_context(_following_rtmp())
    try:
        sink: Any = av.open(
            request.url, mode="w", format="flv",
            options={"flvflags": "no_duration_filesize", "flush_packets": "1"},
        )  # fmt: skip
        outputs = {stream.index: sink.add_stream_from_template(stream) for stream in inputs}
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                break
            except (av.FFmpegError, OSError) as exc:
                _say(f"flv publisher: the program broke off: {_reason(exc, request, libav)}")
                return EXIT_INPUT
            if packet.dts is None or packet.size == 0 or not in_order.accept(packet):
                continue
            index, shift = packet.stream.index, offsets[packet.stream.index]
            packet.dts -= shift
            if packet.pts is not None:
                packet.pts -= shift
            time_us = None
            if packet.pts is not None and packet.time_base:
                time_us = int(packet.pts * packet.time_base * _MICROSECONDS)
            size = packet.size
            packet.stream = outputs[index]
            with watchdog.busy(what):
                sink.mux(packet)
            if what == "connecting to":
                connect.close()  # connected: libavformat's debug lines are not wanted any more
            what = "writing to"
            progress.add(size, time_us)
        _finish(sink, watchdog)
    except (av.FFmpegError, OSError) as exc:
        connect.close()
        return _output_failed(exc, what, request, libav, rtmp)
    progress.say("end")
    return 0


def _output_failed(
    exc: BaseException, what: str, request: PublishRequest, libav: _LibavLines,
    rtmp: RtmpProgress,
) -> int:
    """Say why the output failed, in one line; the exit code: a refusal by the server (how
    far the connect got tells, see :class:`RtmpProgress`) or :data:`EXIT_OUTPUT`."""
    reason = _reason(exc, request, libav)
    refusal = rtmp.refusal(reason) if what == "connecting to" else None
    if refusal is not None:
        _say(f"flv publisher: {request.mask(refusal.words)} ({request.shown_as})")
        return refusal.exit_code
    _say(f"flv publisher: {what} {request.shown_as} failed: {reason}")
    return EXIT_OUTPUT


def main() -> int:
    """Entry point: read the request from stdin, then publish. Returns the exit code."""
    try:
        request = PublishRequest.read(0)
    except (PublishRequestError, OSError) as exc:
        _say(f"flv publisher: no publish request on stdin: {exc}")
        return EXIT_INPUT
    try:
        return publish(request)
    except BrokenPipeError:
        return EXIT_OUTPUT  # the parent closed our stdout: it is ending us
    except Exception:  # a bug: say it all, masked (a traceback may quote the URL)
        for line in traceback.format_exc().splitlines():
            _say(request.mask(line))
        _say("flv publisher: stopped by an unexpected error (see the lines above)")
        return EXIT_OUTPUT


if __name__ == "__main__":
    sys.exit(main())
