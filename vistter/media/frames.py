"""Raw program frames: their format, the latest-frame slot, plane views and pipe reading.

A program frame is one raw **yuv420p** picture in a 1-D ``uint8`` numpy array of
``FrameFormat.frame_bytes`` bytes: the full-size Y plane, then the quarter-size U and V
planes. Camera ingest processes write exactly this layout on their stdout, and the encoder
reads it on its stdin, so a frame moves from pipe to slot to mixer to pipe with no
conversion.

Colours are limited (TV) range BT.601, like ffmpeg's default: black is Y=16, U=V=128.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from vistter.clock import Clock
from vistter.errors import ConfigError

Frame = npt.NDArray[np.uint8]
"""One raw yuv420p frame: a 1-D ``uint8`` array of ``FrameFormat.frame_bytes`` bytes."""

Plane = npt.NDArray[np.uint8]
"""A 2-D view of one plane of a frame (rows, columns)."""

BLACK_Y = 16
"""Luma of black in limited range."""
NEUTRAL_CHROMA = 128
"""Chroma (U and V) of every grey, black and white."""


@dataclass(frozen=True, slots=True)
class FrameFormat:
    """Size and rate of the program: every source is scaled to it before it reaches a slot.

    Both dimensions must be even (yuv420p has one chroma sample per 2x2 pixels).
    """

    width: int
    height: int
    fps: int

    def __post_init__(self) -> None:
        for name, value in (("width", self.width), ("height", self.height)):
            if not isinstance(value, int) or value <= 0 or value % 2:
                raise ConfigError(
                    f"program {name} {value!r} is not a positive even number of pixels.",
                    hint="Use an even size such as 1280x720 or 1920x1080 (yuv420p needs it).",
                )
        if not isinstance(self.fps, int) or not 1 <= self.fps <= 240:
            raise ConfigError(
                f"program frame rate {self.fps!r} is not a whole number between 1 and 240.",
                hint="Use a standard whole rate such as 25 or 30 frames per second.",
            )

    @property
    def y_bytes(self) -> int:
        """Size of the Y plane (width x height)."""
        return self.width * self.height

    @property
    def chroma_width(self) -> int:
        return self.width // 2

    @property
    def chroma_height(self) -> int:
        return self.height // 2

    @property
    def chroma_bytes(self) -> int:
        """Size of one chroma plane (U or V)."""
        return self.chroma_width * self.chroma_height

    @property
    def frame_bytes(self) -> int:
        """Size of one whole yuv420p frame: width * height * 3 // 2."""
        return self.width * self.height * 3 // 2

    @property
    def frame_duration(self) -> float:
        """Seconds between two frames."""
        return 1.0 / self.fps

    @property
    def size(self) -> str:
        """``WIDTHxHEIGHT`` as ffmpeg's ``-s`` / ``-video_size`` options want it."""
        return f"{self.width}x{self.height}"


def new_frame(fmt: FrameFormat) -> Frame:
    """A new, uninitialised, writable frame buffer of ``fmt.frame_bytes`` bytes."""
    return np.empty(fmt.frame_bytes, dtype=np.uint8)


def planes(frame: Frame, fmt: FrameFormat) -> tuple[Plane, Plane, Plane]:
    """The Y, U and V planes of ``frame`` as 2-D views (no copy).

    Writing into a view writes into the frame, unless the frame is read-only (published).
    """
    if frame.shape != (fmt.frame_bytes,):
        raise ValueError(
            f"frame has shape {frame.shape}, expected ({fmt.frame_bytes},) for {fmt.size}"
        )
    y_end = fmt.y_bytes
    u_end = y_end + fmt.chroma_bytes
    chroma_shape = (fmt.chroma_height, fmt.chroma_width)
    y = frame[:y_end].reshape(fmt.height, fmt.width)
    u = frame[y_end:u_end].reshape(chroma_shape)
    v = frame[u_end:].reshape(chroma_shape)
    return y, u, v


def solid_frame(fmt: FrameFormat, y: int, u: int, v: int) -> Frame:
    """A new frame of one limited-range YUV colour (see :func:`vistter.media.yuv.rgb_to_yuv`)."""
    for name, value in (("y", y), ("u", u), ("v", v)):
        if not 0 <= value <= 255:
            raise ValueError(f"{name}={value} is outside 0..255")
    frame = new_frame(fmt)
    frame[: fmt.y_bytes] = y
    frame[fmt.y_bytes : fmt.y_bytes + fmt.chroma_bytes] = u
    frame[fmt.y_bytes + fmt.chroma_bytes :] = v
    return frame


