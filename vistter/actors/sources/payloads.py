"""Status payloads of the source stage, typed so the checker sees their keys.

Built by the source actors (cameras, video files, stills, the slate); served as JSON by the
API and published on the telemetry bus.
"""

from __future__ import annotations

from typing import NotRequired, TypedDict

__all__ = ["CameraStatus", "IngestStatus", "SlateStatus", "SourceEventFields", "StillStatus"]


class SourceEventFields(TypedDict):
    """What identifies an ingest source in its events and status: its source id and label,
    plus the ``camera_id`` of a camera or the ``path`` of a video file."""

    source_id: str
    name: str
    camera_id: NotRequired[int]
    path: NotRequired[str]


class IngestStatus(SourceEventFields):
    """What an ingest source (camera or video file) is doing, safe to show (no credentials).

    ``since`` is a monotonic reading; ``pid`` is None while no ingest runs; ``reconnect_in``
    is None unless a reconnect is pending. ``late_not_stalled`` counts the times its frames
    were late but its ingest was still being fed (the machine was slow, not the source), so
    no stall was declared; ``late_reason`` says why the latest was.
    """

    state: str
    detail: str
    since: float
    for_seconds: float
    frames_received: int
    fps: float
    url: str
    pid: int | None
    restarts: int
    last_error: str
    reconnect_in: float | None
    late_not_stalled: int
    late_reason: str


class CameraStatus(IngestStatus):
    """A camera's ingest status with the camera's ``id``."""

    id: int


class StillStatus(TypedDict):
    """A still image source: its file and how many frames it published."""

    source_id: str
    path: str
    state: str
    frames_published: int


class SlateStatus(TypedDict):
    """The slate: its image, the message drawn on it (None: none) and frames published."""

    source_id: str
    image: str
    message: str | None
    state: str
    frames_published: int
