"""The hand-over of program frames from the mixer to the encoder.

The mixer must never wait for the encoder, and the encoder's ffmpeg must never be fed
half a frame. A :class:`FrameQueue` holds a few frames; when it is full the oldest is
dropped and counted. It outlives both actors, so a restarted encoder picks up the next
frame.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

from vistter.media.frames import Frame


@dataclass(frozen=True)
class ProgramFrame:
    """One program frame: its index on the program clock and its yuv420p bytes."""

    index: int
    frame: Frame


class FrameQueue:
    """Bounded, drop-oldest queue of program frames. Thread-safe.

    The mixer thread calls :meth:`put` (never blocks); the encoder's writer thread calls
    :meth:`get` (blocks up to a timeout).
    """

    def __init__(self, capacity: int = 4) -> None:
        if capacity < 1:
            raise ValueError("a frame queue needs room for at least one frame")
        self.capacity = capacity
        self._frames: deque[ProgramFrame] = deque()
        self._cond = threading.Condition()
        self._dropped = 0
        self._put = 0

    def put(self, item: ProgramFrame) -> None:
        with self._cond:
            if len(self._frames) >= self.capacity:
                self._frames.popleft()
                self._dropped += 1
            self._frames.append(item)
            self._put += 1
            self._cond.notify()

    def get(self, timeout: float) -> ProgramFrame | None:
        """The oldest frame, or None after ``timeout`` seconds (real time) without one."""
        with self._cond:
            if not self._frames:
                self._cond.wait(timeout)
            return self._frames.popleft() if self._frames else None

    def clear(self) -> None:
        with self._cond:
            self._frames.clear()

    @property
    def dropped(self) -> int:
        with self._cond:
            return self._dropped

    @property
    def frames_put(self) -> int:
        with self._cond:
            return self._put

    def __len__(self) -> int:
        with self._cond:
            return len(self._frames)
