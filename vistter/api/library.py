"""Control API routes for the timeline library, the execution log and the assets.

Timelines (documents in the spec's JSON format, ``{"timeline": {...}}``):

* ``GET /api/timelines`` -- the library listing;
* ``POST /api/timelines`` -- store a timeline (JSON body), validated against the appliance
  config: 201 with the record, or 422 listing every problem with its field path (nothing is
  stored then);
* ``GET /api/timelines/{id}`` -- the record and its ``document``;
* ``PUT /api/timelines/{id}`` -- replace the document (invalid: 422, the stored one stays);
* ``DELETE /api/timelines/{id}`` -- 409 while it is running;
* ``POST /api/timelines/{id}/clone`` -- a copy under a new key, body ``{"name": ...}`` or empty;
* ``GET /api/timelines/{id}/export`` -- the document exactly as stored, as a file download;
* ``POST /api/timelines/import`` -- store a timeline from raw JSON text (a file's content);
* ``GET /api/timelines/{id}/executions`` and ``GET /api/executions`` -- the newest runs first,
  ``?limit=`` (1 to 1000, default 100).

Assets (see :mod:`vistter.api.uploads` for the upload format):

* ``GET /api/assets``, ``GET /api/assets/{id}``;
* ``POST /api/assets`` -- stream a file in as the raw body (201; the limit is
  ``[api] max_upload_bytes``: 413 as soon as it is passed; 415 wrong type; 422 bad name);
* ``DELETE /api/assets/{id}`` -- 409 naming the stored timelines that use it.

Every handler runs in the event loop thread and every store call in the thread pool. Errors
are JSON ``{"error", "problem", "hint"}`` (an invalid timeline adds ``"problems": [{"path",
"message", "hint"}]``); the store's errors carry their HTTP status (``http_status``).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from vistter.api.body import PathLimit, is_json_media_type, parse_json, read_json
from vistter.api.errors import NO_STORE, BadRequestError, UnsupportedMediaTypeError
from vistter.api.uploads import UPLOAD_PATH, receive_upload, upload_body_limit
from vistter.models.config import ApplianceConfig
from vistter.models.validation import TimelineInvalid
from vistter.store import (
    AssetNotFoundError,
    AssetRecord,
    AssetStore,
    ExecutionLog,
    ExecutionRecord,
    TimelineLibrary,
    TimelineNotFoundError,
    TimelineRecord,
    TimelineSummary,
)

__all__ = [
    "DEFAULT_EXECUTIONS_LIMIT",
    "MAX_EXECUTIONS_LIMIT",
    "LibraryDeps",
    "library_body_limits",
    "library_routes",
]

DEFAULT_EXECUTIONS_LIMIT = 100
MAX_EXECUTIONS_LIMIT = 1000
_MAX_ROW_ID = 2**63 - 1  # SQLite's largest integer: a bigger id cannot be stored, so is unknown


@dataclass(frozen=True)
class LibraryDeps:
    """The stores behind the library routes (all safe to call from any worker thread).

    ``config`` (``None``: schema and timing checks only) is what timelines are validated
    against: its cameras and its assets folder. ``max_upload_bytes`` is ``[api]
    max_upload_bytes``, the body limit of the upload route (give the :class:`AssetStore` the
    same limit).
    """

    timelines: TimelineLibrary
    executions: ExecutionLog
    assets: AssetStore
    config: ApplianceConfig | None
    max_upload_bytes: int

    def __post_init__(self) -> None:
        if self.max_upload_bytes < 1:
            raise ValueError(f"max_upload_bytes must be >= 1, got {self.max_upload_bytes}")


# -- JSON shapes ---------------------------------------------------------------------------


def timeline_summary_json(summary: TimelineSummary) -> dict[str, Any]:
    """One line of ``GET /api/timelines``."""
    return {
        "id": summary.id,
        "key": summary.key,
        "name": summary.name,
        "duration": summary.duration,
        "modified_at": summary.modified_at.isoformat(),
        "is_active": summary.is_active,
        "is_running": summary.is_running,
    }


def timeline_record_json(record: TimelineRecord, *, document: bool) -> dict[str, Any]:
    """A stored timeline's columns, with its whole ``document`` when asked."""
    body: dict[str, Any] = {
        "id": record.id,
        "key": record.key,
        "name": record.name,
        "description": record.description,
        "duration": record.duration,
        "fps": record.fps,
        "resolution": record.resolution,
        "created_at": record.created_at.isoformat(),
        "modified_at": record.modified_at.isoformat(),
        "is_active": record.is_active,
    }
    if document:
        body["document"] = record.document
    return body


def execution_json(record: ExecutionRecord) -> dict[str, Any]:
    """One run of a timeline."""
    return {
        "id": record.id,
        "timeline_id": record.timeline_id,
        "timeline_name": record.timeline_name,
        "status": record.status,
        "started_at": record.started_at.isoformat(),
        "completed_at": None if record.completed_at is None else record.completed_at.isoformat(),
        "duration_seconds": record.duration_seconds,
        "error_message": record.error_message,
        "metrics": record.metrics,
    }


