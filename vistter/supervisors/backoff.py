"""Backoff: how long to wait before trying again, the one schedule every retry uses.

A supervisor delays the restarts of a child that keeps failing, a camera or a video file
waits before reconnecting its ingest, a destination waits before publishing again: each
asks a :class:`Backoff` for the delay of its next attempt and clears its count once the
thing it retries has stayed up for :attr:`Backoff.reset_after` seconds.

The delays grow geometrically: ``initial``, ``initial*factor``, ``initial*factor**2``, ...
capped at ``maximum``. ``factor=1`` gives a fixed delay (:meth:`Backoff.fixed`). The
spec's destination schedule (2, 4, 8, 16, 32, then 60 s) is ``Backoff(2, 2, 60)``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Backoff"]

_MAX_EXPONENT = 64
"""Attempts past this use the same power: the delay is long capped by then, and
``factor ** attempt`` must not overflow for an attempt count that grows for weeks."""


@dataclass(frozen=True)
class Backoff:
    """Delays before attempt 0, 1, 2, ...: ``initial * factor**attempt``, at most ``maximum``.

    ``reset_after``: seconds the retried thing must stay up before the next failure starts
    from attempt 0 again (the owner of the count applies it; see the users in the module
    doc). Immutable, so one value may be shared by any number of actors and threads.
    """

    initial: float = 2.0
    factor: float = 2.0
    maximum: float = 60.0
    reset_after: float = 60.0

    def __post_init__(self) -> None:
        if self.initial <= 0 or self.factor < 1 or self.maximum < self.initial:
            raise ValueError(
                f"invalid backoff {self}: need initial > 0, factor >= 1, maximum >= initial "
                "(delays must be positive seconds that do not shrink)"
            )
        if self.reset_after < 0:
            raise ValueError(f"invalid backoff {self}: reset_after must be >= 0 seconds")

    @classmethod
    def fixed(cls, delay: float, *, reset_after: float = 60.0) -> Backoff:
        """The same ``delay`` before every attempt."""
        return cls(initial=delay, factor=1.0, maximum=delay, reset_after=reset_after)

    def delay(self, attempt: int) -> float:
        """Seconds to wait before attempt number ``attempt`` (0-based)."""
        if attempt < 0:
            raise ValueError(f"backoff attempts count from 0, got {attempt}")
        return float(min(self.maximum, self.initial * self.factor ** min(attempt, _MAX_EXPONENT)))