def black_frame(fmt: FrameFormat) -> Frame:
    """A new limited-range black frame: Y=16, U=V=128."""
    return solid_frame(fmt, BLACK_Y, NEUTRAL_CHROMA, NEUTRAL_CHROMA)


class _ReadableInto(Protocol):
    def readinto(self, buffer: memoryview, /) -> int | None: ...


def read_frame_into(stream: _ReadableInto, buf: Frame) -> bool:
    """Fill ``buf`` completely from a blocking binary stream (a pipe), looping over short reads.

    Returns True when the buffer is full, False at end of stream. A truncated last frame (end
    of stream part-way through) also returns False; its bytes are not a frame. Runs in the
    calling thread (a camera's reader thread) and blocks until the frame is complete. Raises
    ``ValueError`` if the stream is non-blocking and has no data (``readinto`` returned None),
    and whatever the stream raises (``OSError`` when the pipe breaks).
    """
    view = buf.data.cast("B")
    total = view.nbytes
    filled = 0
    while filled < total:
        count = stream.readinto(view[filled:])
        if count is None:
            raise ValueError("read_frame_into needs a blocking stream; readinto returned None")
        if count == 0:
            return False
        filled += count
    return True


@dataclass(frozen=True, slots=True)
class SlotFrame:
    """One frame published to a :class:`FrameSlot`.

    ``frame`` is read-only; ``seq`` counts publications from 1; ``arrived`` is the
    ``Clock.monotonic()`` time of publication.
    """

    frame: Frame
    seq: int
    arrived: float


class FrameSlot:
    """The latest frame of one source. Holds a reference only; never blocks its users.

    Threads: a source's reader thread calls :meth:`publish`; the mixer thread calls
    :meth:`latest`, :meth:`age` or (offline render, lock-step) :meth:`wait_newer`. Any thread
    may call :meth:`close`. All methods hold an internal lock only for a reference swap.

    A published frame is marked read-only and must never be written again: the reader
    reads each new frame into a fresh buffer (``new_frame(fmt)``) and publishes that. The
    mixer may keep using a frame it got from the slot for as long as it likes.
    """

    def __init__(self, fmt: FrameFormat, clock: Clock) -> None:
        self.fmt = fmt
        self._clock = clock
        self._lock = threading.Lock()
        self._current: SlotFrame | None = None
        self._seq = 0
        self._closed = False
        self._published = threading.Event()

    def publish(self, frame: Frame) -> int:
        """Make ``frame`` the latest frame and return its sequence number.

        Runs in the reader thread; O(1). Raises ``ValueError`` when the frame does not have
        the slot's format (a bug in the reader, so it crashes the reader's actor).
        """
        if frame.dtype != np.uint8 or frame.shape != (self.fmt.frame_bytes,):
            raise ValueError(
                f"frame of dtype {frame.dtype} and shape {frame.shape} does not fit a "
                f"{self.fmt.size} yuv420p slot of {self.fmt.frame_bytes} bytes"
            )
        frame.flags.writeable = False
        arrived = self._clock.monotonic()
        with self._lock:
            self._seq += 1
            seq = self._seq
            self._current = SlotFrame(frame, seq, arrived)
            published, self._published = self._published, threading.Event()
        published.set()
        return seq

    def latest(self) -> SlotFrame | None:
        """The latest frame, or None if nothing was published yet. Never blocks."""
        with self._lock:
            return self._current

    def wait_newer(self, than_seq: int, timeout: float) -> SlotFrame | None:
        """The latest frame once its ``seq`` is greater than ``than_seq``.

        Waits at most ``timeout`` seconds of the slot's clock; returns None on timeout, or at
        once when the slot is closed and holds nothing newer. For the offline render, which
        reads its sources in lock-step; the live mixer uses :meth:`latest`.
        """
        deadline = self._clock.monotonic() + timeout
        while True:
            with self._lock:
                current = self._current
                if current is not None and current.seq > than_seq:
                    return current
                if self._closed:
                    return None
                published = self._published
            remaining = deadline - self._clock.monotonic()
            if remaining <= 0:
                return None
            self._clock.wait(published, remaining)

    def age(self, now: float) -> float | None:
        """Seconds since the latest frame arrived (``now`` from the same clock); None if none."""
        with self._lock:
            current = self._current
        return None if current is None else max(0.0, now - current.arrived)

    def close(self) -> None:
        """Mark the source ended: wakes :meth:`wait_newer` waiters. The last frame stays."""
        with self._lock:
            self._closed = True
            published = self._published
        published.set()

    @property
    def closed(self) -> bool:
        with self._lock:
            return self._closed
