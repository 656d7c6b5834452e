"""Status payloads of the fanout stage, typed so the checker sees their keys.

Built by the fanout actor; served as JSON by the API (inside the appliance status) and
published on ``metrics.stream`` (``component: fanout``).
"""

from __future__ import annotations

from typing import TypedDict

__all__ = ["DestinationQueueMetrics", "FanoutMetrics", "FanoutStatus", "StreamStats"]


class StreamStats(TypedDict):
    """The stream as the fanout sees it: PIDs found (None: not yet), packets, keyframes,
    bytes skipped to re-align, re-alignments, discontinuities and batches fanned out."""

    video_pid: int | None
    pmt_pid: int | None
    packets: int
    keyframes: int
    skipped_bytes: int
    realignments: int
    discontinuities: int
    batches: int


class FanoutStatus(StreamStats):
    """The fanout's status: the stream, the encoder pipe's counters and every destination
    queue's counters (by destination id)."""

    state: str
    pipe: dict[str, int]
    destinations: dict[str, dict[str, object]]


class DestinationQueueMetrics(TypedDict):
    """One destination queue in the fanout's metrics."""

    queued_bytes: int
    bytes_out: int
    dropped_bytes: int
    resyncs: int
    waiting_for_keyframe: bool


class FanoutMetrics(StreamStats):
    """Published on ``metrics.stream`` every metrics interval."""

    component: str
    pipe_dropped_bytes: int
    destinations: dict[str, DestinationQueueMetrics]
