"""The render output: program frames, none dropped, encoded to an MP4 file.

:class:`LosslessFrameQueue` is the render's hand-over from the mixer: a
:class:`~vistter.actors.program.frame_queue.FrameQueue` (so the mixer takes it as is) whose ``put``
*waits* for room instead of dropping the oldest frame. Live, the mixer must never wait for the
encoder; in a render it must, or frames would be lost. :meth:`LosslessFrameQueue.close` wakes
a waiting ``put`` (the frame is discarded and counted), so a mixer being stopped is never
held up.

:class:`Mp4Writer` runs one ffmpeg (the bundled one) that reads raw yuv420p frames on stdin
and writes H.264 (libx264, ``-preset veryfast``, constant quality ``-crf``, yuv420p, a keyframe
every ``keyframe_interval`` s, no scene-cut keyframes) in an MP4 at the program's constant frame
rate: the file's frame ``i`` is program frame ``first_index + i`` and is stamped exactly
``i / fps`` s (the video track's time scale is a multiple of the frame rate). There is no audio
track by default (a render is for checking the picture); ``audio=True`` adds silent AAC as
long as the video. Constant quality rather than the live CBR profile: a render is checked
frame by frame, so it should not be starved of bits on a busy scene.

The file is written as ``FILE.partial`` and renamed to ``FILE`` only when ffmpeg has finished
cleanly with every frame, so a failed or cancelled render never leaves a truncated file that
looks complete.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from vistter.actors.encoder.command import audio_input_args, encode_argv
from vistter.actors.program.frame_queue import FrameQueue, ProgramFrame
from vistter.errors import OperatorError
from vistter.media.ffmpeg import FfmpegBinary
from vistter.media.frames import FrameFormat
from vistter.media.stderr_tail import StderrTail
from vistter.supervisors.processes import OwnedProcess, ProcessSet

logger = logging.getLogger(__name__)

DEFAULT_PRESET = "veryfast"
DEFAULT_CRF = 18
DEFAULT_KEYFRAME_INTERVAL = 2.0
PARTIAL_SUFFIX = ".partial"
_TIMESCALE_PER_FRAME = 1000
_GET_SLICE = 0.1


class RenderWriteError(OperatorError):
    """The render's output could not be written, or the program stopped delivering frames."""


class LosslessFrameQueue(FrameQueue):
    """A bounded program-frame queue that never drops: :meth:`put` waits for room.

    Threads: the mixer thread calls :meth:`put`; the writer (the render driver's thread) calls
    :meth:`get`; :meth:`close` from any thread. :attr:`dropped` is always 0; frames put after
    :meth:`close` are discarded and counted in :attr:`discarded`.
    """

    def __init__(self, capacity: int = 4) -> None:
        super().__init__(capacity)
        self._items: deque[ProgramFrame] = deque()
        self._room = threading.Condition()
        self._closed = False
        self._discarded = 0
        self._count = 0

    def put(self, item: ProgramFrame) -> None:
        """Append ``item``, waiting while the queue is full. Once closed, returns at once and
        discards it. Never raises."""
        with self._room:
            while len(self._items) >= self.capacity and not self._closed:
                self._room.wait()
            if self._closed:
                self._discarded += 1
                return
            self._items.append(item)
            self._count += 1
            self._room.notify_all()

    def get(self, timeout: float) -> ProgramFrame | None:
        """The oldest frame, or None after ``timeout`` seconds (real time) without one."""
        with self._room:
            if not self._items:
                self._room.wait_for(lambda: bool(self._items) or self._closed, timeout)
            if not self._items:
                return None
            item = self._items.popleft()
            self._room.notify_all()
            return item

    def close(self) -> None:
        """Wake every waiting ``put`` and ``get``; later puts are discarded. Idempotent."""
        with self._room:
            self._closed = True
            self._room.notify_all()

    @property
    def closed(self) -> bool:
        with self._room:
            return self._closed

    @property
    def discarded(self) -> int:
        """Frames put after :meth:`close` (not written anywhere)."""
        with self._room:
            return self._discarded

    def clear(self) -> None:
        with self._room:
            self._items.clear()
            self._room.notify_all()

    @property
    def dropped(self) -> int:
        return 0

    @property
    def frames_put(self) -> int:
        with self._room:
            return self._count

    def __len__(self) -> int:
        with self._room:
            return len(self._items)


