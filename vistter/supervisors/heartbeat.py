"""The supervisor's liveness probe of one child: OTP has none, Pykka cannot tell a hang.

A child whose spec has a :class:`~vistter.supervisors.spec.HeartbeatSpec` gets a
:class:`HeartbeatProbe` for each incarnation. Every ``interval`` seconds the supervisor asks
it to :meth:`~HeartbeatProbe.check`: the probe sends a
:class:`~vistter.supervisors.actor.Heartbeat` (answered by the child's message loop
itself, before any handler) unless one is still unanswered, and says whether the child is
alive, hung (unanswered for ``timeout`` seconds: the supervisor kills it with reason
``hang``) or gone (its exit is on its way to the supervisor).

Used only in the supervisor's actor thread; never blocks.
"""

from __future__ import annotations

import enum
from typing import Any

import pykka

from vistter.clock import Timer
from vistter.supervisors.actor import Heartbeat
from vistter.supervisors.spec import HeartbeatSpec

__all__ = ["HeartbeatProbe", "Pulse"]


class Pulse(enum.Enum):
    """What a heartbeat check found."""

    ALIVE = "alive"
    """Answered (or not yet overdue): check again after the interval."""
    HUNG = "hung"
    """A heartbeat went unanswered for the spec's ``timeout``."""
    GONE = "gone"
    """The child is dead; its exit reaches the supervisor by its link. Stop probing."""


class HeartbeatProbe:
    """The heartbeat of one incarnation (``incarnation``) of a child whose ref is ``ref``.

    ``timer`` is the supervisor's pending "check again" timer, cancelled with the probe.
    """

    def __init__(self, spec: HeartbeatSpec, ref: pykka.ActorRef[Any], incarnation: int) -> None:
        self.spec = spec
        self.ref = ref
        self.incarnation = incarnation
        self.timer: Timer | None = None
        self._pending: pykka.Future[Any] | None = None
        self._sent_at = 0.0

    def check(self, now: float) -> Pulse:
        """Collect the answer to the last heartbeat, then send the next one if it came."""
        if self._pending is not None:
            try:
                self._pending.get(timeout=0)
                self._pending = None
            except pykka.Timeout:
                if self.unanswered_for(now) >= self.spec.timeout:
                    return Pulse.HUNG
            except Exception:  # the child died; its exit is on its way
                return Pulse.GONE
        if self._pending is None:
            try:
                self._pending = self.ref.ask(Heartbeat(), block=False)
            except pykka.ActorDeadError:
                return Pulse.GONE
            self._sent_at = now
        return Pulse.ALIVE

    def unanswered_for(self, now: float) -> float:
        """Seconds since the heartbeat still waiting for an answer was sent."""
        return now - self._sent_at

    def cancel(self) -> None:
        """Stop probing: cancel the pending check."""
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
