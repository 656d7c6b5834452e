"""Restart intensity: OTP's "more than MaxR restarts in MaxT seconds"."""

from __future__ import annotations

from collections import deque


class RestartIntensity:
    """A sliding window of restart times. Used only from the supervisor's thread."""

    def __init__(self, intensity: int, period: float) -> None:
        self.intensity = intensity
        self.period = period
        self._restarts: deque[float] = deque()

    def add(self, now: float) -> bool:
        """Count a restart at ``now``. False when that makes more than ``intensity``
        restarts within ``period`` seconds: the supervisor must give up."""
        self._restarts.append(now)
        while self._restarts and now - self._restarts[0] > self.period:
            self._restarts.popleft()
        return len(self._restarts) <= self.intensity

    def times(self) -> tuple[float, ...]:
        """The restart times still in the window (a copy, for readers in other threads)."""
        return tuple(self._restarts)

    def recent(self, now: float) -> int:
        """How many restarts lie within the window ending at ``now``."""
        return sum(1 for t in self._restarts if now - t <= self.period)