def asset_json(record: AssetRecord) -> dict[str, Any]:
    """A stored asset; ``file_path`` is how a timeline refers to it."""
    return {
        "id": record.id,
        "asset_type": record.asset_type,
        "filename": record.filename,
        "file_path": record.file_path,
        "file_size": record.file_size,
        "mime_type": record.mime_type,
        "checksum": record.checksum,
        "uploaded_at": record.uploaded_at.isoformat(),
        "metadata": record.metadata,
    }


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


# -- request parts -------------------------------------------------------------------------


def _path_id(request: Request, not_found: Callable[[int], Exception]) -> int:
    value = int(request.path_params["record_id"])
    if value > _MAX_ROW_ID:
        raise not_found(value)
    return value


def _timeline_not_found(timeline_id: int) -> TimelineNotFoundError:
    return TimelineNotFoundError(
        f"there is no stored timeline {timeline_id}.",
        hint="List the timelines (GET /api/timelines) to see their ids.",
    )


def _asset_not_found(asset_id: int) -> AssetNotFoundError:
    return AssetNotFoundError(
        f"there is no stored asset {asset_id}.",
        hint="List the assets (GET /api/assets) to see their ids.",
    )


def _limit(request: Request) -> int:
    raw = request.query_params.get("limit")
    if raw is None:
        return DEFAULT_EXECUTIONS_LIMIT
    if raw.strip().isdigit() and 1 <= int(raw) <= MAX_EXECUTIONS_LIMIT:
        return int(raw)
    raise BadRequestError(
        f"limit {raw[:40]!r} is not a whole number from 1 to {MAX_EXECUTIONS_LIMIT}.",
        hint=f"Use e.g. ?limit=20, or leave it out for the newest {DEFAULT_EXECUTIONS_LIMIT}.",
    )


async def _clone_name(request: Request) -> str | None:
    body = await request.body()
    if not body.strip():
        return None
    if not is_json_media_type(request.headers.get("content-type")):
        raise UnsupportedMediaTypeError(
            "The clone request body must be JSON.",
            hint='Send \'Content-Type: application/json\' with {"name": "<new name>"}, or '
            "send no body for the default name.",
        )
    document = parse_json(body)
    if not isinstance(document, dict) or set(document) - {"name"}:
        raise BadRequestError(
            'The clone request body may only carry {"name": "<new name>"}.',
            hint='Send the new name, or no body for "<name> (copy)".',
        )
    name = document.get("name")
    if name is not None and not isinstance(name, str):
        raise BadRequestError(
            "The clone's name must be text.", hint='Send e.g. {"name": "Marina, evening"}.'
        )
    return name


async def _import_text(request: Request) -> bytes:
    media_type = (request.headers.get("content-type") or "").split(";", 1)[0].strip().lower()
    if media_type.startswith("multipart/") or media_type == "application/x-www-form-urlencoded":
        raise UnsupportedMediaTypeError(
            f"Import takes the timeline file's text as the raw body, not a {media_type} form.",
            hint="Send the file as it is, e.g. curl --data-binary @show.timeline.json "
            "-H 'Content-Type: application/json'.",
        )
    return await request.body()


# -- the routes ----------------------------------------------------------------------------


