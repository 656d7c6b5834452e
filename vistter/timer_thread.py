"""One thread that runs every :class:`~vistter.clock.MonotonicClock` timer.

``threading.Timer`` starts a thread per call; every actor's tick (metrics, health, stall
checks: several a second across the tree) did, all day. Each start and exit takes the GIL
and the interpreter's thread lock, and a profile of the mixer's late ticks under load showed
timer threads among the GIL's holders. A :class:`TimerThread` keeps the due calls in a heap
and sleeps on a condition until the next one is due or an earlier one is added.

Callbacks run in the timer thread, one after another: they must be quick (the only caller,
``SupervisedActor.post_later``, posts a message to an actor). One that raises is logged and
swallowed; the thread goes on with the next call.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

__all__ = ["ScheduledCall", "TimerThread"]

logger = logging.getLogger(__name__)


@dataclass(eq=False)
class ScheduledCall:
    """One pending call; :meth:`cancel` stops it (harmless once it ran)."""

    callback: Callable[[], None]
    cancelled: bool = field(default=False)

    def cancel(self) -> None:
        self.cancelled = True


class TimerThread:
    """A heap of due calls served by one daemon thread, started at the first call."""

    def __init__(self, name: str = "vistter-timers") -> None:
        self._name = name
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, ScheduledCall]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def call_later(self, delay: float, callback: Callable[[], None]) -> ScheduledCall:
        """Run ``callback`` in the timer thread ``delay`` seconds from now (any thread)."""
        call = ScheduledCall(callback)
        due = time.monotonic() + max(0.0, delay)
        with self._cond:
            heapq.heappush(self._heap, (due, next(self._order), call))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._serve, name=self._name, daemon=True)
                self._thread.start()
            elif self._heap[0][2] is call:
                self._cond.notify()  # due before what the thread sleeps for
        return call

    def pending(self) -> int:
        """Calls not yet run and not cancelled."""
        with self._cond:
            return sum(1 for _, _, call in self._heap if not call.cancelled)

    def _serve(self) -> None:
        while True:
            with self._cond:
                while True:
                    while self._heap and self._heap[0][2].cancelled:
                        heapq.heappop(self._heap)
                    if not self._heap:
                        self._cond.wait()
                        continue
                    wait = self._heap[0][0] - time.monotonic()
                    if wait <= 0:
                        call = heapq.heappop(self._heap)[2]
                        break
                    self._cond.wait(wait)
            if call.cancelled:
                continue
            try:
                call.callback()
            except Exception:
                logger.exception("clock callback %r raised", call.callback)
