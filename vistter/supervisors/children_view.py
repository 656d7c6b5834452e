"""A supervisor's children as other threads may read them without asking the supervisor.

A supervisor busy terminating a slow child (up to its shutdown time) or starting one
(up to its start timeout) answers no ask meanwhile; status reads must not wait for it. So
every supervisor keeps a :class:`ChildrenView`: an immutable copy of its
:class:`~vistter.supervisors.children.ChildInfo` list, replaced by the supervisor's thread
after every message it handled and around every slow step (``starting``, ``stopping``).
Any thread reads it through :func:`view_of` (by the supervisor's ref) without blocking
beyond a lock held for a pointer swap. Nothing here raises.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Iterable
from typing import Any

import pykka

from vistter.supervisors.children import ChildInfo

__all__ = ["ChildrenView", "view_of"]

_views: weakref.WeakValueDictionary[str, ChildrenView] = weakref.WeakValueDictionary()
_views_lock = threading.Lock()


class ChildrenView:
    """The latest published copy of one supervisor's children. Thread-safe."""

    def __init__(self, actor_urn: str) -> None:
        self._lock = threading.Lock()
        self._children: tuple[ChildInfo, ...] = ()
        with _views_lock:
            _views[actor_urn] = self

    def publish(self, children: Iterable[ChildInfo]) -> None:
        """Replace the copy (the supervisor's thread)."""
        copy = tuple(children)
        with self._lock:
            self._children = copy

    def read(self) -> list[ChildInfo]:
        """The children as last published, in start order (any thread)."""
        with self._lock:
            return list(self._children)


def view_of(ref: pykka.ActorRef[Any]) -> ChildrenView | None:
    """The view of the supervisor behind ``ref`` (None: not a supervisor, or gone)."""
    with _views_lock:
        return _views.get(ref.actor_urn)
