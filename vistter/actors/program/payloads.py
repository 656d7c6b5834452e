"""Status payloads of the program stage, typed so the checker sees their keys.

Built by the program state, the mixer and the fallback policy; served as JSON by the API and
published on the telemetry bus as they are.
"""

from __future__ import annotations

from typing import NotRequired, TypedDict

__all__ = [
    "FallbackRoute",
    "MixerCounters",
    "MixerMetrics",
    "MixerStatus",
    "OnAir",
    "OverlayOnAir",
]


class OverlayOnAir(TypedDict):
    """One armed overlay showing: its layer, z-order, frames (``end`` None: until hidden),
    opacity and tag (the cue)."""

    layer_id: str
    z: int
    start: int
    end: int | None
    opacity: float
    tag: str | None


class OnAir(TypedDict):
    """What the program state holds at its last planned ``frame``."""

    frame: int
    source: str | None
    pending_takes: int
    overlays: list[OverlayOnAir]


class FallbackRoute(TypedDict):
    """Where a wanted source goes (``on_air``), why, and since when it is down."""

    on_air: str
    reason: str
    down_since: float | None


class MixerCounters(TypedDict):
    """What the mixer's status and its metrics share: frames emitted, composed and repeated,
    compose times, the source wanted and the one on air, queue drops and buffers allocated."""

    index: int | None
    frames: int
    composed: int
    repeated: int
    stale_source_frames: int
    compose_ms_mean: float
    compose_ms_max: float
    on_air: str | None
    wanted: str | None
    queue_dropped: int
    buffers_allocated: int
    band_buffers_allocated: int


class MixerMetrics(MixerCounters):
    """Published on ``metrics.program`` every metrics interval (compose times over the
    interval; the clock's counters once it runs)."""

    fps: float
    late_ticks: NotRequired[int]
    dropped: NotRequired[int]


class MixerStatus(MixerCounters):
    """For status pages (compose times since the start)."""

    running: bool
    virtual: bool
    format: str
    first_index: int
    late_ticks: int
    dropped: int
    fallback: NotRequired[dict[str, FallbackRoute]]
