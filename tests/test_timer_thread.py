"""The one timer thread behind the real clock: order, wake-up, cancel, errors, one thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from vistter.clock import MonotonicClock
from vistter.timer_thread import TimerThread


def noting(ran: list[str], name: str, event: threading.Event) -> Callable[[], None]:
    """A callback that notes ``name`` and sets ``event``."""

    def call() -> None:
        ran.append(name)
        event.set()

    return call


def test_calls_run_in_due_order_and_an_earlier_one_wakes_the_thread() -> None:
    timers = TimerThread("test-timers")
    ran: list[str] = []
    done = threading.Event()
    timers.call_later(0.6, noting(ran, "late", done))
    time.sleep(0.05)  # the thread now sleeps towards the 0.6 s call
    started = time.monotonic()
    early = threading.Event()
    timers.call_later(0.05, noting(ran, "early", early))
    assert early.wait(2.0)
    assert time.monotonic() - started < 0.4, "the earlier call waited for the later one"
    assert done.wait(2.0)
    assert ran == ["early", "late"]


def test_a_cancelled_call_never_runs_and_a_raising_one_does_not_stop_the_thread() -> None:
    timers = TimerThread("test-timers")
    ran: list[str] = []
    done = threading.Event()
    cancelled = timers.call_later(0.05, lambda: ran.append("cancelled"))
    cancelled.cancel()

    def boom() -> None:
        raise RuntimeError("callback failed")

    timers.call_later(0.05, boom)
    timers.call_later(0.1, noting(ran, "after", done))
    assert done.wait(2.0)
    assert ran == ["after"]
    assert timers.pending() == 0


def test_many_timers_share_one_thread() -> None:
    clock = MonotonicClock()
    before = {t.ident for t in threading.enumerate()}
    names: set[str] = set()
    count = threading.Semaphore(0)

    def note() -> None:
        names.add(threading.current_thread().name)
        count.release()

    for index in range(50):
        clock.call_later(0.01 * (index % 5), note)
    for _ in range(50):
        assert count.acquire(timeout=2.0)
    assert names == {"vistter-timers"}
    started = {t.ident for t in threading.enumerate()} - before
    assert len(started) <= 1, "each call started a thread"
