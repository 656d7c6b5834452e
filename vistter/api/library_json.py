"""The JSON answers of the library routes, built through their documented models
(:mod:`vistter.api.replies`), so ``/api/openapi.json`` describes exactly what is sent."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from pydantic import BaseModel
from starlette.responses import JSONResponse

from vistter.api.errors import NO_STORE
from vistter.api.replies import (
    AssetReply,
    ExecutionReply,
    TimelineRecordReply,
    TimelineSummaryReply,
)
from vistter.models.validation import TimelineInvalid
from vistter.store import AssetRecord, ExecutionRecord, TimelineRecord, TimelineSummary

__all__ = [
    "asset_json",
    "execution_json",
    "export_disposition",
    "invalid_timeline_response",
    "reply",
    "timeline_record_json",
    "timeline_summary_json",
]



def reply(model: type[BaseModel], **fields: Any) -> dict[str, Any]:
    """An answer built through its documented model, as JSON-ready data."""
    return model(**fields).model_dump(mode="json", exclude_none=False)


def timeline_summary_json(summary: TimelineSummary) -> dict[str, Any]:
    """One line of ``GET /api/timelines``."""
    return reply(
        TimelineSummaryReply,
        id=summary.id,
        key=summary.key,
        name=summary.name,
        duration=summary.duration,
        modified_at=summary.modified_at.isoformat(),
        is_active=summary.is_active,
        is_running=summary.is_running,
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
        is_active=record.is_active,
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


def asset_json(record: AssetRecord) -> dict[str, Any]:
    """A stored asset; ``file_path`` is how a timeline refers to it."""
    return reply(
        AssetReply,
        id=record.id,
        asset_type=record.asset_type,
        filename=record.filename,
        file_path=record.file_path,
        file_size=record.file_size,
        mime_type=record.mime_type,
        checksum=record.checksum,
        uploaded_at=record.uploaded_at.isoformat(),
        metadata=record.metadata,
    )


def invalid_timeline_response(error: TimelineInvalid) -> JSONResponse:
    """422 with the error and every problem (path, message, hint)."""
    body: dict[str, Any] = {
        **error.to_dict(),
        "problems": [problem.to_dict() for problem in error.problems],
    }
    return JSONResponse(body, status_code=422, headers=NO_STORE)


def export_disposition(key: str) -> str:
    """``Content-Disposition`` of an export: ``<key>.timeline.json`` as an attachment."""
    ascii_name = re.sub(r"[^A-Za-z0-9._-]+", "_", key).strip("._-") or "timeline"
    header = f'attachment; filename="{ascii_name}.timeline.json"'
    if ascii_name != key:
        header += f"; filename*=UTF-8''{quote(key, safe='')}.timeline.json"
    return header
