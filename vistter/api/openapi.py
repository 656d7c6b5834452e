"""``GET /api/openapi.json``: the OpenAPI 3.1 document, generated from the operations.

Every schema in it comes from a pydantic model (:mod:`vistter.api.requests`,
:mod:`vistter.api.replies`, the timeline and destination models) through
``TypeAdapter.json_schemas``, so the document says exactly what the routes parse.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import JsonSchemaMode
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route

from vistter.api.auth import SESSION_COOKIE
from vistter.api.contract import (
    DocumentBody,
    ModelBody,
    Operation,
    RawBody,
    Reply,
    adapter,
    openapi_path,
)
from vistter.api.csrf import CSRF_HEADER
from vistter.api.docs import render_docs
from vistter.api.errors import NO_STORE
from vistter.api.replies import ErrorReply, LooseObject

__all__ = ["contract_routes", "external_operations", "openapi_document"]

_REF = "#/components/schemas/{model}"

_BODY_ERRORS = {
    413: "The body is larger than the limit ([api] max_body_bytes).",
    415: "The body is not sent as JSON (Content-Type: application/json).",
    422: "The body is not JSON (or not UTF-8, or nested too deeply), or the document has "
    "problems: each listed with its field path.",
}
_UNAUTHORIZED = ("Credentials are configured and the request carries neither the API token nor "
                 "a live console session cookie.")

_BOUNDS = {
    "ge": "minimum",
    "le": "maximum",
    "gt": "exclusiveMinimum",
    "lt": "exclusiveMaximum",
}


def _plain_numbers(node: Any) -> Any:
    """Pydantic writes a number kept as int or float (``Number``) with bounds as
    ``{"anyOf": [{"type": "integer"}, {"type": "number"}], "ge": 0}``; JSON Schema says
    ``{"type": "number", "minimum": 0}`` (a JSON number may be whole or not)."""
    if isinstance(node, list):
        return [_plain_numbers(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _plain_numbers(value) for key, value in node.items()}
    members = node.get("anyOf")
    if members == [{"type": "integer"}, {"type": "number"}]:
        del node["anyOf"]
        node["type"] = "number"
    for pydantic_name, schema_name in _BOUNDS.items():
        if pydantic_name in node and node.get("type") == "number":
            node[schema_name] = node.pop(pydantic_name)
    return node


class _Schemas:
    """Collects every model to put under ``components/schemas`` and hands out references."""

    def __init__(self) -> None:
        self._entries: list[tuple[int, JsonSchemaMode, TypeAdapter[Any]]] = []
        self._keys: dict[tuple[int, JsonSchemaMode], int] = {}

    def ref(self, model: type[BaseModel] | TypeAdapter[Any], mode: JsonSchemaMode) -> int:
        key = (id(model), mode)
        if key not in self._keys:
            self._keys[key] = len(self._entries)
            self._entries.append((len(self._entries), mode, adapter(model)))
        return self._keys[key]

    def build(self) -> tuple[dict[int, dict[str, Any]], dict[str, Any]]:
        """The schema of each entry (usually a ``$ref``) and the shared definitions."""
        if not self._entries:
            return {}, {}
        by_key, definitions = TypeAdapter.json_schemas(self._entries, ref_template=_REF)
        schemas = {index: dict(by_key[(index, mode)]) for index, mode, _ in self._entries}
        return schemas, dict(definitions.get("$defs", {}))


def _content(media_type: str, schema: object) -> dict[str, Any]:
    return {media_type: {"schema": schema}}


def _error_reply(description: str, errors: int) -> dict[str, Any]:
    return {"description": description, "content": _content("application/json", errors)}


def _responses(
    operation: Operation, schemas: _Schemas, error_ref: int, secured: bool
) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for status, reply in sorted(operation.replies.items()):
        answers[str(status)] = _reply(reply, schemas)
    errors = dict(operation.errors)
    if isinstance(operation.body, ModelBody):
        errors.setdefault(400, "The body is not what this route takes: every problem with its "
                          "field path, and an example.")
    if isinstance(operation.body, ModelBody | DocumentBody):
        for status, text in _BODY_ERRORS.items():
            errors.setdefault(status, text)
    if secured and not operation.public:
        errors.setdefault(401, _UNAUTHORIZED)
    for status, text in errors.items():
        answers.setdefault(str(status), _error_reply(text, error_ref))
    return dict(sorted(answers.items()))


def _reply(reply: Reply, schemas: _Schemas) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": reply.description}
    if reply.model is not None:
        answer["content"] = _content(reply.media_type, schemas.ref(reply.model, "serialization"))
    else:  # text or bytes the document does not describe further (a page, a JPEG, a stream)
        text = reply.media_type.startswith("text/")
        answer["content"] = _content(
            reply.media_type, {"type": "string"} if text else {"type": "string", "format": "binary"}
        )
    if reply.links:
        answer["links"] = {
            name: {"operationId": operation_id, "parameters": dict(parameters)}
            for name, (operation_id, parameters) in reply.links.items()
        }
    if reply.headers:
        answer["headers"] = {
            name: {"description": text, "schema": {"type": "string"}}
            for name, text in reply.headers.items()
        }
    return answer


def _request_body(operation: Operation, schemas: _Schemas) -> dict[str, Any] | None:
    body = operation.body
    if body is None:
        return None
    if isinstance(body, RawBody):
        content = {
            media_type: {
                "schema": schema if isinstance(schema, dict)
                else schemas.ref(schema, "validation")
            }
            for media_type, schema in body.content.items()
        }
        return {"required": True, "description": body.description, "content": content}
    required = not (isinstance(body, ModelBody) and body.optional)
    description = body.description if isinstance(body, DocumentBody) else body.hint
    return {
        "required": required,
        "description": description,
        "content": _content("application/json", schemas.ref(body.model, "validation")),
    }


def _parameters(operation: Operation) -> list[dict[str, Any]]:
    return [
        {
            "name": parameter.name,
            "in": parameter.where,
            "required": parameter.required or parameter.where == "path",
            "description": parameter.description,
            "schema": parameter.schema,
        }
        for parameter in operation.parameters
    ]


def _resolve(node: Any, schemas: dict[int, dict[str, Any]]) -> Any:
    """Replace the entry indexes left in the document by their schemas."""
    if isinstance(node, dict):
        if set(node) == {"schema"} and isinstance(node["schema"], int):
            return {"schema": schemas[node["schema"]]}
        return {key: _resolve(value, schemas) for key, value in node.items()}
    if isinstance(node, list):
        return [_resolve(item, schemas) for item in node]
    return node


def openapi_document(
    operations: Iterable[Operation], *, title: str, version: str, description: str,
    tags: Sequence[tuple[str, str]] = (), secured: bool = False, bearer: bool = True,
) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``operations``. Pure: call it once and keep the result.

    ``secured``: the API needs credentials (every operation but the public ones says so and
    may answer 401): the console's session cookie, and the bearer token when ``bearer`` (a
    token is configured; with an admin password alone only the cookie opens it)."""
    requirement = _security(bearer) if secured else []
    schemas = _Schemas()
    error_ref = schemas.ref(ErrorReply, "serialization")
    paths: dict[str, dict[str, Any]] = {}
    for operation in operations:
        entry: dict[str, Any] = {
            "operationId": operation.operation_id,
            "summary": operation.summary,
            "tags": [operation.tag],
            "responses": _responses(operation, schemas, error_ref, secured),
        }
        if operation.description:
            entry["description"] = operation.description
        if parameters := _parameters(operation):
            entry["parameters"] = parameters
        if (body := _request_body(operation, schemas)) is not None:
            entry["requestBody"] = body
        if secured:
            entry["security"] = [] if operation.public else requirement
        paths.setdefault(openapi_path(operation.path), {})[operation.method.lower()] = entry
    resolved, definitions = schemas.build()
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version, "description": description},
        "tags": [{"name": name, "description": text} for name, text in tags],
        "paths": _resolve(paths, resolved),
        "components": {"schemas": definitions},
    }
    if secured:
        schemes: dict[str, Any] = {}
        if bearer:
            schemes["bearer"] = {
                "type": "http", "scheme": "bearer",
                "description": "The [api] token (or VISTTER_API_TOKEN) of the appliance.",
            }
        schemes["session"] = {
            "type": "apiKey", "in": "cookie", "name": SESSION_COOKIE,
            "description": "The console login's cookie, set by POST /api/login (HttpOnly, "
            f"SameSite=Strict). A POST, PUT or DELETE with it carries the session's CSRF token "
            f"(answered by the login) in the {CSRF_HEADER} header, else 403.",
        }
        document["components"]["securitySchemes"] = schemes
        document["security"] = requirement
    return _plain_numbers(document)  # type: ignore[no-any-return]


