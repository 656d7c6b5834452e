"""The stall verdict of a live ingest: no frame for ``stall_timeout``, unless the machine is
to blame.

A camera whose frames stop is ``stalled`` after its ``stall_timeout`` (0.5 s by default), and
the program cuts to its backup at once (see :mod:`vistter.actors.program.fallback`). With
every core saturated by another process, a healthy camera's frames can be just as late,
because *we* did not run: chaos scenario 9 saw a healthy camera flagged stalled for a moment
several times. So a frame overdue by ``stall_timeout`` is first checked against the ingest's
:class:`~vistter.actors.sources.liveness.Backlog`: unread frame bytes in its pipe, unread
camera bytes on its socket, or an ffmpeg starved of CPU mean the camera is delivering and the
box is slow; the verdict is put off, tick after tick, while that holds. It is put off for at
most ``allowance`` seconds (2 s by default) beyond the stall timeout: an ingest that has data
waiting but turns none of it into frames for that long is stuck, whatever the reason, and
is treated as stalled (then killed after its ``stall_restart_after``).

Thread: everything here runs in the owning actor's thread (its watchdog tick); nothing raises
beyond what the evidence raises (it does not).
"""

from __future__ import annotations

import logging
from typing import Protocol

from vistter.actors.sources.liveness import Backlog

__all__ = ["OVERLOAD_ALLOWANCE", "Evidence", "StallJudge"]

logger = logging.getLogger(__name__)

OVERLOAD_ALLOWANCE = 2.0
"""Seconds beyond the stall timeout a verdict may be put off while the ingest is still fed."""
PAST_DUE = 0.002
"""Seconds past its point a look is scheduled, so that it lands after the point, not on it."""


class Evidence(Protocol):
    """What :class:`~vistter.actors.sources.liveness.IngestLiveness` offers the judge."""

    def watch(self) -> None: ...

    def relax(self) -> None: ...

    def look(self) -> Backlog: ...


class StallJudge:
    """Decides, on each watchdog tick of an *online* ingest, whether it is stalled.

    ``late_not_stalled`` counts the overdue episodes that were not called a stall because
    the ingest was still fed; ``last_reason`` says why the latest one was (for status).
    """

    def __init__(
        self, label: str, stall_timeout: float, *, allowance: float = OVERLOAD_ALLOWANCE
    ) -> None:
        if stall_timeout <= 0 or allowance < 0:
            raise ValueError("stall_timeout must be > 0 and allowance >= 0")
        self.label = label
        self.stall_timeout = float(stall_timeout)
        self.allowance = float(allowance)
        self.late_not_stalled = 0
        self.last_reason = ""
        self._excusing = False

    def next_look(self, age: float | None, tick: float) -> float:
        """Seconds until the watchdog should look again, given the ``age`` of an online
        ingest's last frame (None: not online, or no frame yet): ``tick``, or sooner when
        that frame turns half the stall timeout old (the CPU-wait watch starts) or the stall
        timeout old (the verdict). So a stall is declared on time without a fast tick (each
        look costs a timer thread)."""
        if age is not None:
            for point in (self.stall_timeout / 2, self.stall_timeout):
                if age < point:
                    return min(tick, point - age + PAST_DUE)
        return tick

    def verdict(self, age: float, evidence: Evidence | None) -> str | None:
        """The stalled state's detail when an ingest whose last frame is ``age`` seconds
        old is stalled; None while it is not (yet)."""
        if age <= self.stall_timeout / 2:
            self._excusing = False
            if evidence is not None:
                evidence.relax()
            return None
        if evidence is not None:
            evidence.watch()
        if age <= self.stall_timeout:
            return None
        if age > self.stall_timeout + self.allowance:
            return (
                f"no frame for {age:.1f} s although its ingest seemed fed ({self.last_reason})"
                if self._excusing else f"no frame for {self.stall_timeout:g} s"
            )
        reason = evidence.look().reason() if evidence is not None else None
        if reason is None:
            return f"no frame for {self.stall_timeout:g} s"
        if not self._excusing:
            self._excusing = True
            self.late_not_stalled += 1
            logger.info(
                "%s: no frame for %.2f s, but %s: the machine is slow, not the camera; "
                "not stalled (for up to %g s more)", self.label, age, reason, self.allowance,
            )
        self.last_reason = reason
        return None
