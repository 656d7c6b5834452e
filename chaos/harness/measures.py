"""Figures read from the sampler's history: when a state changed, for how long, how often.

All times are harness seconds (the rig's t0); "after" is usually the fault's start mark, so a
returned figure minus it is a time to detect or to restore. None means it never happened
within the samples (the caller turns that into a failed check, never a pass).
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Callable, Sequence

from chaos.harness.sampler import Sample

__all__ = [
    "count_changes",
    "first",
    "fmt",
    "late_tick_increase",
    "restarts_between",
    "since",
]


def first(
    samples: Sequence[Sample], predicate: Callable[[Sample], bool], after: float
) -> float | None:
    """Time of the first answered sample at or after ``after`` that satisfies ``predicate``."""
    return next((s.t for s in samples if s.ok and s.t >= after and predicate(s)), None)


def since(moment: float | None, origin: float | None) -> float | None:
    """``moment - origin`` when both are known."""
    if moment is None or origin is None:
        return None
    return moment - origin


def count_changes(
    samples: Sequence[Sample], value: Callable[[Sample], str], start: float, end: float
) -> int:
    """How many times ``value`` changed between consecutive answered samples in [start, end]."""
    values = [value(s) for s in samples if s.ok and start <= s.t <= end]
    return sum(1 for a, b in itertools.pairwise(values) if a != b)


def restarts_between(samples: Sequence[Sample], start: float, end: float) -> int | None:
    """Supervisor restarts (total over the tree) that happened between ``start`` and ``end``:
    the count in the first sample at or after ``end`` less the last one at or before ``start``
    (a soak samples for hours after a fault; later restarts are not this fault's)."""
    counts = [s.restarts for s in samples if s.restarts is not None]
    before = [s.restarts for s in samples if s.restarts is not None and s.t <= start]
    after = [s.restarts for s in samples if s.restarts is not None and s.t >= end]
    if not counts:
        return None
    return (after[0] if after else counts[-1]) - (before[-1] if before else counts[0])


def late_tick_increase(samples: Sequence[Sample], start: float, end: float) -> int:
    """Late mixer ticks counted between ``start`` and ``end``."""
    inside = [s.late_ticks for s in samples if s.ok and start <= s.t <= end]
    return (inside[-1] - inside[0]) if len(inside) > 1 else 0


def cpu_mean(samples: Sequence[Sample], start: float, end: float) -> float:
    values = [s.cpu_pct for s in samples if start <= s.t <= end and s.cpu_pct > 0]
    return statistics.fmean(values) if values else 0.0


def max_api_ms(samples: Sequence[Sample], start: float, end: float) -> float:
    return max((s.api_ms for s in samples if start <= s.t <= end), default=0.0)


def fmt(value: float | None, unit: str = "s", digits: int = 2) -> str:
    """A figure for a pass line: ``1.23 s``, or ``never`` when it did not happen."""
    if value is None:
        return "never"
    return f"{value:.{digits}f} {unit}".rstrip()
