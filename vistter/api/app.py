"""The Starlette control API: thin translation from HTTP to injected callables.

The app holds no state of its own. It reads the supervision tree through ``ApiDeps.tree`` and
validates timelines through ``ApiDeps.validate_timeline``; both are plain blocking callables
(typically Pykka asks with a timeout) and run in Starlette's worker thread pool, never in the
event loop thread.

Routes:

* ``GET /api/health`` -- liveness and a summary of the tree (public even with a token);
* ``GET /api/supervision`` -- the live supervision tree;
* ``GET /api/status`` -- what is on air, the encoder and why, sources, destinations;
* ``POST /api/timelines/validate`` -- check a timeline document, list every problem;
* ``POST /api/supervision/restart`` -- restart one actor by its path (``{"path": "..."}``),
  for an operator who wants a stuck part started afresh;
* ``GET /api/destinations`` -- every output's status (stream keys masked);
* ``POST /api/destinations`` -- start an RTMP(S) or SRT destination while live (409 when
  an output with that id exists);
* ``DELETE /api/destinations/{id}`` -- stop one and forget it;
* ``GET /api/openapi.json``, ``GET /api/docs`` -- the contract, generated from the
  :class:`~vistter.api.contract.Operation` of every route (see :mod:`vistter.api.openapi`).

Each route is an :class:`~vistter.api.contract.Operation`: a JSON body is parsed by the model
it documents before the endpoint runs, so the document and the behaviour cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import pykka
from pydantic import TypeAdapter
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute

from vistter.api.alerts import MonitoringDeps, monitoring_operations
from vistter.api.auth import Access, AccessGuard, LoginSettings
from vistter.api.body import BodyLimit
from vistter.api.cameras import CameraDeps, camera_operations
from vistter.api.contract import DocumentBody, ModelBody, Operation, Parameter, Reply
from vistter.api.errors import (
    NO_STORE,
    BadRequestError,
    ErrorGuard,
    HttpExceptionHandler,
    TreeUnavailableError,
    handle_operator_error,
)
from vistter.api.library import LibraryDeps, library_body_limits, library_operations
from vistter.api.live import live_operations
from vistter.api.openapi import contract_routes, external_operations
from vistter.api.platforms import platform_operations
from vistter.api.preview import PreviewDeps, preview_operations
from vistter.api.render_previews import RenderPreviewDeps, render_preview_operations
from vistter.api.replies import (
    DestinationAdded,
    DestinationList,
    DestinationRemoved,
    ErrorReply,
    HealthReply,
    RestartReply,
    StatusReply,
    SupervisionNode,
    ValidationReply,
)
from vistter.api.requests import RestartRequest
from vistter.api.session_routes import session_operations
from vistter.api.show import ShowDeps, show_operations
from vistter.clock import Clock, MonotonicClock
from vistter.console import EventFeed, console_routes
from vistter.errors import OperatorError
from vistter.models.config_source import optional_config_now
from vistter.models.destinations import AnyDestination, LiveDestination
from vistter.models.locators import ProblemLike, problem_json
from vistter.models.quick import parse_destination
from vistter.models.timeline import TimelineDocument

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
TREE_RETRY_AFTER_SECONDS = 5




TreeSnapshot = Callable[[], Mapping[str, Any]]
TimelineValidator = Callable[[object], Sequence[ProblemLike]]
ChildRestarter = Callable[[str], None]


class DestinationControl(Protocol):
    """What the API needs to manage outputs while live (blocking calls, any thread)."""

    def list_destinations(self) -> list[dict[str, Any]]: ...

    def add_destination(self, destination: AnyDestination) -> str: ...

    def remove_destination(self, destination_id: str) -> None: ...


@dataclass(frozen=True)
class ApiDeps:
    """Everything the control API reads or calls.

    ``tree`` returns the supervision tree snapshot (nodes with ``id``, ``path``, ``kind``,
    ``actor``, ``state``, ``restart_type``, ``strategy``, ``restarts``, ``history``, ``pids``,
    ``children``); it may raise :class:`TimeoutError` (or ``pykka.Timeout``) when the tree does
    not answer in time, and ``pykka.ActorDeadError`` when it is not running: both become 503.
    The appliance passes :meth:`~vistter.supervisors.handle.RootSupervisor.tree_now`, read from
    every supervisor's published copy, so a supervisor busy stopping a slow child never delays
    ``GET /api/supervision`` or ``/api/health``.
    ``validate_timeline`` returns every problem of a timeline document (empty: valid); bind the
    appliance config with ``functools.partial(validate_timeline, config=config)``.
    ``started_at`` is a ``clock.monotonic()`` reading taken when the appliance started.
    ``token`` (the ``[api] token`` secret, ``None`` for no authentication) is not shown in
    ``repr``.
    """

    tree: TreeSnapshot
    validate_timeline: TimelineValidator
    started_at: float
    version: str
    token: str | None = field(default=None, repr=False)
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    clock: Clock = field(default_factory=MonotonicClock)
    restart_child: ChildRestarter | None = None
    destinations: DestinationControl | None = None
    status: Callable[[], Mapping[str, Any]] | None = None
    show: ShowDeps | None = None
    """The orchestrator to drive (GO LIVE, pause, overrides): see :mod:`vistter.api.show`."""
    """What is on air, the encoder and why it was chosen, sources, destinations."""
    """Restarts the actor at a tree path such as ``telemetry/system``; raises
    :class:`~vistter.errors.UnknownChildError` (404) or a
    :class:`~vistter.errors.SupervisionError` (409)."""
    library: LibraryDeps | None = None
    """The timeline library, execution log and assets (routes in :mod:`vistter.api.library`)."""
    events: EventFeed | None = None
    monitoring: MonitoringDeps | None = None
    cameras: CameraDeps | None = None
    """The cameras, their state and PTZ presets (routes in :mod:`vistter.api.cameras`)."""
    """Alerts and ``/metrics`` (routes in :mod:`vistter.api.alerts`)."""
    """The telemetry bus, fed to the console's live events (:mod:`vistter.console`)."""
    login: LoginSettings | None = None
    """The console login: admin password hash, session lifetime, login limit
    (:mod:`vistter.api.auth`)."""
    preview: PreviewDeps | None = None
    """The program preview and the camera thumbnails (routes in :mod:`vistter.api.preview`)."""
    render_previews: RenderPreviewDeps | None = None
    """Offline renders of a timeline's range (routes in :mod:`vistter.api.render_previews`)."""


