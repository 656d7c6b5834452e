"""Control API routes for the timeline library, the execution log and the assets.

Timelines (documents in the spec's JSON format, ``{"timeline": {...}}``):

* ``GET /api/timelines`` -- the library listing (``?q=`` finds names containing it, any case):
  per timeline its length, fps, resolution, loop, track and cue counts, ``on_air``, its
  ``etag`` and its ``last_run``, all from one query;
* ``POST /api/timelines`` -- store a timeline (JSON body), validated against the appliance
  config: 201 with the record, or 422 listing every problem with its field path (nothing is
  stored then);
* ``GET /api/timelines/{id}`` -- the record and its ``document``, with an ``ETag`` header (the
  record's ``etag``): the stored version, new after every change;
* ``PUT /api/timelines/{id}`` -- replace the document (invalid: 422, the stored one stays);
* ``PATCH /api/timelines/{id}`` -- rename it, body ``{"name": ...}`` (in its document too).
  PUT and PATCH honour ``If-Match``: when the timeline changed since that version was read,
  412 ``{"error": "conflict", ...}`` and nothing is written (the check and the write are one
  transaction). Without ``If-Match`` the write goes ahead. Their answer carries the new ETag;
* ``DELETE /api/timelines/{id}`` -- 409 while it is running;
* ``POST /api/timelines/{id}/clone`` -- a copy under a new key, body ``{"name": ...}`` or empty;
* ``GET /api/timelines/{id}/export`` -- the document exactly as stored, as a file download;
* ``POST /api/timelines/import`` -- store a timeline from raw JSON text (a file's content);
* ``GET /api/timelines/{id}/executions`` and ``GET /api/executions`` -- the newest runs first,
  ``?limit=`` (1 to 1000, default 100).

Assets: :mod:`vistter.api.asset_routes` (uploads: :mod:`vistter.api.uploads`).

Every handler runs in the event loop thread and every store call in the thread pool. Errors
are JSON ``{"error", "problem", "hint"}`` (an invalid timeline adds ``"problems": [{"path",
"message", "hint"}]``); the store's errors carry their HTTP status (``http_status``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from vistter.api.asset_routes import asset_operations
from vistter.api.body import PathLimit, check_json_text
from vistter.api.contract import DocumentBody, ModelBody, Operation, Parameter, RawBody, Reply
from vistter.api.errors import NO_STORE, BadRequestError, UnsupportedMediaTypeError
from vistter.api.library_json import (
    execution_json,
    export_disposition,
    invalid_timeline_response,
    timeline_record_json,
    timeline_summary_json,
)
from vistter.api.library_show import LoadedShow
from vistter.api.record_ids import RECORD_ID, path_id
from vistter.api.replies import (
    Deleted,
    ExecutionList,
    TimelineList,
    TimelineRecordReply,
)
from vistter.api.requests import CloneRequest, RenameRequest
from vistter.api.uploads import upload_body_limit
from vistter.models.config_source import ConfigSource, optional_config_now
from vistter.models.problems import Problem, problems_from_validation_error
from vistter.models.timeline import TimelineDocument
from vistter.models.validation import TimelineInvalid
from vistter.store import (
    AssetStore,
    ExecutionLog,
    IfMatch,
    TimelineChangedError,
    TimelineLibrary,
    TimelineNotFoundError,
    TimelineRecord,
    parse_if_match,
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
    against: its cameras and its assets folder; a callable is read at each save (the
    appliance's cameras change while live). ``max_upload_bytes`` is ``[api]
    max_upload_bytes``, the body limit of the upload route (give the :class:`AssetStore` the
    same limit).
    """

    timelines: TimelineLibrary
    executions: ExecutionLog
    assets: AssetStore
    config: ConfigSource | None
    max_upload_bytes: int
    loaded_show: Callable[[], LoadedShow | None] | None = None
    """What the show has loaded (see :mod:`vistter.api.library_show`; ``None``: the listing
    knows only what the execution log says). Called in a worker thread; must not raise."""

    def __post_init__(self) -> None:
        if self.max_upload_bytes < 1:
            raise ValueError(f"max_upload_bytes must be >= 1, got {self.max_upload_bytes}")


