"""The control API's contract: each route is an :class:`Operation` that names its body model,
its parameters and its answers, and both the Starlette route and the OpenAPI document are
made from it.

A route that takes a JSON body declares it as a :class:`ModelBody` (the operation parses and
validates the body with the model and hands the endpoint the result: a body the model refuses
is a 400 listing every problem with its field path), a :class:`DocumentBody` (the endpoint
gets the parsed JSON and validates it with the same model itself, to list every problem of a
document as a 422), or a :class:`RawBody` (the endpoint streams the body itself). Because the
schema in ``/api/openapi.json`` is generated from the very model that parses the body, the two
cannot drift apart.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from vistter.api.body import read_json
from vistter.api.errors import BadRequestError
from vistter.models.problems import problems_from_validation_error

__all__ = [
    "Body",
    "DocumentBody",
    "ModelBody",
    "Operation",
    "Parameter",
    "RawBody",
    "Reply",
    "openapi_path",
]

Endpoint = Callable[..., Awaitable[Response]]
"""``endpoint(request)`` for an operation without a parsed body, ``endpoint(request, body)``
with one (the body as its :class:`ModelBody` or :class:`DocumentBody` parsed it)."""

_CONVERTOR = re.compile(r"\{(\w+):\w+\}")
_MAX_LISTED_PROBLEMS = 5


def openapi_path(starlette_path: str) -> str:
    """``/api/timelines/{record_id:int}`` -> ``/api/timelines/{record_id}``."""
    return _CONVERTOR.sub(r"{\1}", starlette_path)


def adapter(model: type[BaseModel] | TypeAdapter[Any]) -> TypeAdapter[Any]:
    """A model class or a type adapter, as a type adapter."""
    return model if isinstance(model, TypeAdapter) else TypeAdapter(model)


@dataclass(frozen=True)
class ModelBody:
    """A JSON body parsed by ``model``; the endpoint receives the model instance.

    ``problem`` and ``hint`` are the 400 answer's when the model refuses the body (the
    problem lists the field paths). ``optional``: an empty body means the model's defaults.
    """

    model: type[BaseModel] | TypeAdapter[Any]
    problem: str
    hint: str
    optional: bool = False

    async def parse(self, request: Request) -> object:
        """Event loop thread. Raises 415, 413 or 422 (see :func:`read_json`), or 400."""
        if self.optional and not (await request.body()).strip():
            data: object = {}
        else:
            data = await read_json(request)
        try:
            return adapter(self.model).validate_python(data)
        except ValidationError as error:
            problems = problems_from_validation_error(error, data)
            paths = [p.path for p in problems]
            if not isinstance(self.model, type):  # a union: pydantic names the member first
                paths = [path.partition(".")[2] for path in paths]
            listed = "; ".join(dict.fromkeys(
                f"{path or '(body)'}: {p.message}"
                for path, p in zip(paths[:_MAX_LISTED_PROBLEMS], problems, strict=False)
            ))
            more = len(problems) - _MAX_LISTED_PROBLEMS
            listed += f"; and {more} more" if more > 0 else ""
            raise BadRequestError(f"{self.problem} ({listed})", hint=self.hint) from None


@dataclass(frozen=True)
class DocumentBody:
    """A JSON document the endpoint validates itself with ``model`` (to answer 422 with every
    problem); the endpoint receives the parsed JSON."""

    model: type[BaseModel] | TypeAdapter[Any]
    description: str = ""

    async def parse(self, request: Request) -> object:
        """Event loop thread. Raises 415, 413 or 422 (see :func:`read_json`)."""
        return await read_json(request)


@dataclass(frozen=True)
class RawBody:
    """A body the endpoint reads itself (a file's bytes); ``content`` maps media types to the
    schema of what they carry (a model, or a plain JSON schema)."""

    content: Mapping[str, type[BaseModel] | TypeAdapter[Any] | dict[str, Any]]
    description: str = ""


Body = ModelBody | DocumentBody | RawBody


@dataclass(frozen=True)
class Parameter:
    """A path or query parameter, with its JSON schema."""

    name: str
    where: str  # "path" or "query"
    schema: dict[str, Any]
    description: str = ""
    required: bool = True


@dataclass(frozen=True)
class Reply:
    """One documented answer: its model (``None``: no body schema) and media type.

    ``links`` name the operations this answer leads to (OpenAPI links, used by stateful
    clients and fuzzers): ``{name: (operation id, {parameter: runtime expression})}``, e.g.
    ``{"get": ("get_api_timelines_record_id", {"record_id": "$response.body#/id"})}``.
    """

    description: str
    model: type[BaseModel] | TypeAdapter[Any] | None = None
    media_type: str = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)
    links: Mapping[str, tuple[str, Mapping[str, str]]] = field(default_factory=dict)


@dataclass(frozen=True)
class Operation:
    """One route of the control API: method, Starlette path, endpoint, body and answers.

    ``errors`` lists the error statuses beyond those every operation can answer (the body's
    400/413/415/422 are added for an operation with a body). ``endpoint`` is ``None`` for a
    route another module serves (the console's), listed here only to be documented.
    """

    method: str
    path: str
    endpoint: Endpoint | None
    summary: str
    replies: Mapping[int, Reply]
    body: Body | None = None
    parameters: Sequence[Parameter] = ()
    errors: Mapping[int, str] = field(default_factory=dict)
    tag: str = "appliance"
    description: str = ""
    public: bool = False

    @property
    def operation_id(self) -> str:
        """A stable id, e.g. ``post_api_show_jump``."""
        cleaned = re.sub(r"[^A-Za-z0-9]+", "_", openapi_path(self.path)).strip("_")
        return f"{self.method.lower()}_{cleaned}"

    def route(self) -> Route:
        """The Starlette route; the body (if parsed) is passed to the endpoint."""
        body, endpoint = self.body, self.endpoint
        if endpoint is None:
            raise ValueError(f"{self.method} {self.path} is served elsewhere; it has no route here")

        if isinstance(body, ModelBody | DocumentBody):
            parse = body.parse

            async def with_body(request: Request) -> Response:
                return await endpoint(request, await parse(request))

            handler: Endpoint = with_body
        else:
            handler = endpoint
        return Route(self.path, handler, methods=[self.method], name=self.operation_id)
