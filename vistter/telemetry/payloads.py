"""Status payloads of the telemetry package, typed so the checker sees their keys.

Built by the telemetry publisher, the metrics registry and the stream health check; served
as JSON by the API and published on the telemetry bus.
"""

from __future__ import annotations

from typing import NotRequired, TypedDict

__all__ = [
    "DestinationReading",
    "HistogramBucket",
    "MetricPayload",
    "MetricPoint",
    "MetricsSnapshot",
    "PublisherStats",
    "StreamHealthPayload",
    "StreamMetricsPayload",
    "StreamReading",
]


class PublisherStats(TypedDict):
    """The telemetry publisher: its id, the endpoint bound, messages sent and dropped, and
    how many topics it has published on."""

    publisher: str
    endpoint: str
    sent: int
    dropped: int
    topics: int


class StreamHealthPayload(TypedDict):
    """The stream's health for ``/api/status`` and the bus: errors then warnings make up
    ``reasons``. ``state`` is ``healthy``, ``degraded`` or ``unhealthy`` (``unknown``
    before the first stream reading)."""

    state: str
    reasons: list[str]
    warnings: list[str]
    errors: list[str]


class HistogramBucket(TypedDict):
    """A cumulative histogram bucket: ``le`` is the upper bound (``"+Inf"`` for the last)."""

    le: float | str
    count: int


class MetricPoint(TypedDict):
    """One point of an instrument: a counter or gauge point has ``value``; a histogram
    point ``count``, ``sum``, ``min``/``max`` (None while it has no measurement) and
    cumulative ``buckets``; a point of a kind the snapshot does not know only its
    ``attributes``."""

    attributes: dict[str, object]
    value: NotRequired[int | float]
    count: NotRequired[int]
    sum: NotRequired[int | float]
    min: NotRequired[int | float | None]
    max: NotRequired[int | float | None]
    buckets: NotRequired[list[HistogramBucket]]


class MetricPayload(TypedDict):
    """One instrument: ``counter``, ``up_down_counter``, ``gauge`` or ``histogram``."""

    kind: str
    unit: str
    description: str
    points: list[MetricPoint]


class MetricsSnapshot(TypedDict):
    """Current values of every instrument at ``time`` (unix seconds)."""

    time: float
    metrics: dict[str, MetricPayload]


class DestinationReading(TypedDict):
    """One output in a stream reading: ``active`` while live (else its state), and the
    bitrate handed to it over the last interval (Mbit/s)."""

    status: str
    bitrate: float


class StreamReading(TypedDict):
    """The spec's ``STREAM_METRICS`` (see :mod:`vistter.telemetry.stream` for each field)."""

    bitrate_current: float
    bitrate_target: float
    framerate_actual: float
    framerate_target: float
    dropped_frames: int
    encoding_cpu: float
    encoding_time_ms: float
    buffer_fullness: float
    uptime_seconds: int
    total_bytes_sent: int
    destinations: dict[str, DestinationReading]


class StreamMetricsPayload(StreamReading):
    """A reading as published on ``metrics.stream`` (``component: "stream"``), with the
    drop rate and the stream's health."""

    component: str
    dropped_frames_per_second: float
    health: StreamHealthPayload
