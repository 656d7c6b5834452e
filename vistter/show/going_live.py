"""GO LIVE as the operator sees it: the countdown, and the platforms going on and off air.

The orchestrator owns one :class:`GoLiveDesk`. ``POST /api/live/start`` with a countdown
arms it (the countdown runs in the orchestrator, on a timer of the injected clock, so the
request returns at once and a closed browser does not stop it); ``POST /api/live/cancel``
withdraws it. When the show goes live the desk switches the platform destinations on air
(:class:`~vistter.actors.fanout.on_air.OnAir`) from the program frame of the show's first
frame: the encoder makes that frame the keyframe of a new encode (a planned handover) and the
platforms start on exactly that run, so the first frame a platform receives is the show's
first frame, with no wait for the next keyframe; off air only at the operator's Stop
(a timeline that ends, an error, a new timeline loaded: the platforms keep receiving the
program, since a platform ends a broadcast that gets no data).

Every method runs in the orchestrator's thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypedDict

from vistter.actors.fanout.on_air import AirStatus, OnAir
from vistter.clock import Clock
from vistter.show.payloads import NextPayload, ShowStatus

__all__ = [
    "MAX_COUNTDOWN_SECONDS",
    "Countdown",
    "CountdownPayload",
    "GoLiveDesk",
    "LiveStatus",
]

MAX_COUNTDOWN_SECONDS = 60


class CountdownPayload(TypedDict):
    """A GO LIVE countdown under way: seconds left, and how long it was."""

    seconds_left: float
    seconds: int
    force: bool


class LiveStatus(ShowStatus):
    """The show's status with the countdown (None: none under way), the on-air switch
    of the platform destinations (None: no switch, e.g. a render) and the timeline queued to
    go on air next (None: none)."""

    countdown: CountdownPayload | None
    publishing: AirStatus | None
    next: NextPayload | None


@dataclass(frozen=True)
class Countdown:
    """One countdown: when it ends (clock time), its token, and whether it forces GO LIVE."""

    token: int
    seconds: int
    ends_at: float
    force: bool


class GoLiveDesk:
    """The countdown and the on-air switch (``air`` None: nothing to switch)."""

    def __init__(self, clock: Clock, air: OnAir | None = None) -> None:
        self._clock = clock
        self.air = air
        self.countdown: Countdown | None = None
        self._tokens = 0

    def begin(self, seconds: int, *, force: bool) -> Countdown:
        """Arm a countdown of ``seconds`` (1..60; the caller checks the range)."""
        self._tokens += 1
        self.countdown = Countdown(
            self._tokens, seconds, self._clock.monotonic() + seconds, force
        )
        return self.countdown

    def take(self, token: int) -> Countdown | None:
        """The countdown ``token`` if it is the one under way (it ends now), else None."""
        countdown = self.countdown
        if countdown is None or countdown.token != token:
            return None
        self.countdown = None
        return countdown

    def cancel(self) -> Countdown | None:
        """Withdraw the countdown under way; returns it (None: there was none)."""
        countdown, self.countdown = self.countdown, None
        return countdown

    def on_air(self, first_frame: int) -> None:
        """The show's first frame is program frame ``first_frame``: platforms go on air from
        it (the encoder starts a new encode on it, see the module doc)."""
        if self.air is not None:
            self.air.go_on_air(first_frame)

    def off_air(self) -> bool:
        """The operator's Stop: platforms finish their streams (not in always-on-air mode).
        Returns whether they were on air and now are not."""
        return self.air is not None and self.air.go_off_air()

    def status(self, show: ShowStatus, next_up: NextPayload | None = None) -> LiveStatus:
        """``show`` with the countdown, the on-air switch and ``next_up``."""
        countdown = self.countdown
        payload = None
        if countdown is not None:
            left = max(0.0, countdown.ends_at - self._clock.monotonic())
            payload = CountdownPayload(seconds_left=round(left, 1), seconds=countdown.seconds,
                                       force=countdown.force)
        return LiveStatus(**show, countdown=payload,
                          publishing=self.air.status() if self.air is not None else None,
                          next=next_up)
