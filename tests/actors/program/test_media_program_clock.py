"""The program's frame clock on a fake clock: exact due times, lateness, catch-up, stop."""

from __future__ import annotations

import threading
from concurrent.futures import Future

import pytest

from vistter.actors.program.clock import ProgramClock, ProgramEpoch, Tick
from vistter.clock import FakeClock, MonotonicClock


@pytest.fixture
def fake() -> FakeClock:
    return FakeClock(start=1000.0)


def wait_in_thread(clock: ProgramClock) -> Future[Tick | None]:
    future: Future[Tick | None] = Future()

    def run() -> None:
        try:
            future.set_result(clock.wait_next())
        except BaseException as exc:  # pragma: no cover - surfaced by future.result()
            future.set_exception(exc)

    threading.Thread(target=run, name="test-mixer", daemon=True).start()
    return future


@pytest.mark.timeout(30)
def test_waits_until_each_frame_is_due(fake: FakeClock) -> None:
    clock = ProgramClock(30, fake)
    clock.start()
    first = clock.wait_next()
    assert first == Tick(index=0, due=1000.0, offset=0.0, late_by=0.0, catch_up=False)
    pending = wait_in_thread(clock)
    with pytest.raises(TimeoutError):
        pending.result(timeout=0.1)  # frame 1 is not due yet in fake time
    fake.advance(clock.due(1) - fake.monotonic() + 1e-9)
    second = pending.result(timeout=5)
    assert second is not None
    assert second.index == 1
    assert second.due == 1000.0 + 1 / 30
    assert second.offset == 1 / 30
    assert 0 <= second.late_by < 1e-6
    assert clock.late_ticks == 0
    assert clock.dropped == 0


def test_due_times_are_computed_from_the_index_without_drift(fake: FakeClock) -> None:
    clock = ProgramClock(30, fake)
    clock.start()
    assert clock.t0 == 1000.0
    for index in (0, 1, 29, 30, 1_000_000, 30 * 86_400 * 7):
        assert clock.due(index) == 1000.0 + index / 30
    # Walk 3000 frames, waking a little late each time: the schedule does not slide.
    for index in range(3000):
        fake.advance(max(0.0, clock.due(index) - fake.monotonic()) + 0.004)
        tick = clock.wait_next()
        assert tick is not None
        assert tick.index == index
        assert tick.due == 1000.0 + index / 30
        assert tick.late_by == pytest.approx(0.004, abs=1e-6)
    assert clock.late_ticks == 0, "4 ms late is within half a frame"


def test_late_ticks_are_counted(fake: FakeClock) -> None:
    clock = ProgramClock(30, fake)
    clock.start()
    fake.advance(0.1)  # frame 0 is 100 ms late, frames 1 and 2 are late too
    ticks = [clock.wait_next() for _ in range(4)]
    assert [tick.index for tick in ticks if tick] == [0, 1, 2, 3]
    assert [tick.catch_up for tick in ticks if tick] == [False] * 4
    assert [round(tick.late_by, 6) for tick in ticks if tick] == [
        0.1,
        round(0.1 - 1 / 30, 6),
        round(0.1 - 2 / 30, 6),
        0.0,
    ]
    assert clock.late_ticks == 3, "0.1, 0.067 and 0.033 s are each over half a frame late"
    assert clock.dropped == 0


def test_catch_up_when_behind_more_than_max_behind(fake: FakeClock) -> None:
    clock = ProgramClock(30, fake, max_behind=1.0)
    clock.start()
    fake.advance(1.51)  # the box stalled for 1.5 s
    ticks: list[Tick] = []
    while True:
        tick = clock.wait_next()
        assert tick is not None
        ticks.append(tick)
        if not tick.catch_up:
            break
    # Every index is still handed out (one output frame each), in order.
    assert [tick.index for tick in ticks] == list(range(len(ticks)))
    # Catch-up lasts until the clock is back within one frame of the schedule.
    assert len(ticks) == 46
    assert all(tick.catch_up for tick in ticks[:45])
    assert ticks[44].late_by > 1 / 30
    assert ticks[45].late_by == pytest.approx(0.01, abs=1e-6)
    assert clock.dropped == 45
    assert clock.late_ticks == 45  # all but the last are more than half a frame late


