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

from collections.abc import Callable
from dataclasses import dataclass

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from vistter.api.body import PathLimit, check_json_text
from vistter.api.contract import DocumentBody, ModelBody, Operation, Parameter, RawBody, Reply
from vistter.api.errors import NO_STORE, BadRequestError, UnsupportedMediaTypeError
from vistter.api.library_json import (
    asset_json,
    execution_json,
    export_disposition,
    invalid_timeline_response,
    timeline_record_json,
    timeline_summary_json,
)
from vistter.api.replies import (
    AssetList,
    AssetReply,
    Deleted,
    ExecutionList,
    TimelineList,
    TimelineRecordReply,
)
from vistter.api.requests import MAX_ROW_ID, CloneRequest
from vistter.api.uploads import UPLOAD_PATH, receive_upload, upload_body_limit
from vistter.models.config import ApplianceConfig
from vistter.models.timeline import TimelineDocument
from vistter.models.validation import TimelineInvalid
from vistter.store import (
    AssetNotFoundError,
    AssetStore,
    ExecutionLog,
    TimelineLibrary,
    TimelineNotFoundError,
    TimelineRecord,
)

__all__ = [
    "DEFAULT_EXECUTIONS_LIMIT",
    "MAX_EXECUTIONS_LIMIT",
    "LibraryDeps",
    "export_disposition",
    "library_body_limits",
    "library_operations",
]

DEFAULT_EXECUTIONS_LIMIT = 100
MAX_EXECUTIONS_LIMIT = 1000


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


# -- request parts -------------------------------------------------------------------------


def _path_id(request: Request, not_found: Callable[[int], Exception]) -> int:
    value = int(request.path_params["record_id"])
    if value > MAX_ROW_ID:  # SQLite's largest integer: a bigger id names nothing
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
    digits = raw.strip()
    if digits.isascii() and digits.isdigit() and 1 <= int(digits) <= MAX_EXECUTIONS_LIMIT:
        return int(digits)  # isascii: "²".isdigit() is true, but int("²") fails
    raise BadRequestError(
        f"limit {raw[:40]!r} is not a whole number from 1 to {MAX_EXECUTIONS_LIMIT}.",
        hint=f"Use e.g. ?limit=20, or leave it out for the newest {DEFAULT_EXECUTIONS_LIMIT}.",
    )


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

    async def create_timeline(self, request: Request, document: object) -> Response:
        library, config = self._deps.timelines, self._deps.config
        return await self._stored(lambda: library.create(document, config), 201)

    async def import_timeline(self, request: Request) -> Response:
        text = await _import_text(request)
        await run_in_threadpool(check_json_text, text)
        library, config = self._deps.timelines, self._deps.config
        return await self._stored(lambda: library.import_json(text, config), 201)

    async def get_timeline(self, request: Request) -> Response:
        timeline_id = _path_id(request, _timeline_not_found)
        record = await run_in_threadpool(self._deps.timelines.get, timeline_id)
        return JSONResponse(timeline_record_json(record, document=True), headers=NO_STORE)

    async def replace_timeline(self, request: Request, document: object) -> Response:
        timeline_id = _path_id(request, _timeline_not_found)
        library, config = self._deps.timelines, self._deps.config
        return await self._stored(lambda: library.update(timeline_id, document, config), 200)

    async def delete_timeline(self, request: Request) -> Response:
        timeline_id = _path_id(request, _timeline_not_found)
        await run_in_threadpool(self._deps.timelines.delete, timeline_id)
        return JSONResponse({"deleted": timeline_id}, headers=NO_STORE)

    async def clone_timeline(self, request: Request, body: CloneRequest) -> Response:
        timeline_id = _path_id(request, _timeline_not_found)
        name, library = body.name, self._deps.timelines
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


_ID = Parameter("record_id", "path", {"type": "integer", "minimum": 1, "maximum": MAX_ROW_ID},
                "The record's id.")
_LIMIT = Parameter("limit", "query", {"type": "integer", "minimum": 1,
                                      "maximum": MAX_EXECUTIONS_LIMIT},
                   f"How many, newest first (default {DEFAULT_EXECUTIONS_LIMIT}).", required=False)
_NAME = Parameter("name", "query", {"type": "string", "minLength": 1},
                  "The file name (or send X-Filename / Content-Disposition).", required=False)
_TIMELINE = DocumentBody(TimelineDocument, "A timeline in the spec's JSON format.")
_INVALID = "The timeline has problems: every one with its field path and a hint."
_NO_TIMELINE = "There is no stored timeline with this id."
_NO_ASSET = "There is no stored asset with this id."
_KEY_TAKEN = "Another stored timeline has the same key (timeline.id)."
_CREATED = {"Location": "Where the new record is."}
_ASSET_KINDS = {
    "application/octet-stream": {"type": "string", "format": "binary"},
    "image/png": {"type": "string", "format": "binary"},
    "image/jpeg": {"type": "string", "format": "binary"},
    "video/mp4": {"type": "string", "format": "binary"},
}


_BY_ID = {"record_id": "$response.body#/id"}
_TIMELINE_LINKS = {
    verb: (f"{method}_api_timelines_record_id{suffix}", _BY_ID)
    for verb, method, suffix in (
        ("get", "get", ""), ("replace", "put", ""), ("delete", "delete", ""),
        ("clone", "post", "_clone"), ("export", "get", "_export"),
        ("executions", "get", "_executions"),
    )
}
_ASSET_LINKS = {
    "get": ("get_api_assets_record_id", _BY_ID),
    "delete": ("delete_api_assets_record_id", _BY_ID),
}


