"""Delayed restarts (RabbitMQ supervisor2 style), heartbeats that catch hung actors, and
start timeouts. Time is a FakeClock, so every delay is exact."""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator

import psutil
import pykka
import pytest
from support.supervision_workers import Script, Worker, crash, states, tree, wait_until, worker

from vistter.clock import FakeClock
from vistter.errors import ChildStartError
from vistter.supervisors import Backoff, HeartbeatSpec, Strategy
from vistter.supervisors.link import ExitReason, Link

pytestmark = pytest.mark.timeout(30)


@pytest.fixture
def script() -> Iterator[Script]:
    s = Script()
    yield s
    s.release.set()
    pykka.ActorRegistry.stop_all(timeout=10)


def sync(root: object) -> None:
    """Let the supervisor handle what the clock posted, and what that posted in turn
    (a failed restart posts its retry while being handled)."""
    root.handle.which_children()  # type: ignore[attr-defined]
    root.handle.which_children()  # type: ignore[attr-defined]


def test_backoff_delays() -> None:
    backoff = Backoff(initial=2, factor=2, maximum=10)
    assert [backoff.delay(n) for n in range(5)] == [2, 4, 8, 10, 10]
    with pytest.raises(ValueError, match="initial > 0"):
        Backoff(initial=0)


def test_child_with_backoff_is_retried_later_instead_of_escalating(script: Script) -> None:
    clock = FakeClock()
    spec = worker("camera", script, restart_delay=Backoff(initial=2, factor=2, maximum=8))
    root = tree(Strategy.ONE_FOR_ONE, [spec, worker("other", script)], intensity=1, period=60,
                clock=clock)
    crash(root, "camera")  # within intensity: immediate
    assert wait_until(lambda: script.count("camera") == 2)

    for delay in (2, 4, 8, 8):
        before = script.count("camera")
        crash(root, "camera")  # beyond intensity: delayed, no escalation
        assert wait_until(lambda: states(root).get("camera") == "restarting")
        clock.advance(delay - 0.1)
        assert states(root)["camera"] == "restarting"
        assert script.count("camera") == before
        clock.advance(0.1)
        assert wait_until(functools.partial(lambda b: script.count("camera") == b + 1, before))
        assert states(root)["camera"] == "running"
    assert not root.exited.is_set()
    assert states(root)["other"] == "running"


def test_backoff_keeps_retrying_a_child_that_cannot_start(script: Script) -> None:
    clock = FakeClock()
    spec = worker("camera", script, restart_delay=Backoff(initial=1, factor=2, maximum=4))
    root = tree(Strategy.ONE_FOR_ONE, [spec], intensity=0, period=60, clock=clock)
    script.fail_start["camera"] = 3
    crash(root, "camera")
    sync(root)
    assert states(root).get("camera") == "restarting"
    for delay in (1, 2, 4, 4):
        clock.advance(delay)
        sync(root)
        assert not root.exited.is_set()
    assert wait_until(lambda: states(root).get("camera") == "running")
    reasons = [h.reason for h in root.handle.which_children()[0].history]
    assert reasons == ["crash", "start_failed", "start_failed", "start_failed"]


def test_backoff_resets_after_the_child_stayed_up(script: Script) -> None:
    clock = FakeClock()
    spec = worker("c", script, restart_delay=Backoff(initial=1, factor=3, maximum=100,
                                                     reset_after=30))
    root = tree(Strategy.ONE_FOR_ONE, [spec], intensity=0, period=5, clock=clock)
    crash(root, "c")
    sync(root)
    clock.advance(1)
    assert wait_until(lambda: script.count("c") == 2)
    crash(root, "c")  # second delayed restart in a row: 3 s
    sync(root)
    clock.advance(2.9)
    assert script.count("c") == 2
    clock.advance(0.1)
    assert wait_until(lambda: script.count("c") == 3)
    clock.advance(31)  # stays up past reset_after
    crash(root, "c")  # back to the initial delay
    sync(root)
    clock.advance(1)
    assert wait_until(lambda: script.count("c") == 4)


def test_heartbeat_detects_a_hung_actor_and_restarts_it(script: Script) -> None:
    clock = FakeClock()
    spec = worker("w", script, heartbeat=HeartbeatSpec(interval=1, timeout=2))
    root = tree(Strategy.ONE_FOR_ONE, [spec], clock=clock)
    hung = root.handle.child_ref("w")
    pid = hung.proxy().spawn_sleeper().get(timeout=5)
    hung.proxy().hang()  # stuck in a handler: heartbeats go unanswered
    for _ in range(3):
        clock.advance(1)
        sync(root)
    assert wait_until(lambda: script.count("w") == 2 and states(root)["w"] == "running")
    entry = root.handle.which_children()[0].history[-1]
    assert entry.reason == "hang" and "no heartbeat answer" in (entry.error or "")
    assert wait_until(lambda: not psutil.pid_exists(pid)
                      or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE)


def test_heartbeat_leaves_a_healthy_actor_alone(script: Script) -> None:
    clock = FakeClock()
    spec = worker("w", script, heartbeat=HeartbeatSpec(interval=1, timeout=2))
    root = tree(Strategy.ONE_FOR_ONE, [spec], clock=clock)
    handle = root.handle.child("w")
    for _ in range(10):
        clock.advance(1)
        sync(root)
        assert handle.proxy().ping().get(timeout=5) == "w"  # the heartbeat was answered first
    assert script.count("w") == 1


def test_start_timeout_kills_a_child_that_never_gets_ready(script: Script) -> None:
    root = tree(Strategy.ONE_FOR_ONE, [worker("a", script)])
    script.slow_start["b"] = 30
    with pytest.raises(ChildStartError, match=r"not ready within 0\.3 s"):
        root.handle.start_child(worker("b", script, start_timeout=0.3))
    assert list(states(root)) == ["a"]


def test_an_idle_actor_declared_hung_lets_its_thread_exit(script: Script) -> None:
    """A kill from outside wakes an idle actor's loop, so no thread is left behind."""
    link = Link("test/idle")
    before = set(threading.enumerate())
    Worker.start(link, script)
    assert link.settled.wait(5)
    (thread,) = set(threading.enumerate()) - before
    link.kill(ExitReason.HANG, "declared hung while idle")
    thread.join(5)
    assert not thread.is_alive(), "the idle actor's thread must exit"
    assert link.exit is not None
    assert link.exit.reason is ExitReason.HANG
