"""Stream health by the spec's rules (``check_stream_health``), as a pure function.

The spec's rules, on the figures of :mod:`vistter.telemetry.stream` (``STREAM_METRICS``):

* ``encoding_cpu`` above 90 %: warning "High CPU usage", state ``degraded``;
* more than 5 dropped frames per second: error "Dropping frames", state ``unhealthy``;
* ``buffer_fullness`` below 10 %: warning "Low buffer" (the state is unchanged);
* a destination whose status is not ``active``: error "<id> disconnected", ``unhealthy``.

A destination that is deliberately not publishing (``idle`` or ``standby``: before GO LIVE
on an appliance that is not always on air) is not counted as disconnected. Each reason
carries the figure that triggered it, so the operator sees how far off it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from vistter.telemetry.payloads import StreamHealthPayload

__all__ = ["HealthState", "HealthThresholds", "StreamHealth", "check_stream_health"]

HealthState = Literal["healthy", "degraded", "unhealthy"]
_RANK: dict[HealthState, int] = {"healthy": 0, "degraded": 1, "unhealthy": 2}
NOT_PUBLISHING = frozenset({"idle", "standby"})


@dataclass(frozen=True, slots=True)
class HealthThresholds:
    """The spec's limits: CPU in %, dropped frames per second, buffer in %."""

    cpu_percent: float = 90.0
    dropped_per_second: float = 5.0
    buffer_percent: float = 10.0


@dataclass(frozen=True, slots=True)
class StreamHealth:
    """The verdict: ``state`` and why (``errors`` first, then ``warnings``)."""

    state: HealthState
    warnings: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()

    @property
    def reasons(self) -> tuple[str, ...]:
        return (*self.errors, *self.warnings)

    def to_dict(self) -> StreamHealthPayload:
        """For ``/api/status`` and the bus: ``state``, ``reasons``, ``warnings``, ``errors``."""
        return {
            "state": self.state,
            "reasons": list(self.reasons),
            "warnings": list(self.warnings),
            "errors": list(self.errors),
        }


def check_stream_health(
    metrics: Mapping[str, Any],
    dropped_frames_per_second: float,
    thresholds: HealthThresholds = HealthThresholds(),
) -> StreamHealth:
    """The health of one ``STREAM_METRICS`` reading (``encoding_cpu``, ``buffer_fullness``,
    ``destinations``: ``{id: {"status", "bitrate"}}``). Pure: same input, same answer."""
    state: HealthState = "healthy"
    warnings: list[str] = []
    errors: list[str] = []

    def worsen(to: HealthState) -> None:
        nonlocal state
        if _RANK[to] > _RANK[state]:
            state = to

    cpu = _number(metrics.get("encoding_cpu"))
    if cpu is not None and cpu > thresholds.cpu_percent:
        warnings.append(f"High CPU usage: the encoder uses {cpu:.1f} % "
                        f"(more than {thresholds.cpu_percent:g} %)")  # fmt: skip
        worsen("degraded")
    if dropped_frames_per_second > thresholds.dropped_per_second:
        errors.append(f"Dropping frames: {dropped_frames_per_second:.1f} per second "
                      f"(more than {thresholds.dropped_per_second:g})")  # fmt: skip
        worsen("unhealthy")
    buffer = _number(metrics.get("buffer_fullness"))
    if buffer is not None and buffer < thresholds.buffer_percent:
        warnings.append(f"Low buffer: {buffer:.0f} % (less than "
                        f"{thresholds.buffer_percent:g} %)")  # fmt: skip
    destinations = metrics.get("destinations") or {}
    for destination, entry in sorted(destinations.items()):
        status = entry.get("status") if isinstance(entry, Mapping) else entry
        if status != "active" and status not in NOT_PUBLISHING:
            errors.append(f"{destination} disconnected ({status})")
            worsen("unhealthy")
    return StreamHealth(state, tuple(warnings), tuple(errors))


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
