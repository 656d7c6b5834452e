"""The response bodies of the control API, as pydantic models.

The library routes build their answers through these models (``reply(Model, ...)``), so the
OpenAPI document generated from them is what the routes send. The status payloads that the
actors produce (show status, program status, destination status) are documented loosely:
an object with the keys listed, more keys allowed.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AssetList",
    "AssetReply",
    "AssetUserReply",
    "DegradedReply",
    "DegradedSignalReply",
    "Deleted",
    "DestinationAdded",
    "DestinationList",
    "DestinationRemoved",
    "ErrorReply",
    "ExecutionList",
    "ExecutionReply",
    "HealthReply",
    "LastRunReply",
    "LooseObject",
    "ProblemReply",
    "RestartReply",
    "ShowStatusReply",
    "StatusReply",
    "SupervisionNode",
    "TimelineList",
    "TimelineRecordReply",
    "TimelineSummaryReply",
    "ValidationReply",
]


class _Reply(BaseModel):
    """A closed answer: every key is documented."""

    model_config = ConfigDict(extra="forbid")


class LooseObject(BaseModel):
    """An object whose documented keys are always there; more keys may come."""

    model_config = ConfigDict(extra="allow")


class ProblemReply(_Reply):
    """One thing wrong with a document: where (a field path such as
    ``timeline.tracks.video.cues[1].duration``), what, and how to fix it.

    A timeline's problems also say which cue and track they concern, so a page can draw the
    problem on the block (``null`` when it is about the timeline as a whole)."""

    path: str
    message: str
    hint: str
    cue_id: str | None = Field(default=None, description="The cue's id as the document has it.")
    cue_index: int | None = Field(default=None, description="The cue's place in its track.")
    track_id: str | None = Field(default=None, description="The track's track_id.")
    track_index: int | None = Field(
        default=None, description="0 = the video track, 1 = the first overlay track, ..."
    )
    track_type: Literal["video", "overlay"] | None = None


class ErrorReply(_Reply):
    """Every refusal: the error's kind, what is wrong, how to fix it (and, for a document,
    every problem with its path)."""

    error: str = Field(description="The kind of error, e.g. TimelineInvalid.")
    problem: str = Field(description="What is wrong.")
    hint: str = Field(description="How to fix it.")
    problems: list[ProblemReply] | None = None


class ActorCount(_Reply):
    running: int
    total: int


class HealthReply(_Reply):
    status: Literal["ok", "degraded"]
    version: str
    uptime_seconds: float
    actors: ActorCount


class SupervisionNode(LooseObject):
    """One node of the live supervision tree (a supervisor or a worker)."""

    id: str
    path: str
    kind: str
    state: str
    restarts: int = 0
    pids: list[int] = Field(default_factory=list)
    children: list[SupervisionNode] = Field(default_factory=list)


class ValidationReply(_Reply):
    valid: bool
    problems: list[ProblemReply]


class RestartReply(_Reply):
    restarted: str


class DegradedSignalReply(_Reply):
    """One signal of degraded mode: its verdict and why, with figures."""

    verdict: Literal["good", "marginal", "bad"]
    reason: str


class DegradedReply(_Reply):
    """Degraded mode: how far down (``level``: rungs in all; ``network_level``: bitrate
    steps; ``load_level``: overlay, size and rate steps), the ``steps`` active in words, the
    ``reason`` for the last step down with figures, ``since`` (Unix time), the encode it asks
    for (``bitrate_kbps``, ``height``, ``fps``; null: as configured), ``overlays`` (full,
    simplified, off), whether the encoder has taken it (``applied``) and the signals now."""

    enabled: bool
    active: bool
    level: int
    network_level: int
    load_level: int
    steps: list[str]
    reason: str
    since: float | None
    bitrate_kbps: int | None
    height: int | None
    fps: int | None
    overlays: Literal["full", "simplified", "off"]
    applied: bool
    last_error: str
    signals: dict[str, DegradedSignalReply]


class StatusReply(LooseObject):
    """What is on air (``on_air``), the format, the encoder and why it was chosen
    (``encoder``), the program's parts (``program``), every source's health (``sources``),
    the fallback (``fallback``) and every output (``destinations``)."""

    on_air: dict[str, Any]
    encoder: dict[str, Any]
    degraded: DegradedReply | None = Field(
        default=None, description="Degraded mode (null: not running in this appliance)."
    )


class DestinationList(_Reply):
    destinations: list[dict[str, Any]] = Field(
        description="Every output: id, child, state, bytes accepted, bitrate, next retry; "
        "stream keys masked."
    )


class DestinationAdded(_Reply):
    id: str
    child: str
    url: str = Field(description="The publish URL with the stream key masked.")


class DestinationRemoved(_Reply):
    removed: str


class ShowStatusReply(LooseObject):
    """The show: ``state`` (idle, preflight, starting, live, paused, stopping, stopped,
    error), the loaded ``timeline``, ``position``, the ``video_cue`` on air, the
    ``next_cue``, ``overlays``, ``overrides``, ``program_frame``, ``source`` (on air, after
    the fallback: a backup camera, the slate), ``scheduled_source`` (what the timeline wants),
    ``take_frame`` (the program frame that source's take took effect on), ``error`` and
    ``next`` (the timeline queued to go on air next: ``timeline_id``, ``name``, ``at``, or
    null). Live text answers with the cue, its text and whether it is on air."""


class LastRunReply(_Reply):
    """The newest run of a timeline, from the execution log."""

    started_at: str
    ended_at: str | None = Field(description="null while it runs.")
    result: Literal["running", "completed", "stopped", "error"]
    error: str | None


class TimelineSummaryReply(_Reply):
    """One timeline of the library, with what its line on a library page shows."""

    id: int
    key: str
    name: str
    description: str | None
    duration: int | float
    duration_s: int | float = Field(description="The same as duration: seconds.")
    fps: int
    resolution: str
    loop: bool
    tracks: int = Field(description="How many tracks (the video track and overlay tracks).")
    cues: int = Field(description="How many cues on all tracks.")
    modified_at: str
    updated_at: str = Field(description="The same as modified_at.")
    is_active: bool
    is_running: bool
    on_air: bool = Field(description="A run of it is in progress (it cannot be deleted), or "
                         "the show has it live.")
    loaded: bool = Field(description="The show has it loaded (live or not).")
    etag: str = Field(description="Its stored version; send it back as If-Match.")
    last_run: LastRunReply | None


class TimelineList(_Reply):
    timelines: list[TimelineSummaryReply]


class TimelineRecordReply(_Reply):
    id: int
    key: str
    name: str
    description: str | None
    duration: int | float
    fps: int
    resolution: str
    created_at: str
    modified_at: str
    updated_at: str = Field(description="The same as modified_at.")
    is_active: bool
    etag: str = Field(description="Its stored version (also the ETag header); send it back "
                      "as If-Match to change it only if nobody else did meanwhile.")
    document: dict[str, Any] | None = Field(
        default=None, description="The whole timeline document (GET only)."
    )


class Deleted(_Reply):
    deleted: int


class ExecutionReply(_Reply):
    id: int
    timeline_id: int | None
    timeline_name: str
    status: str
    started_at: str
    completed_at: str | None
    duration_seconds: int | float | None
    error_message: str | None
    metrics: dict[str, Any] | None


class ExecutionList(_Reply):
    executions: list[ExecutionReply]


class AssetUserReply(_Reply):
    """A stored timeline that uses an asset."""

    id: int
    name: str


class AssetReply(_Reply):
    id: int
    asset_type: str
    kind: str = Field(description="The same as asset_type: image, video or audio.")
    filename: str
    name: str = Field(description="The same as filename.")
    file_path: str = Field(description="How a timeline refers to the asset.")
    file_size: int
    size: int = Field(description="The same as file_size: bytes.")
    mime_type: str
    checksum: str
    uploaded_at: str
    metadata: dict[str, Any]
    width: int | None = Field(description="Pixels, when known.")
    height: int | None = Field(description="Pixels, when known.")
    duration_s: int | float | None = Field(description="Seconds of a video or audio file.")
    used_by: list[AssetUserReply] = Field(description="The stored timelines that use it.")
    thumbnail_url: str | None = Field(description="A small JPEG of it (null for audio).")


class AssetList(_Reply):
    assets: list[AssetReply]
