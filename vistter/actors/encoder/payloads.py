"""Status payloads of the encoder stage, typed so the checker sees their keys.

Built by the encoder actor and its progress parser; served as JSON by the API (inside the
appliance status) and published on ``metrics.stream``.
"""

from __future__ import annotations

from typing import TypedDict

__all__ = ["EncoderCounters", "EncoderMetrics", "EncoderStatus", "ProgressPayload"]


class ProgressPayload(TypedDict):
    """ffmpeg's last ``-progress`` block (None: ffmpeg did not report that field)."""

    frame: int | None
    fps: float | None
    bitrate_kbps: float | None
    total_size: int | None
    out_time: float | None
    speed: float | None
    dup_frames: int | None
    drop_frames: int | None
    ended: bool


class EncoderStatus(TypedDict):
    """Which encoder runs, why, and how it is doing (``progress`` None before the first
    block; ``pid`` None while no ffmpeg runs)."""

    state: str
    encoder: str
    hardware: bool
    encoder_reason: str
    command: str
    pid: int | None
    ts_offset: float
    first_frame: int | None
    """The program frame the running encode started at (its first keyframe)."""
    overrides: dict[str, int | None]
    """Degraded mode's changes in force (bitrate_kbps, height, fps; None: as configured)."""
    handovers: int
    """Planned handovers to a new encode (new settings, a keyframe at GO LIVE) so far."""
    frames_rewound: int
    """Frames this encoder encoded again because the one before it died with them."""
    frames_written: int
    frames_repeated: int
    frames_dropped: int
    bytes_out: int
    progress: ProgressPayload | None
    stderr_tail: list[str]


class EncoderCounters(TypedDict):
    """What every ``metrics.stream`` sample of the encoder carries. The stream sampler
    reads the CPU of ``pid``."""

    component: str
    pid: int | None
    encoder: str
    hardware: bool
    frames_written: int
    frames_dropped: int
    bytes_out: int
    pipe_dropped_bytes: int


class EncoderMetrics(EncoderCounters, total=False):
    """Published on ``metrics.stream`` every metrics interval; the progress keys (see
    :class:`ProgressPayload`) are there once ffmpeg reported a block."""

    frame: int | None
    fps: float | None
    bitrate_kbps: float | None
    total_size: int | None
    out_time: float | None
    speed: float | None
    dup_frames: int | None
    drop_frames: int | None
    ended: bool
