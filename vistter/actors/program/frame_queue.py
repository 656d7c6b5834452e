"""The hand-over of program frames from the mixer to the encoder.

The mixer must never wait for the encoder, and the encoder's ffmpeg must never be fed
half a frame. A :class:`FrameQueue` holds a few frames; when it is full the oldest is
dropped and counted. It outlives both actors, so a restarted encoder picks up the next
frame.

No program frame is lost when the encoder restarts: the queue remembers the frames the
encoder took until the encoder *confirms* that their encoded bytes went on
(:meth:`FrameQueue.confirm`); while no encoder takes frames (:meth:`FrameQueue.hold`: its
ffmpeg died, the actor restarts) it keeps up to ``restart_capacity`` frames instead of its
normal few; and the next encoder :meth:`FrameQueue.rewind` s, which puts the taken but
unconfirmed frames back in front, so it encodes from the first frame the old one never
delivered. Memory: a kept frame is one yuv420p buffer, 1.38 MB at 720p (3.1 MB at 1080p),
so 2 s at 720p30 (60 frames) costs up to ~83 MB while the encoder restarts (less when
frames share a camera's buffer), and nothing in steady state.
"""

from __future__ import annotations

import threading
import time
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


CATCH_UP_SECONDS = 2.0
"""Seconds an encoder gets, after it starts taking frames again, to catch up with a backlog
kept while none took them; then the queue is back to its few frames (dropping the oldest)."""


class FrameQueue:
    """Bounded, drop-oldest queue of program frames. Thread-safe.

    The mixer thread calls :meth:`put` (never blocks); the encoder's writer thread calls
    :meth:`get` (blocks up to a timeout) and :meth:`hold`; its reader thread calls
    :meth:`confirm`; a starting encoder calls :meth:`rewind` (see the module doc).
    ``restart_capacity`` (at least ``capacity``) bounds the frames kept while held, and the
    taken frames remembered for a rewind.
    """

    def __init__(
        self,
        capacity: int = 4,
        *,
        restart_capacity: int | None = None,
        catch_up_seconds: float = CATCH_UP_SECONDS,
    ) -> None:
        if capacity < 1:
            raise ValueError("a frame queue needs room for at least one frame")
        self.capacity = capacity
        self.restart_capacity = max(capacity, restart_capacity or capacity)
        self._frames: deque[ProgramFrame] = deque()
        self._taken: deque[ProgramFrame] = deque()
        self._cond = threading.Condition()
        self._dropped = 0
        self._put = 0
        self._latest: ProgramFrame | None = None
        self._limit = capacity
        self._held = False
        self._confirmed = -1
        self._rewound = 0
        self._confirming = False
        self.catch_up_seconds = catch_up_seconds
        self._released_at: float | None = None

    def put(self, item: ProgramFrame) -> None:
        with self._cond:
            released = self._released_at
            if released is not None and time.monotonic() - released > self.catch_up_seconds:
                self._released_at = None  # an encoder slower than the program never
                self._limit = self.capacity  # catches up: back to the few frames
            while len(self._frames) >= self._limit:
                self._frames.popleft()
                self._dropped += 1
            self._frames.append(item)
            self._latest = item
            self._put += 1
            self._cond.notify()

    def get(self, timeout: float) -> ProgramFrame | None:
        """The oldest frame, or None after ``timeout`` seconds (real time) without one. The
        frame is remembered as taken until :meth:`confirm` covers it."""
        with self._cond:
            if not self._frames:
                self._cond.wait(timeout)
            if not self._frames:
                return None
            item = self._frames.popleft()
            if not self._held and len(self._frames) <= self.capacity:
                self._limit = self.capacity  # a backlog kept across a restart is caught up
                self._released_at = None
            if self._confirming:  # only an encoder that confirms needs them remembered
                self._taken.append(item)
                if len(self._taken) > self.restart_capacity:
                    self._taken.popleft()
            return item

    def confirm(self, index: int) -> None:
        """The encoded bytes of every taken frame up to ``index`` went on: forget them.
        Encoder's reader thread."""
        with self._cond:
            self._confirming = True
            self._confirmed = max(self._confirmed, index)
            while self._taken and self._taken[0].index <= index:
                self._taken.popleft()

    def hold(self) -> None:
        """No encoder takes frames now (its ffmpeg died, it stops): keep up to
        ``restart_capacity`` frames, dropping the oldest beyond. Any thread; idempotent."""
        with self._cond:
            self._held = True
            self._released_at = None
            self._limit = self.restart_capacity

    def release(self) -> None:
        """An encoder takes frames again (its ffmpeg produces output): stop holding; the
        bound returns to ``capacity`` once the backlog is caught up (in :meth:`get`)."""
        with self._cond:
            if self._held:
                self._released_at = time.monotonic()
            self._held = False

    def rewind(self) -> int:
        """A new encoder starts: the frames taken but never confirmed go back in front (in
        order, not those already confirmed). The queue goes on holding until
        :meth:`release`. Returns how many frames went back. Encoder's actor thread."""
        with self._cond:
            back = [f for f in self._taken if f.index > self._confirmed]
            self._taken.clear()
            queued = {f.index for f in self._frames}
            back = [f for f in back if f.index not in queued]
            self._frames.extendleft(reversed(back))
            while len(self._frames) > self.restart_capacity:
                self._frames.popleft()
                self._dropped += 1
            self._held = True
            self._limit = self.restart_capacity
            self._confirming = True  # an encoder that confirms takes from now on
            self._rewound += len(back)
            return len(back)

    def next_index(self) -> int:
        """The program index of the next frame :meth:`get` returns: the oldest queued, else
        the one after the newest put (0 before any)."""
        with self._cond:
            if self._frames:
                return self._frames[0].index
            return self._latest.index + 1 if self._latest is not None else 0

    @property
    def held(self) -> bool:
        with self._cond:
            return self._held

    @property
    def rewound(self) -> int:
        """Frames put back by :meth:`rewind` so far (encoded again by a new encoder)."""
        with self._cond:
            return self._rewound

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
