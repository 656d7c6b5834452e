"""The JSON answers of the library routes, built through their documented models
(:mod:`vistter.api.replies`), so ``/api/openapi.json`` describes exactly what is sent."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from pydantic import BaseModel
from starlette.responses import JSONResponse

from vistter.api.errors import NO_STORE
from vistter.api.library_show import LoadedShow
from vistter.api.replies import (
    AssetReply,
    AssetUserReply,
    ExecutionReply,
    LastRunReply,
    TimelineRecordReply,
    TimelineSummaryReply,
)
from vistter.models.validation import TimelineInvalid, problem_json
from vistter.store import AssetRecord, ExecutionRecord, TimelineRecord, TimelineSummary
from vistter.store.asset_usage import AssetUser

__all__ = [
    "asset_json",
    "execution_json",
    "export_disposition",
    "invalid_timeline_response",
    "problem_json",
    "reply",
    "timeline_record_json",
    "timeline_summary_json",
]



def reply(model: type[BaseModel], **fields: Any) -> dict[str, Any]:
    """An answer built through its documented model, as JSON-ready data."""
    return model(**fields).model_dump(mode="json", exclude_none=False)


def timeline_summary_json(summary: TimelineSummary, show: LoadedShow | None = None
                          ) -> dict[str, Any]:  # fmt: skip
    """One line of ``GET /api/timelines``; ``show`` is what the show has loaded, if known.
    On air: a run of it is in progress (the execution log), or the show has it live."""
    loaded = show is not None and show.timeline_id == summary.id
    run = summary.last_run
    last_run = None if run is None else LastRunReply(
        started_at=run.started_at.isoformat(),
        ended_at=None if run.ended_at is None else run.ended_at.isoformat(),
        result=run.result,
        error=run.error,
    )
    return reply(
        TimelineSummaryReply,
        id=summary.id,
        key=summary.key,
        name=summary.name,
        description=summary.description,
        duration=summary.duration,
        duration_s=summary.duration,
        fps=summary.fps,
        resolution=summary.resolution,
        loop=summary.loop,
        tracks=summary.tracks,
        cues=summary.cues,
        modified_at=summary.modified_at.isoformat(),
        updated_at=summary.modified_at.isoformat(),
        is_active=summary.is_active,
        is_running=summary.is_running,
        on_air=summary.is_running or (loaded and show is not None and show.on_air),
        loaded=loaded,
        etag=summary.etag,
        last_run=last_run,
    )


def timeline_record_json(record: TimelineRecord, *, document: bool) -> dict[str, Any]:
    """A stored timeline's columns, with its whole ``document`` when asked."""
    body = reply(
        TimelineRecordReply,
        id=record.id,
        key=record.key,
        name=record.name,
        description=record.description,
        duration=record.duration,
        fps=record.fps,
        resolution=record.resolution,
        created_at=record.created_at.isoformat(),
        modified_at=record.modified_at.isoformat(),
        updated_at=record.modified_at.isoformat(),
        is_active=record.is_active,
        etag=record.etag,
        document=record.document if document else None,
    )
    if not document:
        del body["document"]
    return body


def execution_json(record: ExecutionRecord) -> dict[str, Any]:
    """One run of a timeline."""
    return reply(
        ExecutionReply,
        id=record.id,
        timeline_id=record.timeline_id,
        timeline_name=record.timeline_name,
        status=record.status,
        started_at=record.started_at.isoformat(),
        completed_at=None if record.completed_at is None else record.completed_at.isoformat(),
        duration_seconds=record.duration_seconds,
        error_message=record.error_message,
        metrics=record.metrics,
    )


def _whole(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _seconds(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return None


def asset_json(record: AssetRecord, users: list[AssetUser]) -> dict[str, Any]:
    """A stored asset; ``file_path`` is how a timeline refers to it, ``used_by`` the stored
    timelines that do. Width, height and duration come from the probe made at upload."""
    metadata = record.metadata
    return reply(
        AssetReply,
        id=record.id,
        asset_type=record.asset_type,
        kind=record.asset_type,
        filename=record.filename,
        name=record.filename,
        file_path=record.file_path,
        file_size=record.file_size,
        size=record.file_size,
        mime_type=record.mime_type,
        checksum=record.checksum,
        uploaded_at=record.uploaded_at.isoformat(),
        metadata=metadata,
        width=_whole(metadata.get("width")),
        height=_whole(metadata.get("height")),
        duration_s=_seconds(metadata.get("duration")),
        used_by=[AssetUserReply(id=user.id, name=user.name) for user in users],
        thumbnail_url=None if record.asset_type == "audio"
        else f"/api/assets/{record.id}/thumbnail.jpg",
    )


def invalid_timeline_response(error: TimelineInvalid) -> JSONResponse:
    """422 with the error and every problem (path, message, hint)."""
    body: dict[str, Any] = {
        **error.to_dict(),
        "problems": [problem_json(problem) for problem in error.problems],
    }
    return JSONResponse(body, status_code=422, headers=NO_STORE)


def export_disposition(key: str) -> str:
    """``Content-Disposition`` of an export: ``<key>.timeline.json`` as an attachment."""
    ascii_name = re.sub(r"[^A-Za-z0-9._-]+", "_", key).strip("._-") or "timeline"
    header = f'attachment; filename="{ascii_name}.timeline.json"'
    if ascii_name != key:
        header += f"; filename*=UTF-8''{quote(key, safe='')}.timeline.json"
    return header
