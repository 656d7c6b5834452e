"""Status payloads of the show, typed so the checker sees their keys.

Built by the orchestrator, the override desk, the run log and the track executors; served as
JSON by the API, published on ``event.show`` and stored with execution records as they are.
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict

__all__ = [
    "CounterName",
    "CueInfo",
    "NextCue",
    "NextPayload",
    "OverlayShown",
    "OverridesPayload",
    "PositionPayload",
    "PreflightItemPayload",
    "PreflightPayload",
    "PtzPreroll",
    "RunMetrics",
    "ShowStatus",
    "TextUpdate",
    "TimelineInfo",
    "TrackSync",
    "VideoTrackSync",
]

CounterName = Literal[
    "pauses", "jumps", "override_slate", "override_camera", "override_pin",
    "override_clear_overlays", "live_text",
]
"""The run counters of a show (``ShowState.count``)."""


class OverridesPayload(TypedDict):
    """The manual overrides in force."""

    slate: bool
    forced_camera: int | None
    pinned_source: str | None
    overlays_cleared: bool
    slate_frame: int | None  # the program frame the slate took effect on (None: no slate)


class PositionPayload(TypedDict):
    """Where the show stands: show frame, loop iteration, timeline frame and seconds."""

    show_frame: int
    iteration: int
    frame: int
    seconds: float
    ended: bool


class TimelineInfo(TypedDict):
    """The loaded timeline, as the show status names it."""

    id: str
    name: str
    db_id: int | None
    duration: float
    loop: bool
    tracks: list[str]


class NextCue(TypedDict):
    """The next video cue: its id, where it starts in the timeline and how soon."""

    id: str
    start_seconds: float
    in_seconds: float


class OverlayShown(TypedDict):
    """An overlay on air: its track, cue and z-order, and how many seconds it stays on air
    (``None``: until it is taken off)."""

    track: str
    cue: str | None
    z: int
    left_seconds: float | None


class CueInfo(TypedDict):
    """One cue of the loaded timeline, for a position bar and a jump list: its track, what
    it does (``show_camera``, ``show_media``, ``show_overlay``), when (timeline seconds),
    what it shows (``Camera 2``, a file, an overlay type), and for a text overlay its text
    now (the operator's live text when one was set; ``None`` for cues without text)."""

    id: str
    track: str
    action: str
    start_seconds: float
    end_seconds: float
    label: str
    text: str | None


class NextPayload(TypedDict):
    """The timeline queued to go on air next, and when (None while paused or not live):
    ``at_frame`` program frame, ``at`` local wall-clock time (ISO 8601), ``in_seconds``."""

    timeline_id: int | None
    name: str
    at_frame: int | None
    at: str | None
    in_seconds: float | None


class ShowStatus(TypedDict):
    """The show as the API and telemetry show it (``show_status``)."""

    state: str
    timeline: TimelineInfo | None
    position: PositionPayload | None
    video_cue: str | None
    next_cue: NextCue | None
    cues: list[CueInfo]
    overlays: list[OverlayShown]
    overrides: OverridesPayload
    program_frame: int
    source: str | None  # on air, after the fallback (a backup camera, the slate)
    scheduled_source: str | None  # what the timeline wants at program_frame
    take_frame: int | None  # the program frame scheduled_source's take took effect on
    armed_through: int
    execution_id: int | None
    error: str | None


class TextUpdate(TypedDict):
    """The answer to a live text change: ``on_air`` says whether a showing took it now."""

    cue_id: str
    text: str | None
    on_air: bool


class PreflightItemPayload(TypedDict):
    """One preflight finding."""

    check: str
    subject: str
    status: str
    message: str
    hint: str


class PreflightPayload(TypedDict):
    """A preflight report: whether nothing blocks, the counts, and every finding."""

    ok: bool
    errors: int
    warnings: int
    items: list[PreflightItemPayload]


class RunMetrics(TypedDict):
    """What an execution record keeps of a run: time on air, armed changes that reached the
    program (how many late, by how much at most) and the run's counters."""

    frames: int
    seconds: float
    changes: int
    late_changes: int
    max_late_frames: int
    pauses: NotRequired[int]
    jumps: NotRequired[int]
    override_slate: NotRequired[int]
    override_camera: NotRequired[int]
    override_pin: NotRequired[int]
    override_clear_overlays: NotRequired[int]
    live_text: NotRequired[int]


class TrackSync(TypedDict):
    """A track executor's answer to ``sync``: its track and how many rounds it ran."""

    track: str
    rounds: int


class PtzPreroll(TypedDict):
    """One PTZ pre-roll of the video track: which move, whether on air, and how it went."""

    cue: str
    camera_id: int
    preset: str
    on_air: bool
    ok: bool
    started: float
    frame: int
    finished: float
    message: str


class VideoTrackSync(TrackSync):
    """The video track's ``sync``: the latest PTZ pre-rolls too."""

    prerolls: list[PtzPreroll]