def _security(bearer: bool) -> list[dict[str, list[str]]]:
    """Either credential opens an operation: the bearer token (when configured) or the
    session cookie."""
    return [{"bearer": []}, {"session": []}] if bearer else [{"session": []}]


TITLE = "Vistter control API"
DESCRIPTION = (
    "The HTTP control API of a Vistter appliance: the supervision tree, the show (GO LIVE, live "
    "controls, overrides), the timeline library, assets and destinations. Every error is JSON "
    "{error, problem, hint}; a document's problems are listed with their field paths."
)
TAGS = (
    ("appliance", "Health, the supervision tree and the status of the program."),
    ("show", "The show's orchestrator: load, GO LIVE, live controls and manual overrides."),
    ("library", "Stored timelines, their validation, import and export, and run history."),
    ("assets", "Images and videos that timelines use."),
    ("destinations", "Where the program goes, added and removed while live."),
    ("cameras", "The cameras: state, thumbnails, PTZ presets."),
    ("console", "The operator console's live feeds."),
)


def external_operations() -> list[Operation]:
    """The console's API routes (served by :mod:`vistter.console`), for the document only."""
    unavailable = {503: "There is no telemetry bus, or every stream slot is taken."}
    return [
        Operation("GET", "/api/events", None,
                  "The telemetry bus as Server-Sent Events (?topics=prefix,prefix).",
                  {200: Reply("An endless event stream.", None, media_type="text/event-stream")},
                  parameters=[], errors=unavailable, tag="console"),
        Operation("GET", "/api/telemetry/latest", None,
                  "The latest metrics messages, for a page that polls.",
                  {200: Reply("latest and stream figures.", LooseObject)}, errors=unavailable,
                  tag="console"),
    ]


