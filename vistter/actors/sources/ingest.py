"""Ingest: an ffmpeg that turns a camera or a file into raw program frames, and their reader.

:func:`camera_ingest_command` and :func:`file_ingest_command` build the command line: the
input (RTSP over TCP with a socket timeout, any other ffmpeg URL, a ``lavfi:`` test source
played in real time, or a looped file), then the program's size (scaled keeping the aspect
ratio, padded black) and rate, as raw yuv420p on stdout. A camera's credentials never go
into the argv (which every local user can read in ``/proc/<pid>/cmdline``): its URL with
``user:password@`` is given to ffmpeg on stdin as an ffconcat list
(:func:`vistter.media.secrets.concat_input`; :attr:`IngestCommand.stdin`), and its
:meth:`~IngestCommand.redactor` scrubs ffmpeg's own output.

:class:`FrameReader` is the thread that reads whole frames from the ingest's stdout into a
:class:`~vistter.media.frames.FrameSlot`; :class:`FrameStats` counts them.
"""

from __future__ import annotations

import collections
import logging
import os
import shlex
import subprocess
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import IO, Protocol, cast
from urllib.parse import urlsplit

from vistter.actors.sources.pacing import FramePacing
from vistter.clock import Clock
from vistter.media.frames import FrameFormat, FrameSlot, new_frame, read_frame_into
from vistter.media.secrets import concat_input
from vistter.media.stderr_tail import secret_scrubber
from vistter.models.cameras import CameraConfig
from vistter.models.redact import redact_url
from vistter.supervisors.secret_input import SecretInput

logger = logging.getLogger(__name__)

DEFAULT_SOCKET_TIMEOUT = 5.0
"""Seconds a network read may block before the ingest ffmpeg gives up and exits."""

_RTSP_SCHEMES = frozenset({"rtsp", "rtsps", "rtspt"})
_LIVE_PROBE = ("-fpsprobesize", "0")
"""A live camera's input is not probed for its frame rate (the program filter sets the rate):
ffmpeg otherwise holds back the first 20 frames to estimate it, so the first frame came
2.0-2.4 s after the connect on the loopback rig and the next 40 in a burst of stale ones;
without, 0.7-1.0 s and at a live pace. The codec is still probed (up to ffmpeg's default
5 s ``analyzeduration``): a camera whose first keyframe comes late is waited for."""
_NETWORK_SCHEMES = frozenset(
    {"http", "https", "rtmp", "rtmps", "rtmpt", "tcp", "tls", "udp", "rtp", "srt", "mmsh"}
)


@dataclass(frozen=True)
class IngestCommand:
    """An ingest command line. ``argv`` holds no secret; ``stdin`` is what the process must
    get as its stdin (a :class:`~vistter.media.secrets.SecretInput` with the camera's URL
    and credentials, else ``subprocess.DEVNULL``).

    ``args_for_log`` and ``display_url`` are safe to log, show and publish; ``secrets`` are
    the literal strings :meth:`redactor` removes from ffmpeg's output.
    """

    argv: tuple[str, ...] = field(repr=False)
    args_for_log: str
    display_url: str
    secrets: tuple[str, ...] = field(default=(), repr=False)
    stdin: int | SecretInput = field(default=subprocess.DEVNULL, repr=False)

    def redactor(self) -> Callable[[str], str]:
        """A function that removes URL credentials and this command's secrets from a line."""
        return secret_scrubber(self.secrets)


def program_video_filter(fmt: FrameFormat) -> str:
    """The filter graph that makes any video the program's format.

    Rate first (so a 60 fps camera is not scaled twice as often as needed), then scale
    keeping the aspect ratio to fit inside the program, pad with black to the exact size,
    square pixels, yuv420p.
    """
    w, h = fmt.width, fmt.height
    return (
        f"fps={fmt.fps},"
        f"scale={w}:{h}:force_original_aspect_ratio=decrease:force_divisible_by=2,"
        f"pad={w}:{h}:(ow-iw)/2:(oh-ih)/2:color=black,"
        "setsar=1,format=yuv420p"
    )


def raw_output_args(fmt: FrameFormat) -> list[str]:
    """Output options: the program's video only, raw yuv420p frames on stdout."""
    return [
        "-an", "-sn", "-dn",
        "-vf", program_video_filter(fmt),
        "-pix_fmt", "yuv420p",
        "-f", "rawvideo",
        "pipe:1",
    ]  # fmt: skip


def _head(ffmpeg_path: str, loglevel: str) -> list[str]:
    # -nostdin: no interactive keys from stdin (a camera's SecretInput there is read only
    # as the input list, ``-i pipe:0``).
    return [ffmpeg_path, "-hide_banner", "-nostdin", "-nostats", "-loglevel", loglevel]


