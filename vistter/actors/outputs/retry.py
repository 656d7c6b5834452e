"""When a destination tries again: the spec's retry schedule, plus the appliance's slow retry.

The spec retries a failed stream after 2, 4, 8, 16, 32, then 60 s, ten times, and then gives
up: :data:`SPEC_BACKOFF`, a value of the one :class:`~vistter.supervisors.backoff.Backoff`
that supervisors and sources use too. An unattended appliance must not give up: after the
tenth retry has failed the destination is reported ``failed`` (an alert goes to the
operator) but keeps trying every ``slow_interval`` seconds. A run that stayed live for the
backoff's ``reset_after`` seconds clears the count, so an outage next week starts again at 2 s.

:class:`RetryTracker` is pure bookkeeping: the owning actor feeds it the times of failures
and of going live (from its injected clock) and gets back when to try next. It is not
thread-safe; it belongs to one actor and is used only in that actor's thread.
"""

from __future__ import annotations

from dataclasses import dataclass

from vistter.supervisors.backoff import Backoff

__all__ = ["SPEC_BACKOFF", "RetryDecision", "RetrySchedule", "RetryTracker"]

SPEC_BACKOFF = Backoff(initial=2.0, factor=2.0, maximum=60.0, reset_after=30.0)
"""The spec's backoff: 2, 4, 8, 16, 32, then 60 s; a run live for 30 s clears the count."""


@dataclass(frozen=True)
class RetrySchedule:
    """How a destination retries: the spec's :class:`Backoff`, then the slow retry.

    ``backoff``: delays before retry 1, 2, ... (its ``reset_after`` is how long a run must
    stay live to clear the count); ``max_attempts``: retries before the destination is
    declared failed; ``slow_interval``: seconds between retries after that;
    ``probe_interval``: seconds between cheap reachability probes while waiting and the
    server does not answer them (``0`` turns probing off), so that a server answering again
    ends the wait within about that; ``answered_probe_interval``: the same while the server
    does answer (the failure was not about reaching it: no need to knock twice a second);
    ``rejected_interval``: the shortest wait after the server refused the stream key or the
    application, since retrying sooner changes nothing (None: the backoff's maximum).
    """

    backoff: Backoff = SPEC_BACKOFF
    max_attempts: int = 10
    slow_interval: float = 60.0
    probe_interval: float = 0.5
    answered_probe_interval: float = 5.0
    rejected_interval: float | None = None

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1: {self}")
        if self.slow_interval <= 0 or self.probe_interval < 0:
            raise ValueError(f"slow_interval must be > 0 and probe_interval >= 0: {self}")
        if self.answered_probe_interval < self.probe_interval:
            raise ValueError(f"answered_probe_interval must be >= probe_interval: {self}")
        if self.rejected_interval is not None and self.rejected_interval <= 0:
            raise ValueError(f"rejected_interval must be > 0: {self}")

    @property
    def rejected_delay(self) -> float:
        """Seconds at least between attempts once the server refused the key."""
        return self.backoff.maximum if self.rejected_interval is None else self.rejected_interval

    @property
    def stable_after(self) -> float:
        """Seconds live after which the retry count starts again from zero."""
        return self.backoff.reset_after

    def delay(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based)."""
        if attempt < 1:
            raise ValueError(f"retry attempts count from 1, got {attempt}")
        if attempt > self.max_attempts:
            return self.slow_interval
        return self.backoff.delay(attempt - 1)


@dataclass(frozen=True)
class RetryDecision:
    """What to do after a failure: retry number ``attempt`` in ``delay`` seconds.

    ``failed`` is true once more than ``max_attempts`` tries have failed (the slow retry);
    ``newly_failed`` only for the failure that crossed that line (alert the operator once).
    """

    attempt: int
    delay: float
    failed: bool
    newly_failed: bool


class RetryTracker:
    """Counts consecutive failures of one destination and picks the next delay."""

    def __init__(self, schedule: RetrySchedule) -> None:
        self.schedule = schedule
        self._failures = 0
        self._live_since: float | None = None

    @property
    def attempt(self) -> int:
        """The number of the retry under way or scheduled (0: none since the last good run)."""
        return self._failures

    @property
    def failed(self) -> bool:
        """True once every scheduled retry has failed (until the next stable run)."""
        return self._failures > self.schedule.max_attempts

    def live(self, now: float) -> None:
        """The destination is accepting bytes again (from ``now``)."""
        if self._live_since is None:
            self._live_since = now

    def check_stable(self, now: float) -> bool:
        """Clear the count if the current run has been live for ``stable_after`` seconds.

        Returns True when it cleared a non-zero count.
        """
        if self._live_since is None or now - self._live_since < self.schedule.stable_after:
            return False
        cleared = self._failures > 0
        self._failures = 0
        return cleared

    def failure(self, now: float) -> RetryDecision:
        """The destination stopped (or never started) accepting bytes at ``now``."""
        self.check_stable(now)
        self._live_since = None
        was_failed = self.failed
        self._failures += 1
        return RetryDecision(
            attempt=self._failures,
            delay=self.schedule.delay(self._failures),
            failed=self.failed,
            newly_failed=self.failed and not was_failed,
        )

    def reset(self) -> None:
        """Forget every failure (an operator asked for a fresh start)."""
        self._failures = 0
        self._live_since = None