@dataclass(frozen=True)
class RenderedFile:
    """A finished render: where, how many frames, at what rate and size."""

    path: Path
    frames: int
    fps: int
    width: int
    height: int
    first_index: int
    audio: bool
    encode_seconds: float

    @property
    def duration(self) -> float:
        """Seconds of program: ``frames / fps``."""
        return self.frames / self.fps


class Mp4Writer:
    """Encodes exactly ``frames`` program frames to ``path`` (see module doc).

    Threads: every method runs in the render driver's thread (one thread), except
    :meth:`abort`, which any thread may call. A stderr tail thread drains ffmpeg's stderr.
    Errors are :class:`RenderWriteError` with ffmpeg's last stderr line.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        fmt: FrameFormat,
        frames: int,
        *,
        ffmpeg: FfmpegBinary,
        processes: ProcessSet | None = None,
        first_index: int = 0,
        audio: bool = False,
        preset: str = DEFAULT_PRESET,
        crf: int = DEFAULT_CRF,
        keyframe_interval: float = DEFAULT_KEYFRAME_INTERVAL,
    ) -> None:
        if frames < 1:
            raise ValueError(f"a render needs at least one frame, got {frames}")
        if not 0 <= crf <= 51:
            raise ValueError(f"crf must be within 0..51, got {crf}")
        self.path = Path(path)
        self.partial_path = self.path.with_name(self.path.name + PARTIAL_SUFFIX)
        self.fmt = fmt
        self.frames = frames
        self.first_index = first_index
        self.audio = audio
        self._ffmpeg = ffmpeg
        self._processes = processes if processes is not None else ProcessSet()
        self._preset = preset
        self._crf = crf
        self._gop = max(1, round(keyframe_interval * fmt.fps))
        self._process: OwnedProcess | None = None
        self._tail: StderrTail | None = None
        self._written = 0
        self._started = 0.0
        self._done = False

    @property
    def frames_written(self) -> int:
        return self._written

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def command(self) -> list[str]:
        """The encoder's argv (no secrets in it): the one encode command with constant
        quality x264 and an MP4 file as output."""
        fmt = self.fmt
        video = [
            "-c:v", "libx264", "-preset", self._preset, "-crf", str(self._crf),
            "-pix_fmt", "yuv420p",
            "-g", str(self._gop), "-keyint_min", str(self._gop), "-sc_threshold", "0",
            "-video_track_timescale", str(fmt.fps * _TIMESCALE_PER_FRAME),
        ]  # fmt: skip
        audio = audio_input_args(None, duration=self.frames / fmt.fps) if self.audio else None
        output = ["-movflags", "+faststart", "-f", "mp4", "-y", str(self.partial_path)]
        return encode_argv(
            self._ffmpeg.path, fmt, video=video, audio=audio, output=output, loglevel="error"
        )

    def open(self) -> None:
        """Start the encoder (driver thread). Raises :class:`RenderWriteError` when the output
        folder does not exist."""
        if self._process is not None:
            raise RuntimeError("Mp4Writer.open() called twice")
        folder = self.path.parent
        if not folder.is_dir():
            raise RenderWriteError(
                f"the render's output folder {str(folder)!r} does not exist.",
                hint="Create the folder or give --out a path in an existing folder.",
            )
        process = self._processes.spawn(
            "render encoder",
            self.command(),
            args_for_log=f"ffmpeg render {self.fmt.size}@{self.fmt.fps} libx264 "
            f"{self._preset} crf {self._crf} -> {self.path.name}",
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self._process = process
        assert process.popen.stderr is not None
        self._tail = StderrTail(process.popen.stderr, name="vistter-render-encoder-stderr")
        self._started = time.monotonic()

    def write(self, item: ProgramFrame) -> None:
        """Write one program frame (driver thread). Frames must come in order, with no gap:
        anything else is a :class:`RenderWriteError` (a render that lost a frame is wrong)."""
        process = self._process
        if process is None or process.popen.stdin is None:
            raise RuntimeError("Mp4Writer.write() before open()")
        expected = self.first_index + self._written
        if item.index != expected:
            raise RenderWriteError(
                f"the render expected program frame {expected} but got {item.index}: a "
                "frame was lost or repeated.",
                hint="This is a bug in the render pipeline (the render queue must be "
                "lossless); please report it with the timeline.",
            )
        if self._written >= self.frames:
            raise RenderWriteError(
                f"the render was sized for {self.frames} frames; frame {item.index} is one "
                "too many.",
                hint="Stop writing after the requested duration.",
            )
        if item.base.shape != (self.fmt.frame_bytes,):
            raise ValueError(f"frame of shape {item.base.shape} is not {self.fmt.size}")
        segments = item.segments(self.fmt)  # the base's rows and the band's, no copy
        try:
            for segment in segments:
                process.popen.stdin.write(segment)
        except (BrokenPipeError, ValueError, OSError) as exc:
            raise self._encoder_failed(f"it stopped reading at frame {item.index} ({exc})") \
                from None
        self._written += 1

    def write_from(
        self,
        frames: FrameQueue,
        *,
        stall_timeout: float = 30.0,
        check: Callable[[], None] | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        """Write frames taken from ``frames`` until ``self.frames`` are written (driver
        thread). ``check()`` runs between waits and may raise to abort (a failed source, a
        dead mixer); ``progress(written)`` runs after every frame. Raises
        :class:`RenderWriteError` when no frame comes for ``stall_timeout`` real seconds."""
        waited = 0.0
        while self._written < self.frames:
            if check is not None:
                check()
            item = frames.get(timeout=_GET_SLICE)
            if item is None:
                waited += _GET_SLICE
                if waited >= stall_timeout:
                    raise RenderWriteError(
                        f"the program delivered no frame for {stall_timeout:g} s after "
                        f"{self._written} of {self.frames} frames.",
                        hint="A source or the mixer is stuck; see the log for which.",
                    )
                continue
            waited = 0.0
            self.write(item)
            del item
            if progress is not None:
                progress(self._written)

    def finish(self, timeout: float = 120.0) -> RenderedFile:
        """Close the encoder's input, wait for it to finish and rename the file into place
        (driver thread). Raises :class:`RenderWriteError` when frames are missing or ffmpeg
        fails; the partial file is removed then."""
        process = self._process
        if process is None or process.popen.stdin is None:
            raise RuntimeError("Mp4Writer.finish() before open()")
        if self._written != self.frames:
            self.abort()
            raise RenderWriteError(
                f"the render stopped after {self._written} of {self.frames} frames.",
                hint="See the error that stopped it above.",
            )
        with contextlib.suppress(BrokenPipeError, OSError, ValueError):
            process.popen.stdin.close()
        try:
            code = process.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.abort()
            raise RenderWriteError(
                f"the render encoder did not finish within {timeout:g} s of its last frame.",
                hint="The machine may be overloaded; try again or use a smaller program size.",
            ) from None
        if self._tail is not None:
            self._tail.join(2.0)
        if code != 0:
            raise self._encoder_failed(f"it exited with code {code}")
        self._processes.end(process)
        os.replace(self.partial_path, self.path)
        self._done = True
        return RenderedFile(
            path=self.path,
            frames=self._written,
            fps=self.fmt.fps,
            width=self.fmt.width,
            height=self.fmt.height,
            first_index=self.first_index,
            audio=self.audio,
            encode_seconds=time.monotonic() - self._started,
        )

    def abort(self) -> None:
        """End the encoder (by PID) and remove the partial file. Any thread; idempotent;
        never raises. Does nothing after a successful :meth:`finish`."""
        if self._done:
            return
        process = self._process
        if process is not None:
            self._processes.end(process, grace=1.0)
        with contextlib.suppress(OSError):
            self.partial_path.unlink(missing_ok=True)

    def _encoder_failed(self, how: str) -> RenderWriteError:
        self.abort()
        tail = self._tail
        if tail is not None:
            tail.join(1.0)
        last = tail.last_line() if tail is not None else ""
        return RenderWriteError(
            f"the render encoder failed: {how}{f' ({last})' if last else ''}.",
            hint="Check that the output folder is writable and has free space.",
        )
