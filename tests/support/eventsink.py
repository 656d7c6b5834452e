"""An event sink for tests: keeps everything actors publish, from any thread."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

Event = tuple[str, dict[str, Any]]


class RecordingSink:
    """An ``EventSink`` that records every ``(topic, payload)`` (payloads copied) and lets a
    test read them by topic or wait for a condition. Thread-safe."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.events: list[Event] = []

    def publish(self, topic: str, payload: dict[str, Any]) -> None:
        with self._cond:
            self.events.append((topic, dict(payload)))
            self._cond.notify_all()

    @property
    def messages(self) -> list[Event]:
        """A snapshot of every event so far."""
        with self._cond:
            return list(self.events)

    def of(self, topic: str) -> list[dict[str, Any]]:
        """The payloads published on ``topic``, in order."""
        with self._cond:
            return [payload for t, payload in self.events if t == topic]

    def wait_for(self, predicate: Callable[[list[Event]], bool], timeout: float) -> bool:
        """Wait until ``predicate(events)`` holds; False after ``timeout`` seconds."""
        with self._cond:
            return self._cond.wait_for(lambda: predicate(list(self.events)), timeout)