def test_catch_up_starts_only_beyond_max_behind(fake: FakeClock) -> None:
    clock = ProgramClock(25, fake, max_behind=2.0)
    clock.start()
    fake.advance(1.9)
    tick = clock.wait_next()
    assert tick is not None
    assert not tick.catch_up
    assert clock.dropped == 0


def test_virtual_mode_never_waits(fake: FakeClock) -> None:
    clock = ProgramClock(30, fake, virtual=True)
    clock.start(at=0.0)
    ticks = [clock.wait_next() for _ in range(900)]
    assert fake.monotonic() == 1000.0, "virtual time does not read or move the clock"
    assert [tick.index for tick in ticks if tick] == list(range(900))
    assert all(tick is not None and tick.late_by == 0 and not tick.catch_up for tick in ticks)
    last = ticks[-1]
    assert last is not None
    assert last.due == 899 / 30
    assert last.offset == 899 / 30
    assert clock.late_ticks == 0
    assert clock.dropped == 0


def test_start_at_a_later_index(fake: FakeClock) -> None:
    clock = ProgramClock(30, fake, virtual=True)
    clock.start(at=10.0, first_index=300)
    tick = clock.wait_next()
    assert tick is not None
    assert tick.index == 300
    assert tick.due == pytest.approx(10.0)
    assert tick.offset == 10.0


@pytest.mark.timeout(30)
def test_stop_wakes_a_waiting_clock(fake: FakeClock) -> None:
    clock = ProgramClock(1, fake)
    clock.start()
    assert clock.wait_next() is not None
    pending = wait_in_thread(clock)
    with pytest.raises(TimeoutError):
        pending.result(timeout=0.1)
    clock.stop()
    assert pending.result(timeout=5) is None
    assert clock.wait_next() is None
    assert clock.stopped


@pytest.mark.timeout(30)
def test_shared_stop_event_wakes_a_real_clock() -> None:
    stop = threading.Event()
    clock = ProgramClock(1, MonotonicClock(), stop_event=stop)
    clock.start()
    assert clock.wait_next() is not None
    pending = wait_in_thread(clock)
    stop.set()
    assert pending.result(timeout=5) is None


@pytest.mark.timeout(30)
def test_real_clock_keeps_rate() -> None:
    clock = ProgramClock(50, MonotonicClock())
    clock.start()
    ticks = [clock.wait_next() for _ in range(25)]
    real = MonotonicClock().monotonic()
    last = ticks[-1]
    assert last is not None
    assert last.index == 24
    assert real >= last.due, "never hands a frame out early"
    assert real - last.due < 0.5


def test_wait_next_before_start_is_an_error(fake: FakeClock) -> None:
    with pytest.raises(RuntimeError, match="start"):
        ProgramClock(30, fake).wait_next()
    with pytest.raises(ValueError, match="fps"):
        ProgramClock(0, fake)


def test_due_times_come_from_the_shared_epoch(fake: FakeClock) -> None:
    """One time line: the clock's due times are the epoch's, and a clock started later on
    the same epoch (a restarted mixer) keeps its t0 instead of starting a new one."""
    epoch = ProgramEpoch(30)
    first = ProgramClock(30, fake, epoch=epoch)
    with pytest.raises(RuntimeError, match="start"):
        first.due(0)
    first.start()
    assert epoch.t0 == 1000.0
    for index in (0, 1, 29, 1_000_000):
        assert first.due(index) == epoch.due(index) == 1000.0 + index / 30
    fake.advance(2.1)
    restarted = ProgramClock(30, fake, epoch=epoch)
    restarted.start(first_index=61)  # "now" is 1002.1, but the time line stays
    assert restarted.t0 == 1000.0
    tick = restarted.wait_next()
    assert tick is not None
    assert (tick.index, tick.due) == (61, epoch.due(61))
    assert tick.late_by == pytest.approx(2.1 - 61 / 30)
    with pytest.raises(ValueError, match="25 fps"):
        ProgramClock(30, fake, epoch=ProgramEpoch(25))
