"""The supervisor's end of one child incarnation (Erlang's ``start_link``).

A :class:`Link` is created by the supervisor for every start or restart of a child and is
handed to the actor's constructor. The actor reports through it exactly once how it ended;
the supervisor reads through it whether the actor is ready and which processes it owns, and
can declare it dead when it hangs.
"""

from __future__ import annotations

import enum
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from vistter.clock import Clock, MonotonicClock
from vistter.supervisors.processes import ProcessSet


class ExitReason(enum.StrEnum):
    """How an actor ended. Only ``normal`` and ``shutdown`` are clean exits."""

    NORMAL = "normal"
    SHUTDOWN = "shutdown"
    CRASH = "crash"
    START_FAILED = "start_failed"
    HANG = "hang"
    KILLED = "killed"


@dataclass(frozen=True)
class Exit:
    """An actor's last word: the reason and, for a failure, what went wrong."""

    reason: ExitReason
    error: str | None = None
    at: float = field(default_factory=time.time)

    @property
    def abnormal(self) -> bool:
        return self.reason not in (ExitReason.NORMAL, ExitReason.SHUTDOWN)

    @classmethod
    def from_exception(cls, reason: ExitReason, exc: BaseException) -> Exit:
        return cls(reason, f"{type(exc).__name__}: {exc}")


class EventSink(Protocol):
    """Where supervision and actor events go (the telemetry bus, or nowhere).

    ``publish`` may be called from any thread and must never block or raise.
    """

    def publish(self, topic: str, payload: dict[str, Any]) -> None: ...


class NullSink:
    """An event sink that drops everything."""

    def publish(self, topic: str, payload: dict[str, Any]) -> None:
        return None


ExitListener = Callable[["Link", Exit], None]

_incarnations = itertools.count(1)


class Link:
    """One incarnation of a supervised child.

    Thread-safety: every method may be called from any thread.
    """

    def __init__(
        self,
        path: str,
        *,
        on_exit: ExitListener | None = None,
        clock: Clock | None = None,
        events: EventSink | None = None,
    ) -> None:
        self.path = path
        self.incarnation = next(_incarnations)
        self.clock: Clock = clock or MonotonicClock()
        self.events: EventSink = events or NullSink()
        self.processes = ProcessSet()
        self.ready = threading.Event()
        self.exited = threading.Event()
        self.settled = threading.Event()
        """Set once the actor is either ready or gone: what a supervisor waits on at start."""
        self.shutdown_requested = False
        self._on_exit = on_exit
        self._lock = threading.Lock()
        self._exit: Exit | None = None
        self._killer: Callable[[Exit], None] | None = None

    @property
    def child_id(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def exit(self) -> Exit | None:
        with self._lock:
            return self._exit

    def report_ready(self) -> None:
        """Called by the actor once its setup has succeeded."""
        self.ready.set()
        self.settled.set()

    def attach_killer(self, killer: Callable[[Exit], None]) -> None:
        """Called by the actor: how to declare it dead from outside (hang, brutal kill)."""
        self._killer = killer

    def report_exit(self, exit_: Exit) -> bool:
        """Record how the incarnation ended. Only the first report counts; returns whether
        this one did. The exit listener runs in the calling thread; it must not block."""
        with self._lock:
            if self._exit is not None:
                return False
            self._exit = exit_
        self.exited.set()
        self.settled.set()
        if self._on_exit is not None:
            self._on_exit(self, exit_)
        return True

    def kill(self, reason: ExitReason, error: str) -> None:
        """Declare the actor dead from outside its thread and end its processes.

        A Python thread cannot be killed; a hung actor's thread is abandoned (it exits at its
        next message boundary) and a fresh incarnation takes over.
        """
        exit_ = Exit(reason, error)
        if self._killer is not None:
            self._killer(exit_)
        else:
            self.processes.end_all(grace=0.5)
            self.report_exit(exit_)
