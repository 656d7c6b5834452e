"""Frame pacing: whether frames arrive like a live camera's, not as a burst of old ones.

After a camera stalls, its ingest ffmpeg may flush the frames it buffered (and the ``fps``
filter may duplicate the last one to fill the gap) when its own timeout fires: dozens of
frames in a few milliseconds, then nothing. Those frames are not life. A source is back
from a stall only when frames have kept arriving for ``window`` seconds of real time, with
no gap longer than ``max_gap``, and no faster than the program's rate allows (``fps`` with
a tolerance): a burst fails the rate check while it lasts and the gap check after it.

Thread-safety: :meth:`FramePacing.record` runs in a frame reader thread; :meth:`steady`
in the owning actor's thread. Nothing here raises.
"""

from __future__ import annotations

import collections
import itertools
import threading

__all__ = ["FramePacing"]


class FramePacing:
    """Frame arrivals of the last ``window + max_gap`` seconds, and the steadiness test."""

    def __init__(
        self, fps: float, *, window: float, max_gap: float, burst_factor: float = 1.5
    ) -> None:
        if fps <= 0 or window <= 0 or max_gap <= 0 or burst_factor < 1:
            raise ValueError("fps, window and max_gap must be > 0 and burst_factor >= 1")
        self.fps = float(fps)
        self.window = float(window)
        self.max_gap = float(max_gap)
        self._most = burst_factor * self.fps * self.window + 2
        self._lock = threading.Lock()
        self._arrivals: collections.deque[float] = collections.deque()

    def record(self, now: float) -> None:
        """One frame arrived at ``now`` (a monotonic reading). Reader thread."""
        with self._lock:
            self._arrivals.append(now)
            self._prune(now)

    def steady(self, now: float) -> bool:
        """Whether frames arrived at a live pace throughout the last ``window`` seconds.

        True when the newest frame is at most ``max_gap`` old, frames covered the whole
        window with no gap above ``max_gap``, and the window holds no more frames than
        ``burst_factor`` times the expected rate (a flushed buffer delivers far more)."""
        with self._lock:
            self._prune(now)
            start = now - self.window
            recent = [t for t in self._arrivals if t >= start - self.max_gap]
        if not recent or now - recent[-1] > self.max_gap or recent[0] > start:
            return False
        if any(b - a > self.max_gap for a, b in itertools.pairwise(recent)):
            return False
        return sum(1 for t in recent if t > start) <= self._most

    def _prune(self, now: float) -> None:
        horizon = now - self.window - 2 * self.max_gap
        while self._arrivals and self._arrivals[0] < horizon:
            self._arrivals.popleft()
