"""Status payloads of the output stage, typed so the checker sees their keys.

Built by the output actors (publisher, recorder) and the preview; served as JSON by
``GET /api/destinations`` and shown in the appliance status.
"""

from __future__ import annotations

from typing import NotRequired, TypedDict

from vistter.actors.outputs.session_limit import SessionLimitStatus

__all__ = [
    "OutputStatus",
    "OutputStatusExtra",
    "PreviewStatus",
    "RecordingSegment",
    "ViewerStatus",
]


class RecordingSegment(TypedDict):
    """One segment file a recorder wrote: file name, full path, size and mtime (epoch s)."""

    name: str
    path: str
    bytes: int
    mtime: float


class OutputStatusExtra(TypedDict, total=False):
    """What one kind of output adds to the common status: a publisher its ``platform``,
    redacted ``url`` and ``reachable`` (None: not probed yet); a recorder its ``platform``,
    folder ``path``, segment length and count, bytes recorded and the newest segments."""

    platform: str
    url: str
    reachable: bool | None
    session_limit: SessionLimitStatus
    path: str
    segment_seconds: int
    segment_count: int
    recorded_bytes: int
    segments: list[RecordingSegment]


class OutputStatus(TypedDict):
    """An output (publisher or recorder) as the API and telemetry show it (no secrets)."""

    id: str
    kind: str
    state: str
    since: float
    attempt: int
    max_attempts: int
    next_retry_in: float | None
    bytes_sent: int
    input_bytes: int
    bitrate_kbps: float
    last_error: str
    pid: int | None
    on_air_only: bool
    platform: NotRequired[str]
    url: NotRequired[str]
    reachable: NotRequired[bool | None]
    session_limit: NotRequired[SessionLimitStatus]
    path: NotRequired[str]
    segment_seconds: NotRequired[int]
    segment_count: NotRequired[int]
    recorded_bytes: NotRequired[int]
    segments: NotRequired[list[RecordingSegment]]


class ViewerStatus(TypedDict):
    """One preview viewer: who, for how long, bytes sent and queued, and why it ended."""

    id: str
    peer: str
    seconds: float
    bytes_out: int
    queued_bytes: int
    waiting_for_keyframe: bool
    ended: str | None


class PreviewStatus(TypedDict):
    """The preview output as ``GET /api/destinations`` shows it: viewers and counters."""

    id: str
    kind: str
    platform: str
    state: str
    url: str
    viewers: list[ViewerStatus]
    max_viewers: int
    viewer_queue_bytes: int
    viewers_served: int
    viewers_refused: int
    viewers_dropped_slow: int
    bytes_sent: int