# -- request parts -------------------------------------------------------------------------


def _if_match(request: Request) -> IfMatch | None:
    return parse_if_match(request.headers.get("if-match"))


def _timeline_not_found(timeline_id: int) -> TimelineNotFoundError:
    return TimelineNotFoundError(
        f"there is no stored timeline {timeline_id}.",
        hint="List the timelines (GET /api/timelines) to see their ids.",
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
        except TimelineChangedError as error:  # 412, with the stored version's tag
            return JSONResponse(error.to_dict(), status_code=error.http_status,
                                headers={**NO_STORE, "ETag": error.current_etag})  # fmt: skip
        headers = {**NO_STORE, "ETag": record.etag}
        if status == 201:
            headers["Location"] = f"/api/timelines/{record.id}"
        return JSONResponse(
            timeline_record_json(record, document=False), status_code=status, headers=headers
        )

    # timelines

    async def list_timelines(self, request: Request) -> Response:
        query = request.query_params.get("q")
        summaries = await run_in_threadpool(self._deps.timelines.list, query)
        show = None if self._deps.loaded_show is None else (
            await run_in_threadpool(self._deps.loaded_show))  # fmt: skip
        body = {"timelines": [timeline_summary_json(summary, show) for summary in summaries]}
        return JSONResponse(body, headers=NO_STORE)

    async def create_timeline(self, request: Request, document: object) -> Response:
        library, config = self._deps.timelines, optional_config_now(self._deps.config)
        return await self._stored(lambda: library.create(document, config), 201)

    async def import_timeline(self, request: Request) -> Response:
        text = await _import_text(request)
        await run_in_threadpool(check_json_text, text)
        library, config = self._deps.timelines, optional_config_now(self._deps.config)
        return await self._stored(lambda: library.import_json(text, config), 201)

    async def get_timeline(self, request: Request) -> Response:
        timeline_id = path_id(request, _timeline_not_found)
        record = await run_in_threadpool(self._deps.timelines.get, timeline_id)
        return JSONResponse(timeline_record_json(record, document=True),
                            headers={**NO_STORE, "ETag": record.etag})  # fmt: skip

    async def replace_timeline(self, request: Request, document: object) -> Response:
        timeline_id = path_id(request, _timeline_not_found)
        library, if_match = self._deps.timelines, _if_match(request)
        config = optional_config_now(self._deps.config)
        return await self._stored(
            lambda: library.update(timeline_id, document, config, if_match=if_match), 200
        )

    async def rename_timeline(self, request: Request, body: object) -> Response:
        timeline_id = path_id(request, _timeline_not_found)
        if not isinstance(body, dict):
            return invalid_timeline_response(TimelineInvalid([Problem(
                "", "the rename body must be an object with the new name",
                'Send {"name": "Marina, evening"}.')]))  # fmt: skip
        try:
            name = RenameRequest.model_validate(body).name
        except ValidationError as error:
            problems = problems_from_validation_error(error, body)
            return invalid_timeline_response(TimelineInvalid(problems))
        library, if_match = self._deps.timelines, _if_match(request)
        return await self._stored(lambda: library.rename(timeline_id, name, if_match=if_match),
                                  200)  # fmt: skip

    async def delete_timeline(self, request: Request) -> Response:
        timeline_id = path_id(request, _timeline_not_found)
        await run_in_threadpool(self._deps.timelines.delete, timeline_id)
        return JSONResponse({"deleted": timeline_id}, headers=NO_STORE)

    async def clone_timeline(self, request: Request, body: CloneRequest) -> Response:
        timeline_id = path_id(request, _timeline_not_found)
        name, library = body.name, self._deps.timelines
        return await self._stored(lambda: library.clone(timeline_id, name), 201)

    async def export_timeline(self, request: Request) -> Response:
        timeline_id = path_id(request, _timeline_not_found)
        library = self._deps.timelines

        def export() -> tuple[str, str]:
            return library.get(timeline_id).key, library.export_json(timeline_id)

        key, text = await run_in_threadpool(export)
        headers = {**NO_STORE, "Content-Disposition": export_disposition(key)}
        return Response(text.encode("utf-8"), media_type="application/json", headers=headers)

    # executions

    async def timeline_executions(self, request: Request) -> Response:
        timeline_id = path_id(request, _timeline_not_found)
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


_ID = RECORD_ID
_IF_MATCH = Parameter("If-Match", "header", {"type": "string"},
                      "The etag of the version this change is based on: if the timeline "
                      "changed since, the change is refused (412) and nothing is written.",
                      required=False)
_QUERY = Parameter("q", "query", {"type": "string"},
                   "Only timelines whose name contains this (any case).", required=False)
_CONFLICT = ("The timeline changed since the version named in If-Match (another tab or "
             "person): error is \"conflict\"; nothing was written.")
_ETAG = {"ETag": "The stored version (the same as the body's etag)."}
_LIMIT = Parameter("limit", "query", {"type": "integer", "minimum": 1,
                                      "maximum": MAX_EXECUTIONS_LIMIT},
                   f"How many, newest first (default {DEFAULT_EXECUTIONS_LIMIT}).", required=False)
_TIMELINE = DocumentBody(TimelineDocument, "A timeline in the spec's JSON format.")
_INVALID = "The timeline has problems: every one with its field path and a hint."
_NO_TIMELINE = "There is no stored timeline with this id."
_KEY_TAKEN = "Another stored timeline has the same key (timeline.id)."
_CREATED = {"Location": "Where the new record is.", **_ETAG}


_BY_ID = {"record_id": "$response.body#/id"}
_TIMELINE_LINKS = {
    verb: (f"{method}_api_timelines_record_id{suffix}", _BY_ID)
    for verb, method, suffix in (
        ("get", "get", ""), ("replace", "put", ""), ("rename", "patch", ""),
        ("delete", "delete", ""),
        ("clone", "post", "_clone"), ("export", "get", "_export"),
        ("executions", "get", "_executions"),
    )
}


def library_operations(deps: LibraryDeps | None) -> list[Operation]:
    """The library, execution and asset operations (none without a library)."""
    if deps is None:
        return []
    e = _LibraryRoutes(deps)
    record = Reply("The stored timeline (without its document).", TimelineRecordReply,
                   headers=_ETAG)  # fmt: skip
    created = Reply("Stored.", TimelineRecordReply, headers=_CREATED, links=_TIMELINE_LINKS)
    return [
        Operation("GET", "/api/timelines", e.list_timelines, "The timeline library.",
                  {200: Reply("Every stored timeline (or those ?q= finds).", TimelineList)},
                  parameters=[_QUERY], tag="library"),
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
                  {200: Reply("The timeline and its document.", TimelineRecordReply,
                              headers=_ETAG)},
                  parameters=[_ID], errors={404: _NO_TIMELINE}, tag="library"),
        Operation("PUT", "/api/timelines/{record_id:int}", e.replace_timeline,
                  "Replace a stored timeline's document (invalid: the stored one stays).",
                  {200: record}, body=_TIMELINE, parameters=[_ID, _IF_MATCH],
                  errors={404: _NO_TIMELINE, 409: _KEY_TAKEN, 412: _CONFLICT, 422: _INVALID},
                  tag="library"),
        Operation("PATCH", "/api/timelines/{record_id:int}", e.rename_timeline,
                  "Rename a stored timeline (in its document too).",
                  {200: record}, body=DocumentBody(RenameRequest, 'The new name: '
                                                   '{"name": "Marina, evening"}.'),
                  parameters=[_ID, _IF_MATCH],
                  errors={404: _NO_TIMELINE, 412: _CONFLICT,
                          422: "The name is empty, too long or not text (problems say which); "
                          "or the body is not JSON."},
                  tag="library"),
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
        *asset_operations(deps.assets),
    ]


def library_body_limits(deps: LibraryDeps | None) -> list[PathLimit]:
    """The per-path body limits the library routes need (the upload route's), for
    :class:`vistter.api.body.BodyLimit`."""
    return [] if deps is None else [upload_body_limit(deps.max_upload_bytes)]