def iter_nodes(tree: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """Every node of a supervision tree snapshot, depth first, the root included."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        stack.extend(reversed(node.get("children") or []))


class _Routes:
    """The endpoints. Each runs in the event loop thread; blocking calls go to the thread
    pool. An :class:`~vistter.errors.OperatorError` they raise becomes a 4xx JSON answer;
    anything else becomes a generic 500 JSON answer and a logged traceback."""

    def __init__(self, deps: ApiDeps) -> None:
        self._deps = deps

    async def _tree(self) -> Mapping[str, Any]:
        try:
            return await run_in_threadpool(self._deps.tree)
        except (TimeoutError, pykka.Timeout):
            raise TreeUnavailableError(
                "The supervision tree did not answer in time; the appliance may be overloaded "
                "or an actor may be stuck.",
                hint="Retry in a few seconds. If it persists, check the appliance log (SIGUSR1 "
                "dumps every thread's stack).",
                headers={"Retry-After": str(TREE_RETRY_AFTER_SECONDS)},
            ) from None
        except pykka.ActorDeadError:
            raise TreeUnavailableError(
                "The supervision tree is not running.",
                hint="The appliance is starting or shutting down; retry in a few seconds, or "
                "check the appliance log for why the root supervisor stopped.",
                headers={"Retry-After": str(TREE_RETRY_AFTER_SECONDS)},
            ) from None

    async def health(self, request: Request) -> JSONResponse:
        tree = await self._tree()
        states = [node.get("state") for node in iter_nodes(tree)]
        running = sum(1 for state in states if state == "running")
        uptime = max(0.0, self._deps.clock.monotonic() - self._deps.started_at)
        return JSONResponse(
            {
                "status": "ok" if running == len(states) else "degraded",
                "version": self._deps.version,
                "uptime_seconds": round(uptime, 3),
                "actors": {"running": running, "total": len(states)},
            },
            headers=NO_STORE,
        )

    async def supervision(self, request: Request) -> JSONResponse:
        return JSONResponse(await self._tree(), headers=NO_STORE)

    async def validate_timeline(self, request: Request, document: object) -> JSONResponse:
        problems = await run_in_threadpool(self._deps.validate_timeline, document)
        body = {
            "valid": not problems,
            "problems": [problem_json(problem) for problem in problems],  # cue/track too
        }
        return JSONResponse(body, status_code=422 if problems else 200, headers=NO_STORE)


    async def restart(self, request: Request, body: RestartRequest) -> JSONResponse:
        path = body.path
        if self._deps.restart_child is None:
            raise BadRequestError(
                "Restarting actors is not available here.",
                hint="Use the appliance's control API.",
            )
        await run_in_threadpool(self._deps.restart_child, path.strip("/"))
        return JSONResponse({"restarted": path.strip("/")}, headers=NO_STORE)


    async def status(self, request: Request) -> JSONResponse:
        if self._deps.status is None:
            raise BadRequestError("Status is not available here.", hint="Use the appliance's API.")
        return JSONResponse(await run_in_threadpool(self._deps.status), headers=NO_STORE)

    def _destinations(self) -> DestinationControl:
        if self._deps.destinations is None:
            raise BadRequestError(
                "Destinations cannot be managed here.", hint="Use the appliance's control API."
            )
        return self._deps.destinations

    async def list_destinations(self, request: Request) -> JSONResponse:
        control = self._destinations()
        return JSONResponse(
            {"destinations": await run_in_threadpool(control.list_destinations)},
            headers=NO_STORE,
        )

    async def add_destination(self, request: Request, document: object) -> JSONResponse:
        control = self._destinations()
        destination, problems = parse_destination(document)
        if destination is None:
            return JSONResponse(
                {
                    "error": "InvalidDestinationError",
                    "problem": "The destination is not valid.",
                    "hint": "Fix the fields listed in problems.",
                    "problems": [p.to_dict() for p in problems],
                },
                status_code=422,
                headers=NO_STORE,
            )
        child = await run_in_threadpool(control.add_destination, destination)
        body = {"id": destination.id, "child": child, "url": destination.display_url}
        return JSONResponse(body, status_code=201, headers=NO_STORE)

    async def remove_destination(self, request: Request) -> JSONResponse:
        control = self._destinations()
        destination_id = str(request.path_params["destination_id"])
        await run_in_threadpool(control.remove_destination, destination_id)
        return JSONResponse({"removed": destination_id}, headers=NO_STORE)


_TREE_DOWN = {503: "The supervision tree did not answer in time or is not running."}
_NOT_HERE = {400: "This app has no appliance behind it (a bare API)."}


def _operations(r: _Routes) -> list[Operation]:
    """The operations of the tree, status, validation and destination routes."""
    destination = DocumentBody(TypeAdapter(LiveDestination),
                               "An RTMP(S) or SRT destination; the key is write-only.")
    return [
        Operation("GET", "/api/health", r.health, "Liveness and a summary of the actor tree.",
                  {200: Reply("ok or degraded.", HealthReply)}, errors=_TREE_DOWN,
                  tag="appliance", public=True),
        Operation("GET", "/api/supervision", r.supervision, "The live supervision tree.",
                  {200: Reply("The root supervisor and its children.", SupervisionNode)},
                  errors=_TREE_DOWN),
        Operation("GET", "/api/status", r.status,
                  "What is on air, the encoder and why, sources, destinations.",
                  {200: Reply("The appliance's status.", StatusReply)}, errors=_NOT_HERE),
        Operation("POST", "/api/timelines/validate", r.validate_timeline,
                  "Check a timeline: every problem with its field path.",
                  {200: Reply("Valid.", ValidationReply),
                   422: Reply("Invalid: the problems (or, for a body that is not JSON, an "
                              "error).", TypeAdapter(ValidationReply | ErrorReply))},
                  body=DocumentBody(TimelineDocument, "A timeline in the spec's JSON format."),
                  tag="library"),
        Operation("POST", "/api/supervision/restart", r.restart,
                  "Restart one actor of the tree by its path.",
                  {200: Reply("Restarted.", RestartReply)},
                  body=ModelBody(RestartRequest, "The body must name the actor to restart.",
                                 'Send {"path": "telemetry/system"}; GET /api/supervision '
                                 "lists the paths."),
                  errors={404: "There is no actor at this path.",
                          409: "This actor cannot be restarted now (or at all: the API).",
                          **_NOT_HERE}),
        Operation("GET", "/api/destinations", r.list_destinations,
                  "Every output's status (stream keys masked).",
                  {200: Reply("The outputs.", DestinationList)}, errors=_NOT_HERE,
                  tag="destinations"),
        Operation("POST", "/api/destinations", r.add_destination,
                  "Start a destination while live.",
                  {201: Reply("Started.", DestinationAdded)}, body=destination,
                  errors={409: "An output with this id exists.",
                          422: "The destination has problems: each with its field path.",
                          **_NOT_HERE}, tag="destinations"),
        Operation("DELETE", "/api/destinations/{destination_id}", r.remove_destination,
                  "Stop a destination and forget it.",
                  {200: Reply("Removed.", DestinationRemoved)},
                  parameters=[Parameter("destination_id", "path",
                                        {"type": "string", "minLength": 1})],
                  errors={404: "There is no destination with this id.", **_NOT_HERE},
                  tag="destinations"),
    ]


def create_app(deps: ApiDeps) -> Starlette:
    """Build the control API app.

    Raises :class:`~vistter.errors.ConfigError` if the token is set but blank. Middleware,
    outermost first: error guard (500 JSON), access guard (401/403, :mod:`vistter.api.auth`),
    body limit (413).
    """
    access = Access(deps.token, deps.login, deps.clock)  # ConfigError for a blank token
    operations = [
        *_operations(_Routes(deps)),
        *library_operations(deps.library),
        *show_operations(deps.show),
        *live_operations(deps.show),
        *session_operations(access),
        *monitoring_operations(deps.monitoring),
        *preview_operations(deps.preview),
        *render_preview_operations(deps.render_previews),
        *camera_operations(deps.cameras),
        *platform_operations(None if deps.show is None else optional_config_now(deps.show.config)),
    ]
    routes: list[BaseRoute] = [operation.route() for operation in operations]
    operations.extend(external_operations())  # the console's (answer 503 without a bus)
    routes.extend(contract_routes(operations, version=deps.version, secured=access.protected,
                                  bearer=access.has_token))
    routes.extend(console_routes(deps.events))  # the page at /, /static, /api/events
    known = ", ".join(
        f"{method} {getattr(route, 'path', '')}"
        for route in routes
        for method in sorted(getattr(route, "methods", None) or ())
        if method != "HEAD"
    )
    return Starlette(
        debug=False,
        routes=routes,
        middleware=[
            Middleware(ErrorGuard),
            Middleware(AccessGuard, access=access,
                       public=[(o.method, o.path) for o in operations if o.public]),
            Middleware(BodyLimit, max_body_bytes=deps.max_body_bytes,
                       path_limits=library_body_limits(deps.library)),
        ],
        exception_handlers={
            HTTPException: HttpExceptionHandler(known, routes),
            OperatorError: handle_operator_error,
        },
    )