def library_operations(deps: LibraryDeps | None) -> list[Operation]:
    """The library, execution and asset operations (none without a library)."""
    if deps is None:
        return []
    e = _LibraryRoutes(deps)
    record = Reply("The stored timeline (without its document).", TimelineRecordReply)
    created = Reply("Stored.", TimelineRecordReply, headers=_CREATED, links=_TIMELINE_LINKS)
    return [
        Operation("GET", "/api/timelines", e.list_timelines, "The timeline library.",
                  {200: Reply("Every stored timeline.", TimelineList)}, tag="library"),
        Operation("POST", "/api/timelines", e.create_timeline, "Store a timeline.",
                  {201: created}, body=_TIMELINE, errors={409: _KEY_TAKEN, 422: _INVALID},
                  tag="library"),
        Operation("POST", "/api/timelines/import", e.import_timeline,
                  "Store a timeline from a file's text (as exported).", {201: created},
                  body=RawBody({"application/json": TimelineDocument},
                               "The timeline file's text, as it is."),
                  errors={409: _KEY_TAKEN, 413: "The file is larger than [api] max_body_bytes.",
                          415: "A form was sent; send the file's text as the body.",
                          422: "The text is not JSON, or the timeline has problems."},
                  tag="library"),
        Operation("GET", "/api/timelines/{record_id:int}", e.get_timeline,
                  "A stored timeline with its document.",
                  {200: Reply("The timeline and its document.", TimelineRecordReply)},
                  parameters=[_ID], errors={404: _NO_TIMELINE}, tag="library"),
        Operation("PUT", "/api/timelines/{record_id:int}", e.replace_timeline,
                  "Replace a stored timeline's document (invalid: the stored one stays).",
                  {200: record}, body=_TIMELINE, parameters=[_ID],
                  errors={404: _NO_TIMELINE, 409: _KEY_TAKEN, 422: _INVALID}, tag="library"),
        Operation("DELETE", "/api/timelines/{record_id:int}", e.delete_timeline,
                  "Delete a stored timeline (its run history stays).",
                  {200: Reply("Deleted.", Deleted)}, parameters=[_ID],
                  errors={404: _NO_TIMELINE, 409: "The timeline is on air."}, tag="library"),
        Operation("POST", "/api/timelines/{record_id:int}/clone", e.clone_timeline,
                  "Copy a stored timeline under a new key.", {201: created},
                  body=ModelBody(CloneRequest, 'The clone request body may only carry '
                                 '{"name": "<new name>"}.',
                                 'Send the new name, or no body for "<name> (copy)".',
                                 optional=True),
                  parameters=[_ID], errors={404: _NO_TIMELINE, 422: _INVALID}, tag="library"),
        Operation("GET", "/api/timelines/{record_id:int}/export", e.export_timeline,
                  "The document exactly as stored, as a file download.",
                  {200: Reply("The timeline file.", TimelineDocument)}, parameters=[_ID],
                  errors={404: _NO_TIMELINE}, tag="library"),
        Operation("GET", "/api/timelines/{record_id:int}/executions", e.timeline_executions,
                  "The runs of one timeline, newest first.",
                  {200: Reply("Its runs.", ExecutionList)}, parameters=[_ID, _LIMIT],
                  errors={400: "limit is not a whole number in range.", 404: _NO_TIMELINE},
                  tag="library"),
        Operation("GET", "/api/executions", e.list_executions, "Every run, newest first.",
                  {200: Reply("The runs.", ExecutionList)}, parameters=[_LIMIT],
                  errors={400: "limit is not a whole number in range."}, tag="library"),
        Operation("GET", "/api/assets", e.list_assets, "Every stored asset.",
                  {200: Reply("The assets.", AssetList)}, tag="assets"),
        Operation("POST", UPLOAD_PATH, e.upload_asset,
                  "Upload an asset: the file is the raw body (type checked by its content).",
                  {201: Reply("Stored (or the identical file already stored).", AssetReply,
                              headers=_CREATED, links=_ASSET_LINKS)},
                  body=RawBody(_ASSET_KINDS, "The file's bytes."), parameters=[_NAME],
                  errors={400: "The client went away before the whole file arrived.",
                          409: "Another asset already has this name.",
                          413: "The file is larger than [api] max_upload_bytes.",
                          415: "The content is not an image or video of a known type.",
                          422: "The file name is missing or has a folder part."},
                  tag="assets"),
        Operation("GET", "/api/assets/{record_id:int}", e.get_asset, "One stored asset.",
                  {200: Reply("The asset.", AssetReply)}, parameters=[_ID],
                  errors={404: _NO_ASSET}, tag="assets"),
        Operation("DELETE", "/api/assets/{record_id:int}", e.delete_asset,
                  "Delete an asset (refused while a stored timeline uses it).",
                  {200: Reply("Deleted.", Deleted)}, parameters=[_ID],
                  errors={404: _NO_ASSET, 409: "Stored timelines use it (named in the hint)."},
                  tag="assets"),
    ]


def library_body_limits(deps: LibraryDeps | None) -> list[PathLimit]:
    """The per-path body limits the library routes need (the upload route's), for
    :class:`vistter.api.body.BodyLimit`."""
    return [] if deps is None else [upload_body_limit(deps.max_upload_bytes)]
