"""Test actors for the supervision suite: workers that crash, exit, hang and own processes."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pykka

from vistter.clock import Clock, MonotonicClock
from vistter.errors import OperatorError
from vistter.supervisors import (
    ChildSpec,
    RestartType,
    RootSupervisor,
    Strategy,
    SupervisorFlags,
)
from vistter.supervisors.actor import SupervisedActor
from vistter.supervisors.link import Link


@dataclass
class Script:
    """Shared, thread-safe record of what the workers did, and how they should behave."""

    starts: list[str] = field(default_factory=list)
    stops: list[str] = field(default_factory=list)
    fail_start: dict[str, int] = field(default_factory=dict)
    """child id -> how many more starts should fail (-1: forever)."""
    slow_stop: dict[str, float] = field(default_factory=dict)
    slow_start: dict[str, float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    release: threading.Event = field(default_factory=threading.Event)

    def note(self, where: list[str], name: str) -> None:
        with self.lock:
            where.append(name)

    def should_fail(self, name: str) -> bool:
        with self.lock:
            left = self.fail_start.get(name, 0)
            if left == 0:
                return False
            if left > 0:
                self.fail_start[name] = left - 1
            return True

    def count(self, name: str) -> int:
        with self.lock:
            return self.starts.count(name)


class Worker(SupervisedActor):
    def __init__(self, link: Link, script: Script, *extra: Any) -> None:
        super().__init__(link)
        self.script = script
        self.name = link.child_id
        self.extra = extra

    def setup(self) -> None:
        delay = self.script.slow_start.get(self.name)
        if delay:
            self.script.release.wait(delay)
        if self.script.should_fail(self.name):
            raise RuntimeError(f"{self.name} refuses to start")
        self.script.note(self.script.starts, self.name)

    def teardown(self) -> None:
        delay = self.script.slow_stop.get(self.name)
        if delay:
            self.script.release.wait(delay)
        self.script.note(self.script.stops, self.name)

    def crash(self) -> None:
        raise ValueError(f"{self.name} crashed on purpose")

    def expected_failure(self) -> None:
        raise OperatorError("bad input", hint="send good input")

    def exit_normally(self) -> None:
        self.stop()

    def hang(self) -> None:
        self.script.release.wait(30)

    def spawn_sleeper(self) -> int:
        process = self.processes.spawn(
            "sleeper",
            [sys.executable, "-c", "import signal,time; signal.signal(signal.SIGTERM, "
             "signal.SIG_IGN); time.sleep(60)"],
            stdout=subprocess.DEVNULL,
        )
        return process.pid

    def ping(self) -> str:
        return self.name


def worker(
    name: str,
    script: Script,
    restart: RestartType = RestartType.PERMANENT,
    **kwargs: Any,
) -> ChildSpec:
    def start(link: Link, *extra: Any) -> pykka.ActorRef[Any]:
        return Worker.start(link, script, *extra)

    return ChildSpec(id=name, start=start, restart=restart, **kwargs)


def tree(
    strategy: Strategy,
    children: list[ChildSpec],
    *,
    intensity: int = 3,
    period: float = 5.0,
    clock: Clock | None = None,
    events: Any = None,
) -> RootSupervisor:
    return RootSupervisor(
        SupervisorFlags(strategy, intensity, period),
        children,
        clock=clock or MonotonicClock(),
        events=events,
    )


def crash(root: RootSupervisor, path: str) -> None:
    """Crash a child through an ask, so its exit is posted before this returns."""
    try:
        root.handle.child(path).proxy().crash().get(timeout=5)
    except ValueError:
        return
    raise AssertionError(f"{path} did not crash")


def exit_normally(root: RootSupervisor, path: str) -> None:
    """Make a child stop itself normally and wait until its supervisor has seen it."""
    before = root.handle.child_ref(path)
    before.proxy().exit_normally().get(timeout=5)
    assert wait_until(lambda: refs(root).get(path) is not before), f"{path} did not exit"


def states(root: RootSupervisor) -> dict[str, str]:
    return {c.id: c.state for c in root.handle.which_children()}


def refs(root: RootSupervisor) -> dict[str, Any]:
    return {c.id: c.ref for c in root.handle.which_children()}


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> bool:
    event = threading.Event()
    deadline = MonotonicClock().monotonic() + timeout
    while MonotonicClock().monotonic() < deadline:
        if predicate():
            return True
        event.wait(0.01)
    return predicate()
