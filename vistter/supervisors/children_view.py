"""A supervisor's children as other threads may read them without asking the supervisor.

A supervisor busy terminating a slow child (up to its shutdown time) or starting one
(up to its start timeout) answers no ask meanwhile; status reads must not wait for it. So
every supervisor keeps a :class:`ChildrenView`: an immutable copy of its
:class:`~vistter.supervisors.children.ChildInfo` list and of its restart times, replaced by
the supervisor's thread after every message it handled and around every slow step
(``starting``, ``stopping``), plus its flags. Any thread reads it through :func:`view_of` (by
the supervisor's ref) without blocking beyond a lock held for a pointer swap;
:mod:`vistter.supervisors.tree_view` builds the whole tree readout from these copies. Nothing
here raises.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable
from typing import Any

import pykka

from vistter.clock import Clock
from vistter.supervisors.children import ChildInfo
from vistter.supervisors.payloads import SupervisorDescription
from vistter.supervisors.spec import SupervisorFlags

__all__ = ["ChildrenView", "view_of"]

_views: weakref.WeakValueDictionary[str, ChildrenView] = weakref.WeakValueDictionary()
_views_lock = threading.Lock()


class ChildrenView:
    """The latest published copy of one supervisor's children. Thread-safe."""

    def __init__(
        self, actor_urn: str, flags: SupervisorFlags | None = None, clock: Clock | None = None
    ) -> None:
        self._lock = threading.Lock()
        self._children: tuple[ChildInfo, ...] = ()
        self._restarts: tuple[float, ...] = ()
        self._flags = flags or SupervisorFlags()
        self._clock = clock
        with _views_lock:
            _views[actor_urn] = self

    def publish(self, children: Iterable[ChildInfo], restarts: Iterable[float] = ()) -> None:
        """Replace the copy (the supervisor's thread): its children, and when (on its
        clock) it restarted one within its intensity window."""
        copy, times = tuple(children), tuple(restarts)
        with self._lock:
            self._children, self._restarts = copy, times

    def describe(self) -> SupervisorDescription:
        """The supervisor's flags and its restarts within the intensity period ending now,
        as :meth:`~vistter.supervisors.supervisor.Supervisor.describe` answers (any thread;
        without a clock, every published restart counts)."""
        with self._lock:
            times = self._restarts
        flags = self._flags
        if self._clock is None:
            recent = len(times)
        else:
            now = self._clock.monotonic()
            recent = sum(1 for t in times if now - t <= flags.period)
        return {
            "strategy": flags.strategy.value,
            "intensity": flags.intensity,
            "period": flags.period,
            "recent_restarts": recent,
        }

    def read(self) -> list[ChildInfo]:
        """The children as last published, in start order (any thread)."""
        with self._lock:
            return list(self._children)


def view_of(ref: pykka.ActorRef[Any]) -> ChildrenView | None:
    """The view of the supervisor behind ``ref`` (None: not a supervisor, or gone)."""
    with _views_lock:
        return _views.get(ref.actor_urn)