def contract_routes(
    operations: list[Operation], *, version: str, secured: bool, bearer: bool = True,
) -> list[Route]:
    """``GET /api/openapi.json`` and ``GET /api/docs`` for ``operations`` (and themselves).

    The document is built on the first request (in a worker thread: it takes a few tens of
    milliseconds) and kept; both endpoints run in the event loop thread.
    """
    cache: dict[str, Any] = {}
    listed = [
        *operations,
        Operation("GET", "/api/openapi.json", None, "This document (OpenAPI 3.1).",
                  {200: Reply("The OpenAPI document.", LooseObject)}),
        Operation("GET", "/api/docs", None, "This document as a readable page.",
                  {200: Reply("An HTML page.", None, media_type="text/html")}),
    ]

    def build() -> dict[str, Any]:
        document = openapi_document(listed, title=TITLE, version=version,
                                    description=DESCRIPTION, tags=TAGS, secured=secured,
                                    bearer=bearer)
        return {"document": document, "page": render_docs(document)}

    async def built() -> dict[str, Any]:
        if not cache:
            cache.update(await run_in_threadpool(build))
        return cache

    async def openapi(request: Request) -> JSONResponse:
        return JSONResponse((await built())["document"], headers=NO_STORE)

    async def docs(request: Request) -> HTMLResponse:
        return HTMLResponse((await built())["page"], headers={
            **NO_STORE,
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
            "X-Content-Type-Options": "nosniff",
        })

    return [
        Route("/api/openapi.json", openapi, methods=["GET"], name="openapi"),
        Route("/api/docs", docs, methods=["GET"], name="docs"),
    ]
