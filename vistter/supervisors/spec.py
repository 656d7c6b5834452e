"""Child specifications and supervisor flags, as in Erlang/OTP's ``supervisor`` module."""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import pykka

from vistter.supervisors.backoff import Backoff
from vistter.supervisors.link import Exit, ExitReason, Link

_C = TypeVar("_C")


class Strategy(enum.StrEnum):
    """What else is restarted when one child dies."""

    ONE_FOR_ONE = "one_for_one"
    ONE_FOR_ALL = "one_for_all"
    REST_FOR_ONE = "rest_for_one"
    SIMPLE_ONE_FOR_ONE = "simple_one_for_one"

    def restart_group(self, children: Sequence[_C], child: _C) -> list[_C]:
        """The members of ``children`` (in start order) that a restart of ``child`` involves:
        all of them, ``child`` and those started after it, or ``child`` alone."""
        if self is Strategy.ONE_FOR_ALL:
            return list(children)
        if self is Strategy.REST_FOR_ONE:
            return list(children[children.index(child):])
        return [child]


class RestartType(enum.StrEnum):
    """When a child is restarted."""

    PERMANENT = "permanent"
    """Always."""
    TRANSIENT = "transient"
    """Only after an abnormal exit (anything but ``normal`` and ``shutdown``)."""
    TEMPORARY = "temporary"
    """Never; also not when a sibling's death takes it down."""

    def wants_restart(self, exit_: Exit) -> bool:
        if self is RestartType.PERMANENT:
            return True
        if self is RestartType.TRANSIENT:
            return exit_.abnormal
        return False


class ChildKind(enum.StrEnum):
    WORKER = "worker"
    SUPERVISOR = "supervisor"


@dataclass(frozen=True)
class HeartbeatSpec:
    """How the supervisor checks that a child still handles messages.

    Every ``interval`` seconds it sends a heartbeat; a child that has not answered one
    within ``timeout`` seconds is declared hung (exit reason ``hang``) and restarted.
    """

    interval: float = 5.0
    timeout: float = 10.0


StartFunction = Callable[..., pykka.ActorRef[Any]]
"""Starts one incarnation: called as ``start(link, *args)``, returns the started actor's ref.

It runs in the supervisor's thread; the actor must be constructed with the given ``Link``.
"""


@dataclass(frozen=True)
class ChildSpec:
    """One child of a supervisor.

    ``shutdown`` is how many seconds the child gets to stop before it is killed
    (``math.inf`` waits forever, as OTP's ``infinity``; the default for supervisors).

    ``restart_delay``: as in RabbitMQ's ``supervisor2``, a child that keeps failing once
    the supervisor's restart intensity is exhausted is restarted after the backoff's
    delays instead of taking the tree down; the delays start again from the first once
    the child has stayed up for ``reset_after`` seconds. ``None`` escalates as OTP does.
    """

    id: str
    start: StartFunction
    restart: RestartType = RestartType.PERMANENT
    shutdown: float = 5.0
    kind: ChildKind = ChildKind.WORKER
    restart_delay: Backoff | None = None
    heartbeat: HeartbeatSpec | None = None
    start_timeout: float = 15.0

    def __post_init__(self) -> None:
        if not self.id or "/" in self.id:
            raise ValueError(f"child id {self.id!r} must be non-empty and contain no '/'")
        if self.shutdown <= 0:
            raise ValueError(f"child {self.id!r}: shutdown must be > 0 seconds")

    @classmethod
    def supervisor(cls, id: str, start: StartFunction, **kwargs: Any) -> ChildSpec:
        """A child that is itself a supervisor: waits for its subtree to stop."""
        kwargs.setdefault("shutdown", math.inf)
        return cls(id=id, start=start, kind=ChildKind.SUPERVISOR, **kwargs)


@dataclass(frozen=True)
class SupervisorFlags:
    """Strategy and restart intensity: more than ``intensity`` restarts within ``period``
    seconds make the supervisor stop all its children and die (escalation)."""

    strategy: Strategy = Strategy.ONE_FOR_ONE
    intensity: int = 3
    period: float = 5.0

    def __post_init__(self) -> None:
        if self.intensity < 0 or self.period <= 0:
            raise ValueError("supervisor intensity must be >= 0 and period > 0 seconds")


def start_function_for(cls: type[pykka.Actor], *args: Any, **kwargs: Any) -> StartFunction:
    """A start function that starts ``cls(link, *args, **kwargs)``."""

    def start(link: Link, *extra: Any) -> pykka.ActorRef[Any]:
        return cls.start(link, *args, *extra, **kwargs)

    start.__name__ = f"start_{cls.__name__}"
    return start


__all__ = [
    "ChildKind",
    "ChildSpec",
    "ExitReason",
    "HeartbeatSpec",
    "RestartType",
    "StartFunction",
    "Strategy",
    "SupervisorFlags",
    "start_function_for",
]


#: The appliance's restart delay for a crashed child (a bug, not an expected failure): 1, 2,
#: 4 ... 30 s, forgotten after 60 s of good running. Every subtree uses this one.
CRASH_BACKOFF = Backoff(initial=1, factor=2, maximum=30, reset_after=60)
#: The appliance's hang detection: a child that misses its heartbeat for 15 s is hung.
HEARTBEAT = HeartbeatSpec(interval=5, timeout=15)
