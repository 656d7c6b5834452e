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
    "Deleted",
    "DestinationAdded",
    "DestinationList",
    "DestinationRemoved",
    "ErrorReply",
    "ExecutionList",
    "ExecutionReply",
    "HealthReply",
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
    ``timeline.tracks.video.cues[1].duration``), what, and how to fix it."""

    path: str
    message: str
    hint: str


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


class StatusReply(LooseObject):
    """What is on air (``on_air``), the format, the encoder and why it was chosen
    (``encoder``), the program's parts (``program``), every source's health (``sources``),
    the fallback (``fallback``) and every output (``destinations``)."""

    on_air: dict[str, Any]
    encoder: dict[str, Any]


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
    ``next_cue``, ``overlays``, ``overrides``, ``program_frame``, ``source`` and ``error``.
    Live text answers with the cue, its text and whether it is on air."""


class TimelineSummaryReply(_Reply):
    id: int
    key: str
    name: str
    duration: int | float
    modified_at: str
    is_active: bool
    is_running: bool


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
    is_active: bool
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


class AssetReply(_Reply):
    id: int
    asset_type: str
    filename: str
    file_path: str = Field(description="How a timeline refers to the asset.")
    file_size: int
    mime_type: str
    checksum: str
    uploaded_at: str
    metadata: dict[str, Any]


class AssetList(_Reply):
    assets: list[AssetReply]
