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

from vistter.actors.program.band import FrameBand
from vistter.media.frames import Frame, FrameFormat


@dataclass(frozen=True)
class ProgramFrame:
    """One program frame: its index on the program clock and its yuv420p pixels.

    The pixels are ``base`` (a whole yuv420p frame, often a camera's read-only slot frame;
    nobody ever writes it through a program frame) with, when ``band`` is set, the band's rows
    in place of the base's (luma rows ``[band.top, band.bottom)``, chroma rows
    ``[band.top // 2, band.bottom // 2)``). The mixer sends a band when it drew overlays on a
    camera frame without a transition, so it never copies the whole frame. Consumers read the
    pixels with :meth:`pixels` (a whole frame) or :meth:`segments` (byte views, no copy), never
    from ``base`` alone. Construction raises ``ValueError`` when the band is for a frame of
    another size than ``base``.
    """

    index: int
    base: Frame
    band: FrameBand | None = None

    def __post_init__(self) -> None:
        band = self.band
        if band is not None and self.base.shape != (band.fmt.frame_bytes,):
            raise ValueError(
                f"program frame {self.index}: base of shape {self.base.shape} does not fit a "
                f"band for {band.fmt.size} ({band.fmt.frame_bytes} bytes)"
            )

    @property
    def nbytes(self) -> int:
        """Bytes of the whole frame (the band replaces bytes, it adds none)."""
        return int(self.base.nbytes)

    def pixels(self) -> Frame:
        """The complete frame: ``base`` itself without a band (do not write it), else a new
        contiguous frame (base copied, band pasted). Copies a whole frame: for tests, the
        render and probes, not for the live encoder (see :meth:`segments`)."""
        band = self.band
        if band is None:
            return self.base
        frame = self.base.copy()
        (y0, y1), (u0, u1), (v0, v1) = band.spans()
        frame[y0:y1] = band.y.reshape(-1)
        frame[u0:u1] = band.u.reshape(-1)
        frame[v0:v1] = band.v.reshape(-1)
        return frame

    def segments(self, fmt: FrameFormat) -> list[memoryview]:
        """Byte views whose concatenation is exactly :meth:`pixels`, without copying: with a
        band, the base's Y rows above it, the band's Y, the base's Y rows below it, then the
        same for U and for V (empty views left out); without one, one view of ``base``. For
        ``os.writev``. Raises ``ValueError`` when the band is not for ``fmt``."""
        base = self.base.data.cast("B")
        band = self.band
        if band is None:
            return [base]
        if band.fmt != fmt:
            raise ValueError(
                f"program frame {self.index} has a band for {band.fmt.size}, not {fmt.size}"
            )
        plane_ends = (fmt.y_bytes, fmt.y_bytes + fmt.chroma_bytes, fmt.frame_bytes)
        out: list[memoryview] = []
        start = 0
        for (cut0, cut1), rows, end in zip(band.spans(), band.planes, plane_ends, strict=True):
            if cut0 > start:
                out.append(base[start:cut0])
            out.append(rows.data.cast("B"))
            if end > cut1:
                out.append(base[cut1:end])
            start = end
        return out


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
        self._latest: ProgramFrame | None = None

    def put(self, item: ProgramFrame) -> None:
        with self._cond:
            if len(self._frames) >= self.capacity:
                self._frames.popleft()
                self._dropped += 1
            self._frames.append(item)
            self._latest = item
            self._put += 1
            self._cond.notify()

    def get(self, timeout: float) -> ProgramFrame | None:
        """The oldest frame, or None after ``timeout`` seconds (real time) without one."""
        with self._cond:
            if not self._frames:
                self._cond.wait(timeout)
            return self._frames.popleft() if self._frames else None

    def latest(self) -> ProgramFrame | None:
        """The newest frame put (even once taken), or None; for the preview's JPEG. Never
        blocks beyond the lock; keeps one frame's buffer from being reused meanwhile."""
        with self._cond:
            return self._latest

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
