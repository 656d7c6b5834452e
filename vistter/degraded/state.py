"""Degraded mode as ``GET /api/status`` shows it: a shared, thread-safe record.

:class:`DegradedState` outlives the degraded-mode actor (the appliance makes it), so a
restarted actor finds the level it had applied, and a status read never asks the actor:
the actor thread writes with :meth:`set`, an API worker reads :meth:`status`.
"""

from __future__ import annotations

import threading
from typing import TypedDict

from vistter.degraded.signals import Reading, Signals
from vistter.degraded.steps import Degradation, Level

__all__ = ["DegradedState", "DegradedStatus", "SignalStatus"]


class SignalStatus(TypedDict):
    verdict: str
    """``good``, ``marginal`` or ``bad``."""
    reason: str


class DegradedStatus(TypedDict):
    """The ``degraded`` object of ``GET /api/status``."""

    enabled: bool
    active: bool
    level: int
    """Rungs down in all (0: the configured encode)."""
    network_level: int
    load_level: int
    steps: list[str]
    reason: str
    """Why the last step down was taken, with figures ("" when not degraded)."""
    since: float | None
    """Unix time degraded mode began (None when not degraded)."""
    bitrate_kbps: int | None
    height: int | None
    fps: int | None
    overlays: str
    applied: bool
    """Whether the encoder has taken the level's encode (False while it is being applied)."""
    last_error: str
    signals: dict[str, SignalStatus]


def _signal(reading: Reading) -> SignalStatus:
    return {"verdict": reading.verdict.name.lower(), "reason": reading.reason}


class DegradedState:
    """The latest degraded-mode status (see the module doc)."""

    def __init__(self, *, enabled: bool = True) -> None:
        self._lock = threading.Lock()
        self._level = Level()
        self._status: DegradedStatus = {
            "enabled": enabled, "active": False, "level": 0, "network_level": 0,
            "load_level": 0, "steps": [], "reason": "", "since": None, "bitrate_kbps": None,
            "height": None, "fps": None, "overlays": "full", "applied": True,
            "last_error": "", "signals": {},
        }  # fmt: skip

    @property
    def level(self) -> Level:
        with self._lock:
            return self._level

    def set(self, level: Level, degradation: Degradation, *, reason: str,
            since: float | None) -> None:
        """Record a new level (actor thread)."""
        overrides = degradation.overrides
        with self._lock:
            self._level = level
            self._status = {
                **self._status, "active": not level.normal, "level": level.bitrate + level.load,
                "network_level": level.bitrate, "load_level": level.load,
                "steps": list(degradation.steps), "reason": reason if not level.normal else "",
                "since": since if not level.normal else None,
                "bitrate_kbps": overrides.bitrate_kbps, "height": overrides.height,
                "fps": overrides.fps, "overlays": str(degradation.overlays),
            }  # fmt: skip

    def set_applied(self, applied: bool, error: str = "") -> None:
        with self._lock:
            self._status = {**self._status, "applied": applied, "last_error": error}

    def set_signals(self, signals: Signals) -> None:
        with self._lock:
            self._status = {**self._status, "signals": {
                "network": _signal(signals.network), "load": _signal(signals.load)}}

    def status(self) -> DegradedStatus:
        """A copy of the latest status. Any thread; never waits on the actor."""
        with self._lock:
            status = self._status
        return {**status, "steps": list(status["steps"]), "signals": dict(status["signals"])}
