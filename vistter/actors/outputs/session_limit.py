"""Planned reconnects before a platform's session limit, at a quiet moment of the program.

Facebook ends a live video after 8 hours and Twitch after 48: a destination that publishes
longer must end its publish session itself and start a new one, or the platform cuts it at
a random frame. :class:`SessionPlan` says when: from ``limit - margin`` after the session went
live it looks for a **cut** (the frames right after a take without transition) during the
first half of the margin, then takes any frame not inside a transition, and at the limit
itself reconnects whatever the program shows (a transition lasts seconds, a margin minutes,
so that last step is a safety net). :class:`ProgramMoments` tells which kind of moment the
program is at, from :meth:`~vistter.actors.program.state.ProgramState.take_on_air`.

Everything here runs in the destination actor's thread (the program state is thread-safe);
nothing raises.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol, TypedDict

from vistter.actors.program.state import ProgramState

__all__ = [
    "Moment", "Observed", "ProgramMoments", "QuietMoments", "SessionLimitStatus", "SessionPlan",
    "local_now",
]  # fmt: skip

_PLATFORM_NAMES = {"facebook": "Facebook", "twitch": "Twitch", "youtube": "YouTube"}
CUT_FRAMES = 3
"""A take without transition counts as "a cut" for this many frames after the one it hit."""


class Moment(enum.StrEnum):
    CUT = "cut"
    """The frames right after a take without transition: the best place for a reconnect."""
    STEADY = "steady"
    """Not inside a transition."""
    TRANSITION = "transition"
    """A transition is being blended: never reconnect here."""


@dataclass(frozen=True)
class Observed:
    """A moment of the program at ``frame``."""

    moment: Moment
    frame: int


class QuietMoments(Protocol):
    """Where the program is: asked by the destination a few times per frame while it looks
    for a quiet moment (its actor thread)."""

    def observe(self) -> Observed: ...


class ProgramMoments:
    """:class:`QuietMoments` read from the program state (the last planned frame)."""

    def __init__(self, state: ProgramState, *, cut_frames: int = CUT_FRAMES) -> None:
        self._state = state
        self._cut_frames = cut_frames

    def observe(self) -> Observed:
        n, take = self._state.take_on_air()
        if take is None:
            return Observed(Moment.STEADY, n)
        step = n - (n if take.at_frame is None else take.at_frame)  # armed: never None
        if take.transition != "cut" and step < take.duration_frames:
            return Observed(Moment.TRANSITION, n)
        if take.transition == "cut" and 0 <= step < self._cut_frames:
            return Observed(Moment.CUT, n)
        return Observed(Moment.STEADY, n)


class SessionLimitStatus(TypedDict):
    """The planned reconnect as ``/api/destinations`` shows it."""

    limit_hours: float
    planned_at: str | None
    message: str
    last_reconnect: str | None
    last_reconnect_frame: int | None
    last_reconnect_moment: str | None
    reconnects: int


def local_now() -> datetime:
    """The wall clock, in the appliance's time zone (for what operators read)."""
    return datetime.now().astimezone()


def limit_words(platform: str, seconds: float) -> str:
    """``Facebook's 8-hour limit`` (``the 30-second session limit`` for a short test limit)."""
    hours = seconds / 3600
    span = f"{hours:g}-hour" if seconds >= 3600 else f"{seconds:g}-second"
    name = _PLATFORM_NAMES.get(platform)
    return f"{name}'s {span} limit" if name else f"the {span} session limit"


class SessionPlan:
    """When one publish session must end: ``limit`` and ``margin`` in seconds, times on the
    actor's monotonic clock; ``wall`` gives the wall clock for the words."""

    def __init__(
        self, platform: str, limit: float, margin: float,
        wall: Callable[[], datetime] = local_now,
    ) -> None:  # fmt: skip
        self.platform = platform
        self.limit = limit
        self.margin = min(margin, limit)
        self._wall = wall
        self._started: float | None = None
        self._planned_wall: datetime | None = None
        self.last_reconnect: str | None = None
        self.last_moment: Observed | None = None
        self.reconnects = 0

    def session_started(self, now: float) -> None:
        """A publish session went live at ``now``: plan its reconnect."""
        self._started = now
        self._planned_wall = self._wall() + timedelta(seconds=self.limit - self.margin)

    def session_ended(self) -> None:
        """The session ended for another reason (failure, off air): nothing planned."""
        self._started = self._planned_wall = None

    @property
    def planned_at(self) -> float | None:
        """When the search for a quiet moment starts (monotonic), None: no live session."""
        return None if self._started is None else self._started + self.limit - self.margin

    def due(self, now: float) -> bool:
        """Whether the search for a quiet moment has begun."""
        planned = self.planned_at
        return planned is not None and now >= planned

    def quiet_enough(self, now: float, observed: Observed) -> bool:
        """Whether to reconnect now: a cut during the first half of the margin, then any
        frame not inside a transition, and anything at the limit."""
        planned = self.planned_at
        if planned is None or now < planned:
            return False
        if now >= planned + self.margin:
            return True
        if observed.moment is Moment.CUT:
            return True
        return observed.moment is Moment.STEADY and now >= planned + self.margin / 2

    def reconnected(self, observed: Observed) -> str:
        """The planned reconnect happened now; returns its words."""
        self.reconnects += 1
        self.last_moment = observed
        self.last_reconnect = f"reconnected (planned) at {self._wall():%H:%M:%S}"
        self.session_ended()
        return self.last_reconnect

    def status(self, now: float | None = None) -> SessionLimitStatus:
        """What ``/api/destinations`` shows; given the monotonic ``now``, the planned wall
        time is read off the wall clock now (right after a jump of the wall clock, too)."""
        words = limit_words(self.platform, self.limit)
        planned = self._planned_wall
        if now is not None and self.planned_at is not None:
            planned = self._wall() + timedelta(seconds=self.planned_at - now)
        if planned is not None:
            message = f"planned reconnect before {words} at {planned:%H:%M}"
        else:
            message = f"a planned reconnect before {words} once live"
        if self.last_reconnect is not None:
            message = f"{self.last_reconnect}; {message}"
        return {
            "limit_hours": round(self.limit / 3600, 6),
            "planned_at": None if planned is None else planned.isoformat(timespec="seconds"),
            "message": message,
            "last_reconnect": self.last_reconnect,
            "last_reconnect_frame": None if self.last_moment is None else self.last_moment.frame,
            "last_reconnect_moment": (
                None if self.last_moment is None else self.last_moment.moment.value
            ),
            "reconnects": self.reconnects,
        }
