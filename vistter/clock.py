"""Injected time.

Every timeout, window, delay and heartbeat in Vistter reads a :class:`Clock`.
Production uses :class:`MonotonicClock`; tests use :class:`FakeClock`, whose time moves only
when the test calls :meth:`FakeClock.advance`, so restart windows and backoffs are exact.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

from vistter.timer_thread import TimerThread

logger = logging.getLogger(__name__)


class Timer(Protocol):
    """A pending call scheduled on a clock."""

    def cancel(self) -> None:
        """Stop the call from running; harmless if it already ran."""


class Clock(Protocol):
    """The source of time for everything that waits or measures."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards."""

    def wait(self, event: threading.Event, timeout: float) -> bool:
        """Block the calling thread until ``event`` is set (True) or ``timeout`` passes (False)."""

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        """Run ``callback`` once, ``delay`` seconds from now.

        The callback runs in a clock-owned thread (``MonotonicClock``) or in the thread that
        calls ``FakeClock.advance``. If it raises, the exception is logged and swallowed; the
        clock keeps working. Callbacks should only post a message to an actor.
        """


def _run_logged(callback: Callable[[], None]) -> None:
    try:
        callback()
    except Exception:
        logger.exception("clock callback %r raised", callback)


_TIMERS = TimerThread()
"""Every real clock's timers, on one thread per process (see :mod:`vistter.timer_thread`)."""


class MonotonicClock:
    """The real clock: ``time.monotonic`` and one shared timer thread."""

    def monotonic(self) -> float:
        return time.monotonic()

    def wait(self, event: threading.Event, timeout: float) -> bool:
        return event.wait(max(0.0, timeout))

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        return _TIMERS.call_later(delay, callback)


class _FakeTimer:
    def __init__(self) -> None:
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class FakeClock:
    """A clock for tests: time stands still until :meth:`advance` moves it.

    Thread-safe. ``wait`` returns as soon as the event is set, or once fake time has been
    advanced past its deadline.
    """

    def __init__(self, start: float = 1000.0) -> None:
        self._now = start
        self._cond = threading.Condition()
        self._timers: list[tuple[float, int, _FakeTimer, Callable[[], None]]] = []
        self._seq = itertools.count()

    def monotonic(self) -> float:
        with self._cond:
            return self._now

    def wait(self, event: threading.Event, timeout: float) -> bool:
        with self._cond:
            deadline = self._now + timeout
        while True:
            if event.is_set():
                return True
            with self._cond:
                if self._now >= deadline:
                    return event.is_set()
                self._cond.wait(0.005)

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        handle = _FakeTimer()
        with self._cond:
            heapq.heappush(
                self._timers, (self._now + max(0.0, delay), next(self._seq), handle, callback)
            )
        return handle

    def pending(self) -> int:
        """How many scheduled calls have neither run nor been cancelled."""
        with self._cond:
            return sum(1 for _, _, handle, _ in self._timers if not handle.cancelled)

    def advance(self, seconds: float) -> None:
        """Move time forward, running every call that falls due, in due order."""
        with self._cond:
            target = self._now + seconds
        while True:
            with self._cond:
                if not self._timers or self._timers[0][0] > target:
                    self._now = target
                    self._cond.notify_all()
                    return
                due, _, handle, callback = heapq.heappop(self._timers)
                self._now = max(self._now, due)
                self._cond.notify_all()
            if not handle.cancelled:
                _run_logged(callback)
