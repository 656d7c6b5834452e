"""The source table: every video source's latest frame and health, by source id.

Source ids: ``camera:<id>`` for cameras, ``media:<path or url>`` for stills and video
files, ``slate`` for the test pattern. A slot is created on first use and kept for the
life of the appliance, so a restarted camera actor publishes into the same slot and the
mixer keeps the last good frame in between.
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Callable
from dataclasses import dataclass

from vistter.clock import Clock
from vistter.media.frames import FrameFormat, FrameSlot


class SourceState(enum.StrEnum):
    """What a source actor says of itself."""

    CONNECTING = "connecting"
    ONLINE = "online"
    STALLED = "stalled"
    OFFLINE = "offline"


@dataclass(frozen=True)
class SourceHealth:
    state: SourceState
    since: float
    detail: str = ""

    @property
    def usable(self) -> bool:
        """Whether the mixer should keep this source on air instead of a fallback."""
        return self.state is SourceState.ONLINE


def camera_source_id(camera_id: int) -> str:
    return f"camera:{camera_id}"


def media_source_id(location: str) -> str:
    return f"media:{location}"


SLATE_SOURCE_ID = "slate"

HealthListener = Callable[[str, SourceHealth], None]


class SourceTable:
    """Slots and health of every source. Thread-safe; never blocks beyond a dict lookup."""

    def __init__(self, fmt: FrameFormat, clock: Clock) -> None:
        self.fmt = fmt
        self.clock = clock
        self._lock = threading.Lock()
        self._slots: dict[str, FrameSlot] = {}
        self._health: dict[str, SourceHealth] = {}
        self._listeners: list[HealthListener] = []

    def slot(self, source_id: str) -> FrameSlot:
        """The slot of ``source_id``, created empty on first use."""
        with self._lock:
            slot = self._slots.get(source_id)
            if slot is None:
                slot = self._slots[source_id] = FrameSlot(self.fmt, self.clock)
            return slot

    def set_health(self, source_id: str, state: SourceState, detail: str = "") -> None:
        """Called by a source actor (any thread) when its state changes. Listeners run in
        the calling thread; one that raises is not called again."""
        health = SourceHealth(state, self.clock.monotonic(), detail)
        with self._lock:
            previous = self._health.get(source_id)
            if previous is not None and previous.state is state and previous.detail == detail:
                return
            self._health[source_id] = health
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(source_id, health)
            except Exception:
                with self._lock:
                    if listener in self._listeners:
                        self._listeners.remove(listener)

    def health(self, source_id: str) -> SourceHealth | None:
        with self._lock:
            return self._health.get(source_id)

    def snapshot(self) -> dict[str, SourceHealth]:
        with self._lock:
            return dict(self._health)

    def add_listener(self, listener: HealthListener) -> Callable[[], None]:
        with self._lock:
            self._listeners.append(listener)

        def remove() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return remove