def _scheme(url: str) -> str:
    try:
        return urlsplit(url).scheme.lower()
    except ValueError:
        return ""


def url_input_args(
    url: str,
    *,
    transport: str = "tcp",
    socket_timeout: float = DEFAULT_SOCKET_TIMEOUT,
    realtime: bool = True,
) -> list[str]:
    """Input options for an ffmpeg URL (which may contain credentials) and the ``-i``.

    RTSP gets ``-rtsp_transport`` and ``-timeout`` (socket I/O, microseconds) and no frame
    rate probe (see ``_LIVE_PROBE``); other network protocols get ``-rw_timeout``, so a
    camera that stops sending makes ffmpeg exit instead of waiting forever. A local file (not
    a live source) is played in real time (``-re``) unless ``realtime`` is False (the offline
    render reads it as fast as it is consumed).
    """
    micros = str(max(1, round(socket_timeout * 1_000_000)))
    scheme = _scheme(url)
    if scheme in _RTSP_SCHEMES:
        return ["-rtsp_transport", transport, "-timeout", micros, *_LIVE_PROBE, "-i", url]
    if scheme in _NETWORK_SCHEMES:
        return ["-rw_timeout", micros, "-i", url]
    return [*_realtime(realtime), "-i", url]


def secret_url_input_args(
    url: str, *, transport: str = "tcp", socket_timeout: float = DEFAULT_SOCKET_TIMEOUT
) -> tuple[list[str], SecretInput]:
    """Like :func:`url_input_args` for a network ``url`` holding credentials, but the URL
    and its options go to ffmpeg's stdin (the returned :class:`SecretInput`), not its argv.
    """
    micros = str(max(1, round(socket_timeout * 1_000_000)))
    if _scheme(url) in _RTSP_SCHEMES:
        # _LIVE_PROBE as the camera input's own option: on the concat demuxer's argv it would
        # not reach the camera (measured on a 720p30 camera with a password: first frame
        # 1.05 s without, 0.38 s with, as for a camera without a password)
        name, value = _LIVE_PROBE
        return concat_input(
            url, [("rtsp_transport", transport), ("timeout", micros), (name.lstrip("-"), value)]
        )
    return concat_input(url, [("rw_timeout", micros)])


def _realtime(realtime: bool) -> list[str]:
    return ["-re"] if realtime else []


def camera_ingest_command(
    ffmpeg_path: str,
    camera: CameraConfig,
    fmt: FrameFormat,
    *,
    socket_timeout: float = DEFAULT_SOCKET_TIMEOUT,
    loglevel: str = "error",
    realtime: bool = True,
) -> IngestCommand:
    """The ingest command line of ``camera``, scaled to ``fmt``.

    ``lavfi:<graph>`` becomes ``-re -f lavfi -i <graph>`` (a simulated camera, in real
    time). Any other URL is pulled as :func:`url_input_args` says; a camera with a
    ``username`` is pulled through :func:`secret_url_input_args` instead, with
    ``username``/``password`` inserted (:meth:`CameraConfig.authenticated_url`) in what
    goes to ffmpeg's stdin, never in its argv. With
    ``realtime=False`` (the offline render) no ``-re`` is added: a lavfi source or a file is
    produced as fast as its reader consumes it (a live network camera stays live).
    """
    stdin: int | SecretInput = subprocess.DEVNULL
    secrets: tuple[str, ...] = ()
    if camera.is_lavfi:
        inputs = [*_realtime(realtime), "-f", "lavfi", "-i", camera.lavfi_graph]
    elif camera.authenticated_url() != camera.url:
        inputs, stdin = secret_url_input_args(
            camera.authenticated_url(), transport=camera.transport, socket_timeout=socket_timeout
        )
        secrets = (camera.password.get_secret_value(),) if camera.password is not None else ()
    else:
        inputs = url_input_args(
            camera.url, transport=camera.transport, socket_timeout=socket_timeout,
            realtime=realtime,
        )  # fmt: skip
    argv = [*_head(ffmpeg_path, loglevel), *inputs, *raw_output_args(fmt)]
    return IngestCommand(
        argv=tuple(argv),
        args_for_log=_for_log(argv, secrets),
        display_url=camera.display_url,
        secrets=secrets,
        stdin=stdin,
    )


def file_ingest_command(
    ffmpeg_path: str,
    path: str | os.PathLike[str],
    fmt: FrameFormat,
    *,
    loop: bool = True,
    loglevel: str = "error",
    realtime: bool = True,
) -> IngestCommand:
    """A video file played in real time (``-re``), looped forever unless ``loop`` is False.

    With ``realtime=False`` (the offline render) the file is decoded as fast as its reader
    consumes the frames.
    """
    location = os.fspath(path)
    inputs = _realtime(realtime)
    if loop:
        inputs += ["-stream_loop", "-1"]
    inputs += ["-i", location]
    argv = [*_head(ffmpeg_path, loglevel), *inputs, *raw_output_args(fmt)]
    return IngestCommand(
        argv=tuple(argv), args_for_log=_for_log(argv, ()), display_url=redact_url(location)
    )


