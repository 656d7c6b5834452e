"""Whether the program goes to the platforms now: the appliance's on-air switch.

Platform destinations (the output kinds whose registry entry says ``on_air_only``: RTMP(S),
SRT) publish only while the show is on air; local outputs (the recorder, the preview) always
take the program. Two modes (``[show] always_on_air``):

* **while live** (the default): off air until GO LIVE, on air from the show's first frame,
  off air again at Stop;
* **always on air** (a 24/7 appliance): on air from start-up, the slate between shows.

:class:`OnAir` outlives the actors (the fanout table holds it), so a restarted destination
finds it as it was. ``first_frame`` is the program frame of the show's first frame. The
encoder (a listener) makes that frame the first keyframe of a new encoder run (a planned
handover), and a gated destination queue resumes at the start of the first run that begins
at or after it, so the first frame a platform receives is the show's first frame itself, a
keyframe: no slate before it, no wait for the next keyframe of a running encode.
"""

from __future__ import annotations

import enum
import logging
import threading
from collections.abc import Callable
from typing import TypedDict

__all__ = ["AirListener", "AirMode", "AirStatus", "OnAir"]

logger = logging.getLogger(__name__)

AirListener = Callable[[bool], None]
"""Called with the new on-air state in the thread that changed it (the orchestrator's);
it should only post a message to its actor. One that raises is logged; the others are
still called."""


class AirMode(enum.StrEnum):
    WHILE_LIVE = "while_live"
    ALWAYS = "always_on_air"


class AirStatus(TypedDict):
    """The switch as the API shows it."""

    mode: str
    on_air: bool
    changes: int


class OnAir:
    """The on-air switch. Thread-safe; listeners run in the caller's thread."""

    def __init__(self, mode: AirMode = AirMode.WHILE_LIVE) -> None:
        self._lock = threading.Lock()
        self._mode = mode
        self._on_air = mode is AirMode.ALWAYS
        self._first_frame: int | None = None
        self._changes = 0
        self._listeners: dict[int, AirListener] = {}
        self._next_token = 0

    # -- reading ------------------------------------------------------------------------

    @property
    def mode(self) -> AirMode:
        with self._lock:
            return self._mode

    @property
    def on_air(self) -> bool:
        with self._lock:
            return self._on_air

    @property
    def first_frame(self) -> int | None:
        """The program frame gated queues start at: they take nothing before the encoder
        run that begins at or after it (None: they take the next keyframe)."""
        with self._lock:
            return self._first_frame

    def status(self) -> AirStatus:
        with self._lock:
            return AirStatus(mode=self._mode.value, on_air=self._on_air, changes=self._changes)

    # -- switching ----------------------------------------------------------------------

    def set_mode(self, mode: AirMode) -> None:
        """Choose the mode (the appliance, before the tree starts). ``ALWAYS`` goes on air."""
        with self._lock:
            self._mode = mode
        if mode is AirMode.ALWAYS:
            self.go_on_air(None)

    def go_on_air(self, first_frame: int | None) -> bool:
        """On air from program frame ``first_frame`` (None: from the next keyframe); gated
        queues resume at the start of the first encoder run that begins at or after it.
        Returns whether this changed anything."""
        with self._lock:
            if self._on_air:
                return False
            self._on_air = True
            self._first_frame = first_frame
            self._changes += 1
            listeners = list(self._listeners.values())
        self._notify(listeners, True)
        return True

    def go_off_air(self) -> bool:
        """Off air (ignored in ``ALWAYS`` mode). Returns whether this changed anything."""
        with self._lock:
            if not self._on_air or self._mode is AirMode.ALWAYS:
                return False
            self._on_air = False
            self._first_frame = None
            self._changes += 1
            listeners = list(self._listeners.values())
        self._notify(listeners, False)
        return True

    def subscribe(self, listener: AirListener) -> Callable[[], None]:
        """Call ``listener`` on every change; returns the function that unsubscribes."""
        with self._lock:
            token = self._next_token
            self._next_token += 1
            self._listeners[token] = listener

        def unsubscribe() -> None:
            with self._lock:
                self._listeners.pop(token, None)

        return unsubscribe

    @staticmethod
    def _notify(listeners: list[AirListener], on_air: bool) -> None:
        for listener in listeners:
            try:
                listener(on_air)
            except Exception:  # a listener's bug must not keep the others off air
                logger.exception("on-air listener failed")