class _LibraryRoutes:
    """The endpoints. Each runs in the event loop thread; store calls go to the thread pool.
    An :class:`~vistter.errors.OperatorError` they raise becomes a 4xx JSON answer (its
    ``http_status`` when it has one); anything else becomes the API's generic 500."""

    def __init__(self, deps: LibraryDeps) -> None:
        self._deps = deps

    async def _stored(self, write: Callable[[], TimelineRecord], status: int) -> Response:
        try:
            record = await run_in_threadpool(write)
        except TimelineInvalid as error:
            return invalid_timeline_response(error)
        headers = dict(NO_STORE)
        if status == 201:
            headers["Location"] = f"/api/timelines/{record.id}"
        return JSONResponse(
            timeline_record_json(record, document=False), status_code=status, headers=headers
        )

    # timelines

    async def list_timelines(self, request: Request) -> Response:
        summaries = await run_in_threadpool(self._deps.timelines.list)
        body = {"timelines": [timeline_summary_json(summary) for summary in summaries]}
        return JSONResponse(body, headers=NO_STORE)

    async def create_timeline(self, request: Request) -> Response:
        document = await read_json(request)
        library, config = self._deps.timelines, self._deps.config
        return await self._stored(lambda: library.create(document, config), 201)

    async def import_timeline(self, request: Request) -> Response:
        text = await _import_text(request)
        library, config = self._deps.timelines, self._deps.config
        return await self._stored(lambda: library.import_json(text, config), 201)

    async def get_timeline(self, request: Request) -> Response:
        timeline_id = _path_id(request, _timeline_not_found)
        record = await run_in_threadpool(self._deps.timelines.get, timeline_id)
        return JSONResponse(timeline_record_json(record, document=True), headers=NO_STORE)

    async def replace_timeline(self, request: Request) -> Response:
        timeline_id = _path_id(request, _timeline_not_found)
        document = await read_json(request)
        library, config = self._deps.timelines, self._deps.config
        return await self._stored(lambda: library.update(timeline_id, document, config), 200)

    async def delete_timeline(self, request: Request) -> Response:
        timeline_id = _path_id(request, _timeline_not_found)
        await run_in_threadpool(self._deps.timelines.delete, timeline_id)
        return JSONResponse({"deleted": timeline_id}, headers=NO_STORE)

    async def clone_timeline(self, request: Request) -> Response:
        timeline_id = _path_id(request, _timeline_not_found)
        name = await _clone_name(request)
        library = self._deps.timelines
        return await self._stored(lambda: library.clone(timeline_id, name), 201)

    async def export_timeline(self, request: Request) -> Response:
        timeline_id = _path_id(request, _timeline_not_found)
        library = self._deps.timelines

        def export() -> tuple[str, str]:
            return library.get(timeline_id).key, library.export_json(timeline_id)

        key, text = await run_in_threadpool(export)
        headers = {**NO_STORE, "Content-Disposition": export_disposition(key)}
        return Response(text.encode("utf-8"), media_type="application/json", headers=headers)

    # executions

    async def timeline_executions(self, request: Request) -> Response:
        timeline_id = _path_id(request, _timeline_not_found)
        limit = _limit(request)
        await run_in_threadpool(self._deps.timelines.get, timeline_id)  # 404 if unknown
        records = await run_in_threadpool(self._deps.executions.list, timeline_id, limit=limit)
        body = {"executions": [execution_json(record) for record in records]}
        return JSONResponse(body, headers=NO_STORE)

    async def list_executions(self, request: Request) -> Response:
        limit = _limit(request)
        records = await run_in_threadpool(self._deps.executions.list, None, limit=limit)
        body = {"executions": [execution_json(record) for record in records]}
        return JSONResponse(body, headers=NO_STORE)

    # assets

    async def list_assets(self, request: Request) -> Response:
        records = await run_in_threadpool(self._deps.assets.list)
        return JSONResponse({"assets": [asset_json(record) for record in records]},
                            headers=NO_STORE)  # fmt: skip

    async def upload_asset(self, request: Request) -> Response:
        record = await receive_upload(request, self._deps.assets)
        headers = {**NO_STORE, "Location": f"{UPLOAD_PATH}/{record.id}"}
        return JSONResponse(asset_json(record), status_code=201, headers=headers)

    async def get_asset(self, request: Request) -> Response:
        asset_id = _path_id(request, _asset_not_found)
        record = await run_in_threadpool(self._deps.assets.get, asset_id)
        return JSONResponse(asset_json(record), headers=NO_STORE)

    async def delete_asset(self, request: Request) -> Response:
        asset_id = _path_id(request, _asset_not_found)
        await run_in_threadpool(self._deps.assets.delete, asset_id)
        return JSONResponse({"deleted": asset_id}, headers=NO_STORE)


Endpoint = Callable[[Request], Awaitable[Response]]


def library_routes(deps: LibraryDeps | None) -> list[Route]:
    """The library, execution and asset routes (none without a library)."""
    if deps is None:
        return []
    e = _LibraryRoutes(deps)
    table: list[tuple[str, Endpoint, str]] = [
        ("/api/timelines", e.list_timelines, "GET"),
        ("/api/timelines", e.create_timeline, "POST"),
        ("/api/timelines/import", e.import_timeline, "POST"),
        ("/api/timelines/{record_id:int}", e.get_timeline, "GET"),
        ("/api/timelines/{record_id:int}", e.replace_timeline, "PUT"),
        ("/api/timelines/{record_id:int}", e.delete_timeline, "DELETE"),
        ("/api/timelines/{record_id:int}/clone", e.clone_timeline, "POST"),
        ("/api/timelines/{record_id:int}/export", e.export_timeline, "GET"),
        ("/api/timelines/{record_id:int}/executions", e.timeline_executions, "GET"),
        ("/api/executions", e.list_executions, "GET"),
        ("/api/assets", e.list_assets, "GET"),
        (UPLOAD_PATH, e.upload_asset, "POST"),
        ("/api/assets/{record_id:int}", e.get_asset, "GET"),
        ("/api/assets/{record_id:int}", e.delete_asset, "DELETE"),
    ]
    return [Route(path, endpoint, methods=[method]) for path, endpoint, method in table]


def library_body_limits(deps: LibraryDeps | None) -> list[PathLimit]:
    """The per-path body limits the library routes need (the upload route's), for
    :class:`vistter.api.body.BodyLimit`."""
    return [] if deps is None else [upload_body_limit(deps.max_upload_bytes)]
