"""The stall verdict on an injected clock: a frame overdue by ``stall_timeout`` is a stall,
unless the ingest is still being fed (the machine is slow, not the camera: chaos scenario 9
saw a healthy camera flagged stalled for a moment while both cores were saturated), and
that is believed for at most ``allowance`` seconds."""

from __future__ import annotations

import pytest

from vistter.actors.sources.liveness import Backlog
from vistter.actors.sources.stall import StallJudge
from vistter.clock import FakeClock


class _Evidence:
    """A scripted backlog, and what the judge asked for."""

    def __init__(self) -> None:
        self.backlog = Backlog()
        self.watching = False
        self.looks = 0

    def watch(self) -> None:
        self.watching = True

    def relax(self) -> None:
        self.watching = False

    def look(self) -> Backlog:
        self.looks += 1
        return self.backlog


def _ticks(clock: FakeClock, last_frame: float, judge: StallJudge, evidence: _Evidence,
           until: float, tick: float = 0.1) -> tuple[float, str] | None:
    """Watchdog ticks every ``tick`` s until ``until`` (clock time); the first verdict."""
    while clock.monotonic() < until - 1e-9:
        clock.advance(tick)
        verdict = judge.verdict(clock.monotonic() - last_frame, evidence)
        if verdict is not None:
            return clock.monotonic() - last_frame, verdict
    return None


def test_a_frame_overdue_by_the_stall_timeout_with_nothing_waiting_is_a_stall() -> None:
    clock = FakeClock(start=10.0)
    judge = StallJudge("Marina", 0.5)
    evidence = _Evidence()
    got = _ticks(clock, 10.0, judge, evidence, until=12.0)
    assert got is not None
    age, detail = got
    assert age == pytest.approx(0.6)  # the first tick past 0.5 s
    assert detail == "no frame for 0.5 s"
    assert evidence.looks == 1 and judge.late_not_stalled == 0


def test_frames_waiting_in_the_pipe_are_not_a_stall_until_the_allowance_is_used_up() -> None:
    clock = FakeClock(start=10.0)
    judge = StallJudge("Marina", 0.5, allowance=2.0)
    evidence = _Evidence()
    evidence.backlog = Backlog(pipe_bytes=65536)
    assert _ticks(clock, 10.0, judge, evidence, until=12.4) is None  # 2.4 s: not stalled
    assert judge.late_not_stalled == 1  # one episode, however many ticks
    assert judge.last_reason == "65536 bytes of frames wait unread in its pipe"
    got = _ticks(clock, 10.0, judge, evidence, until=13.0)
    assert got is not None
    age, detail = got
    assert age == pytest.approx(2.6)  # past stall_timeout + allowance: stuck, whatever it says
    assert detail.startswith("no frame for 2.6 s although its ingest seemed fed (65536 bytes")


@pytest.mark.parametrize(
    ("backlog", "reason"),
    [
        (Backlog(socket_bytes=1400), "1400 bytes from the camera wait unread on its socket"),
        (Backlog(cpu_wait=0.8), "its ffmpeg waited for a CPU 80% of the time"),
    ],
)
def test_a_starved_ingest_is_not_a_stalled_camera(backlog: Backlog, reason: str) -> None:
    clock = FakeClock(start=10.0)
    judge = StallJudge("Marina", 0.5)
    evidence = _Evidence()
    evidence.backlog = backlog
    assert _ticks(clock, 10.0, judge, evidence, until=11.0) is None
    assert judge.last_reason == reason
    # the frames come: the episode ends, the next one is counted anew
    assert judge.verdict(0.05, evidence) is None
    assert not evidence.watching
    assert _ticks(clock, clock.monotonic(), judge, evidence, until=clock.monotonic() + 1) is None
    assert judge.late_not_stalled == 2


def test_a_sleeping_ingest_waiting_a_little_for_cpu_is_a_stall() -> None:
    clock = FakeClock(start=10.0)
    judge = StallJudge("Marina", 0.5)
    evidence = _Evidence()
    evidence.backlog = Backlog(cpu_wait=0.2)  # its poll wake-ups on a loaded box
    assert _ticks(clock, 10.0, judge, evidence, until=11.0) is not None


def test_the_cpu_watch_starts_at_half_the_stall_timeout() -> None:
    """The CPU-wait share is averaged from half the stall timeout on, so the look at the
    verdict covers a quarter second, not one noisy tick."""
    judge = StallJudge("Marina", 0.5)
    evidence = _Evidence()
    assert judge.verdict(0.2, evidence) is None and not evidence.watching
    assert judge.verdict(0.3, evidence) is None and evidence.watching
    assert evidence.looks == 0  # nothing is looked at before the stall timeout
    assert judge.verdict(0.1, evidence) is None and not evidence.watching


def test_no_evidence_means_the_old_rule_and_bad_timings_are_refused() -> None:
    judge = StallJudge("Marina", 0.5)
    assert judge.verdict(0.5, None) is None
    assert judge.verdict(0.51, None) == "no frame for 0.5 s"
    with pytest.raises(ValueError, match="stall_timeout"):
        StallJudge("Marina", 0)
    with pytest.raises(ValueError, match="allowance"):
        StallJudge("Marina", 0.5, allowance=-1)


def test_the_watchdog_looks_when_the_last_frame_turns_half_and_then_the_full_timeout_old() -> None:
    """Ticks of 0.25 s alone declared a stall up to 0.25 s after the stall timeout (chaos
    scenario 2: backup on air 1.1-1.2 s after the camera stopped); a fast tick costs a timer
    thread per look. The watchdog looks at the two points that matter instead."""
    clock = FakeClock(start=10.0)
    judge = StallJudge("Marina", 0.5)
    evidence = _Evidence()
    last_frame = 10.0
    clock.advance(0.05)  # frames flowing; the watchdog looks with its last frame 0.05 s old
    looks = []
    for _ in range(4):
        delay = judge.next_look(clock.monotonic() - last_frame, 0.25)
        clock.advance(delay)
        looks.append(round(clock.monotonic() - last_frame, 3))
        judge.verdict(clock.monotonic() - last_frame, evidence)
    assert looks == [0.252, 0.502, 0.752, 1.002]  # watch at 0.25, verdict at 0.5, then ticks
    assert judge.next_look(None, 0.25) == 0.25  # not online, or no frame: the plain tick
    assert judge.next_look(0.01, 0.1) == 0.1  # never longer than the tick