def _for_log(argv: Sequence[str], secrets: Sequence[str]) -> str:
    redact = secret_scrubber(secrets)
    return shlex.join(redact(arg) for arg in argv)


class FrameStats:
    """Frames received by a source across all its ingest processes, and the measured rate;
    each arrival is also given to ``pacing`` (see :mod:`vistter.actors.sources.pacing`).

    Thread-safety: :meth:`record` runs in reader threads; the others in any thread.
    """

    def __init__(self, window: int = 64, *, pacing: FramePacing | None = None) -> None:
        self._lock = threading.Lock()
        self._arrivals: collections.deque[float] = collections.deque(maxlen=window)
        self._count = 0
        self._pacing = pacing

    def record(self, now: float) -> float | None:
        """Count one frame arriving at ``now``; returns seconds since the previous one."""
        with self._lock:
            previous = self._arrivals[-1] if self._arrivals else None
            self._arrivals.append(now)
            self._count += 1
        if self._pacing is not None:
            self._pacing.record(now)
        return None if previous is None else now - previous

    @property
    def count(self) -> int:
        with self._lock:
            return self._count

    def last_arrival(self) -> float | None:
        with self._lock:
            return self._arrivals[-1] if self._arrivals else None

    def fps(self, now: float, horizon: float = 2.0) -> float:
        """Frames per second over the recent arrivals (0 when nothing came for ``horizon`` s)."""
        with self._lock:
            recent = [t for t in self._arrivals if now - t <= horizon]
        if len(recent) < 2 or recent[-1] <= recent[0]:
            return 0.0
        return (len(recent) - 1) / (recent[-1] - recent[0])


class _ReadableInto(Protocol):
    def readinto(self, buffer: memoryview, /) -> int | None: ...


class FrameReader:
    """A daemon thread reading whole raw frames from an ingest pipe into a slot.

    Every frame is read into a new buffer (``new_frame(fmt)``) and published; the slot never
    waits, so neither does the mixer. Callbacks run in the reader thread and must only post a
    message (to the owning actor):

    * ``on_flowing()`` when a frame arrives first, or after a gap of at least ``resume_gap``
      seconds (the source is back from a stall);
    * ``on_end()`` once at end of stream (the process exited or closed its stdout);
    * ``on_error(exc)`` once when reading or publishing raises unexpectedly (a bug): the
      owner must crash. After :meth:`stop`, errors and end of stream are expected and no
      callback runs.

    If a callback itself raises, the thread logs it and ends.
    """

    def __init__(
        self,
        stream: IO[bytes],
        fmt: FrameFormat,
        slot: FrameSlot,
        clock: Clock,
        stats: FrameStats,
        *,
        name: str,
        resume_gap: float,
        on_flowing: Callable[[], None],
        on_end: Callable[[], None],
        on_error: Callable[[BaseException], None],
    ) -> None:
        # A pipe from Popen is a binary file object: it has readinto (typeshed's IO lacks it).
        self._stream = cast(_ReadableInto, stream)
        self._fmt = fmt
        self._slot = slot
        self._clock = clock
        self._stats = stats
        self._resume_gap = resume_gap
        self._on_flowing = on_flowing
        self._on_end = on_end
        self._on_error = on_error
        self._stopping = threading.Event()
        self.frames = 0
        """Frames this reader published (written by the reader thread only)."""
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Tell the reader that its stream is being closed on purpose. Any thread."""
        self._stopping.set()

    def join(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for the thread to end; returns whether it has."""
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        try:
            self._read_until_end()
        except Exception as exc:
            if self._stopping.is_set():
                return
            logger.error("%s died", self._thread.name, exc_info=exc)
            self._notify(self._on_error, exc)

    def _read_until_end(self) -> None:
        while True:
            buffer = new_frame(self._fmt)
            if not read_frame_into(self._stream, buffer):
                if not self._stopping.is_set():
                    self._notify(self._on_end)
                return
            self._slot.publish(buffer)
            self.frames += 1
            gap = self._stats.record(self._clock.monotonic())
            if self.frames == 1 or (gap is not None and gap >= self._resume_gap):
                self._on_flowing()

    def _notify(self, callback: Callable[..., None], *args: object) -> None:
        try:
            callback(*args)
        except Exception:
            logger.exception("%s: callback %r raised", self._thread.name, callback)
