"""Render-mode sources: the configured inputs, read one frame per program frame.

Plain objects driven by the :class:`~vistter.render.lockstep.LockStep` barrier, not actors:
a render is one short-lived, single-purpose run with nothing to supervise or restart (any
failure ends the render with an error naming the source), and the barrier must call into
the source synchronously from the mixer thread, which a mailbox would only slow down.

* :class:`IngestRenderSource`: an ingest ffmpeg (the live path's command line, built by
  :mod:`vistter.actors.sources.ingest`, **without** ``-re``) writing raw program frames on a pipe. A
  reader thread keeps at most ``read_ahead`` frames; when they are not taken, it stops
  reading and the full pipe stalls ffmpeg, so the source runs exactly as fast as the render.
  Built by :func:`camera_render_source` (a ``lavfi:`` simulated camera, or any URL: an RTSP
  camera works but is live, so not deterministic) and :func:`video_file_render_source`
  (looped forever).
* :class:`StaticRenderSource`: a still image or the slate: the same frame, published again
  for every program frame. Built by :func:`still_render_source` and
  :func:`slate_render_source`.

Processes are started through a :class:`~vistter.supervisors.processes.ProcessSet` (the source's
own, or one handed in, e.g. the render driver's) and ended by PID when the source closes.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, cast

from vistter.actors.sources.files import MediaSourceError, load_image, render_slate
from vistter.actors.sources.ingest import IngestCommand, camera_ingest_command, file_ingest_command
from vistter.actors.sources.table import (
    SLATE_SOURCE_ID,
    SourceState,
    SourceTable,
    camera_source_id,
    media_source_id,
)
from vistter.media.ffmpeg import FfmpegBinary
from vistter.media.frames import Frame, FrameFormat, FrameSlot, new_frame, read_frame_into
from vistter.media.stderr_tail import StderrTail
from vistter.media.yuv import Fit, fit_image, image_to_frame
from vistter.models.cameras import CameraConfig
from vistter.render.lockstep import WAIT_SLICE, Delivery, SourceEndedError
from vistter.render.payloads import RenderSourceStatus
from vistter.supervisors.processes import OwnedProcess, ProcessSet

logger = logging.getLogger(__name__)

DEFAULT_READ_AHEAD = 2
"""Frames an ingest render source reads ahead of the program (besides the pipe's buffer)."""

_JOIN_SECONDS = 3.0


class _ReadableInto(Protocol):
    def readinto(self, buffer: memoryview, /) -> int | None: ...


@dataclass(frozen=True)
class _StreamEnded:
    """Put by the reader thread after the last frame: the process's exit or the reader's
    error."""

    exit_code: int | None
    error: BaseException | None = None


class IngestRenderSource:
    """An ingest ffmpeg read in lock-step (see module doc).

    Threads: a reader thread (``vistter-render-<source>``) reads whole frames from ffmpeg's
    stdout into a bounded queue and ends at end of stream, putting a marker that makes the
    next :meth:`advance_to` raise :class:`SourceEndedError` (an unexpected read error is
    reported the same way, so a dead reader never goes unnoticed). A stderr tail thread drains
    ffmpeg's stderr (last 20 lines, credentials scrubbed) for the error message.
    """

    def __init__(
        self,
        source_id: str,
        command: IngestCommand,
        fmt: FrameFormat,
        sources: SourceTable,
        *,
        processes: ProcessSet | None = None,
        read_ahead: int = DEFAULT_READ_AHEAD,
    ) -> None:
        if read_ahead < 1:
            raise ValueError(f"read_ahead must be at least 1 frame, got {read_ahead}")
        if sources.fmt != fmt:
            raise ValueError(f"source table is {sources.fmt}, the render source {fmt}")
        self._id = source_id
        self._command = command
        self._fmt = fmt
        self._sources = sources
        self._slot: FrameSlot = sources.slot(source_id)
        self._processes = processes if processes is not None else ProcessSet()
        self._frames: queue.Queue[Frame | _StreamEnded] = queue.Queue(maxsize=read_ahead)
        self._stopping = threading.Event()
        self._process: OwnedProcess | None = None
        self._reader: threading.Thread | None = None
        self._tail: StderrTail | None = None
        self._next = 0  # the source frame number the next frame taken from the queue has
        self._published: int | None = None
        self._ended: SourceEndedError | None = None
        self._frames_read = 0
        self._skipped = 0

    @property
    def source_id(self) -> str:
        return self._id

    @property
    def pid(self) -> int | None:
        """PID of the ingest ffmpeg once started."""
        return None if self._process is None else self._process.pid

    def describe(self) -> str:
        return self._command.display_url

    # -- driver thread ----------------------------------------------------------------------

    def start(self) -> None:
        """Spawn the ingest ffmpeg and the reader and stderr threads (driver thread)."""
        if self._process is not None:
            raise RuntimeError(f"render source {self._id} started twice")
        self._sources.set_health(self._id, SourceState.CONNECTING, "render: starting ingest")
        process = self._processes.spawn(
            f"render ingest {self._id}",
            self._command.argv,
            args_for_log=self._command.args_for_log,
            stdin=self._command.stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self._process = process
        assert process.popen.stdout is not None and process.popen.stderr is not None
        self._tail = StderrTail(process.popen.stderr, name=f"vistter-render-stderr-{self._id}",
                                redact=self._command.redactor())
        self._reader = threading.Thread(
            target=self._read, args=(process,), name=f"vistter-render-{self._id}", daemon=True
        )
        self._reader.start()

    def close(self) -> None:
        """End the reader and the ffmpeg (by PID). Any thread; idempotent; never raises."""
        self._stopping.set()
        process = self._process
        if process is not None:
            self._processes.end(process, grace=1.0)
        self._drain()  # a reader blocked on a full queue wakes and sees it must stop
        reader = self._reader
        if reader is not None and reader is not threading.current_thread():
            reader.join(_JOIN_SECONDS)
            if reader.is_alive():
                logger.warning("render reader of %s did not stop", self._id)
        if self._tail is not None:
            self._tail.join(_JOIN_SECONDS)
        if self._published is not None or process is not None:
            self._sources.set_health(self._id, SourceState.OFFLINE, "render ended")

    # -- mixer thread -----------------------------------------------------------------------

    def advance_to(
        self, frame: int, *, deadline: float, cancelled: threading.Event
    ) -> Delivery:
        """Publish source frame ``frame`` (see :class:`~vistter.render.lockstep.RenderSource`).

        Runs in the mixer thread. Raises :class:`SourceEndedError` once the stream ended."""
        if self._published is not None and frame <= self._published:
            return Delivery.DELIVERED
        while True:
            if self._ended is not None:
                raise self._ended
            if cancelled.is_set():
                return Delivery.CANCELLED
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return Delivery.TIMED_OUT
            try:
                item = self._frames.get(timeout=min(remaining, WAIT_SLICE))
            except queue.Empty:
                continue
            if isinstance(item, _StreamEnded):
                self._ended = self._ended_error(item)
                self._sources.set_health(self._id, SourceState.OFFLINE, self._ended.problem)
                raise self._ended
            number = self._next
            self._next += 1
            if number < frame:
                self._skipped += 1
                continue
            self._slot.publish(item)
            if self._published is None:
                self._sources.set_health(self._id, SourceState.ONLINE, "render: lock-step")
            self._published = number
            return Delivery.DELIVERED

    def status(self) -> RenderSourceStatus:
        return {
            "source_id": self._id,
            "input": self._command.display_url,
            "pid": self.pid,
            "frames_read": self._frames_read,
            "published": None if self._published is None else self._published + 1,
            "skipped": self._skipped,
            "ended": None if self._ended is None else self._ended.problem,
        }

    # -- the reader thread ------------------------------------------------------------------

    def _read(self, process: OwnedProcess) -> None:
        """Reader thread body. Never raises: the end (or an error) is queued as a marker."""
        marker: _StreamEnded
        scratch: Frame | None = None
        try:
            stream = cast(_ReadableInto, process.popen.stdout)
            while True:
                if self._stopping.is_set():
                    # Keep draining until end of stream: an ffmpeg blocked on a full pipe
                    # could not act on the SIGTERM that is ending it.
                    scratch = scratch if scratch is not None else new_frame(self._fmt)
                    if not read_frame_into(stream, scratch):
                        return
                    continue
                buffer = new_frame(self._fmt)
                if not read_frame_into(stream, buffer):
                    break
                self._frames_read += 1
                self._put(buffer)
            code = _exit_code(process)
            marker = _StreamEnded(code)
        except Exception as exc:
            if self._stopping.is_set():
                return
            logger.exception("render reader of %s died", self._id)
            marker = _StreamEnded(None, exc)
        if not self._stopping.is_set():
            self._put(marker)

    def _put(self, item: Frame | _StreamEnded) -> bool:
        """Queue ``item``, waiting for room; False (not queued) when the source is closing."""
        while not self._stopping.is_set():
            try:
                self._frames.put(item, timeout=WAIT_SLICE)
            except queue.Full:
                continue
            return True
        return False

    def _drain(self) -> None:
        with contextlib.suppress(queue.Empty):
            while True:
                self._frames.get_nowait()

    def _ended_error(self, ended: _StreamEnded) -> SourceEndedError:
        tail = self._tail
        if tail is not None:
            tail.join(1.0)
        last = tail.last_line() if tail is not None else ""
        frames = self._frames_read
        if ended.error is not None:
            how = f"its reader failed: {type(ended.error).__name__}: {ended.error}"
        elif ended.exit_code is None:
            how = "its ffmpeg closed its output"
        else:
            how = f"its ffmpeg exited with code {ended.exit_code}"
        detail = f" ({last})" if last else ""
        return SourceEndedError(
            f"render source {self._id} ({self.describe()}) ended after {frames} frames: "
            f"{how}{detail}.",
            hint="A simulated camera or a looped file never ends by itself: check that the "
            "input exists and decodes (ffmpeg -i INPUT -f null -), or that the camera is "
            "reachable.",
            source_id=self._id,
        )


def _exit_code(process: OwnedProcess) -> int | None:
    try:
        return process.popen.wait(timeout=2.0)
    except subprocess.TimeoutExpired:
        return None


class StaticRenderSource:
    """A still or the slate: one frame, published again for every program frame."""

    def __init__(
        self, source_id: str, frame: Frame, sources: SourceTable, *, description: str
    ) -> None:
        if frame.shape != (sources.fmt.frame_bytes,):
            raise ValueError(f"frame of shape {frame.shape} does not fit {sources.fmt}")
        frame.flags.writeable = False
        self._id = source_id
        self._frame = frame
        self._sources = sources
        self._slot = sources.slot(source_id)
        self._description = description
        self._published: int | None = None

    @property
    def source_id(self) -> str:
        return self._id

    @property
    def frame(self) -> Frame:
        """The (read-only) frame this source shows."""
        return self._frame

    def describe(self) -> str:
        return self._description

    def start(self) -> None:
        """Driver thread: mark the source online (it has nothing to spawn)."""
        self._sources.set_health(self._id, SourceState.ONLINE, f"render: {self._description}")

    def advance_to(
        self, frame: int, *, deadline: float, cancelled: threading.Event
    ) -> Delivery:
        """Mixer thread: publish the frame again (a new slot sequence number); never waits."""
        if self._published is None or frame > self._published:
            self._slot.publish(self._frame)
            self._published = frame
        return Delivery.DELIVERED

    def close(self) -> None:
        self._sources.set_health(self._id, SourceState.OFFLINE, "render ended")

    def status(self) -> RenderSourceStatus:
        return {
            "source_id": self._id,
            "input": self._description,
            "published": None if self._published is None else self._published + 1,
        }


# -- builders ---------------------------------------------------------------------------------


def camera_render_source(
    camera: CameraConfig,
    fmt: FrameFormat,
    sources: SourceTable,
    *,
    ffmpeg: FfmpegBinary,
    processes: ProcessSet | None = None,
    read_ahead: int = DEFAULT_READ_AHEAD,
) -> IngestRenderSource:
    """The render source of a configured camera (``camera:<id>``): its live ingest command
    line without ``-re``. Deterministic for ``lavfi:`` cameras; an RTSP camera is live."""
    command = camera_ingest_command(ffmpeg.path, camera, fmt, realtime=False)
    return IngestRenderSource(camera_source_id(camera.id), command, fmt, sources,
                              processes=processes, read_ahead=read_ahead)


def video_file_render_source(
    path: str | os.PathLike[str],
    fmt: FrameFormat,
    sources: SourceTable,
    *,
    ffmpeg: FfmpegBinary,
    source_id: str | None = None,
    loop: bool = True,
    processes: ProcessSet | None = None,
    read_ahead: int = DEFAULT_READ_AHEAD,
) -> IngestRenderSource:
    """A video file (``media:<path>`` unless ``source_id`` is given), decoded as fast as the
    render takes it and looped forever. Raises :class:`MediaSourceError` if it is missing."""
    location = Path(path)
    if not location.is_file():
        raise MediaSourceError(
            f"video file {str(location)!r} does not exist or is not a file.",
            hint="Check the path in the configuration or timeline.",
        )
    command = file_ingest_command(ffmpeg.path, location, fmt, loop=loop, realtime=False)
    sid = source_id if source_id is not None else media_source_id(os.fspath(path))
    return IngestRenderSource(sid, command, fmt, sources, processes=processes,
                              read_ahead=read_ahead)


def still_render_source(
    path: str | os.PathLike[str],
    fmt: FrameFormat,
    sources: SourceTable,
    *,
    source_id: str | None = None,
    fit: Fit = "contain",
) -> StaticRenderSource:
    """A still image (``media:<path>`` unless ``source_id`` is given), converted once the
    way the live :class:`~vistter.actors.sources.files.StillSource` does. Raises
    :class:`MediaSourceError` for a missing or unreadable image."""
    frame = image_to_frame(load_image(path), fmt, fit)
    sid = source_id if source_id is not None else media_source_id(os.fspath(path))
    return StaticRenderSource(sid, frame, sources, description=f"still {Path(path).name}")


def slate_render_source(
    image_path: str | os.PathLike[str],
    fmt: FrameFormat,
    sources: SourceTable,
    *,
    message: str | None = None,
) -> StaticRenderSource:
    """The slate (``slate``) with an optional message, drawn as the live
    :class:`~vistter.actors.sources.files.SlateSource` draws it."""
    background = fit_image(load_image(image_path), fmt.width, fmt.height, "contain")
    frame = image_to_frame(render_slate(background, message or None), fmt)
    return StaticRenderSource(SLATE_SOURCE_ID, frame, sources, description="slate")


__all__ = [
    "DEFAULT_READ_AHEAD",
    "IngestRenderSource",
    "StaticRenderSource",
    "camera_render_source",
    "slate_render_source",
    "still_render_source",
    "video_file_render_source",
]
